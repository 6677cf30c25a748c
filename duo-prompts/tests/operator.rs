//! Operator directories: overriding and adding definitions, and load errors that name the file
//! and line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use std::fs;
use std::path::Path;

use common::{chat, inputs, text};
use duo_core::ModelFamily;
use duo_prompts::{DefinitionSource, LoadError, LoadErrorKind, PromptRegistry, RenderError};

fn write(dir: &Path, rel: &str, contents: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn load_err(rel: &str, contents: &str) -> LoadError {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), rel, contents);
    let err = PromptRegistry::load(Some(dir.path())).unwrap_err();
    let expected_file = dir.path().join(rel).display().to_string();
    assert_eq!(err.file, expected_file, "{err}");
    assert!(err.to_string().starts_with(&expected_file), "{err}");
    err
}

const GOOD: &str = "name: Granite Completions\nkind: text\nunit_primitive: complete_code\nmodel:\n  params:\n    max_tokens: 32\nparams:\n  timeout: 5\n  stop: [\"<fim_prefix>\"]\nrequired_inputs: [prefix, suffix]\nprompt_template:\n  user: \"<fim_prefix>{{ prefix }}<fim_suffix>{{ suffix }}<fim_middle>\"\n";

#[test]
fn operator_files_override_builtins_and_add_families() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "code_suggestions/completions/codestral/1.0.0.yml",
        "name: Operator Codestral\nunit_primitive: complete_code\nprompt_template:\n  system: Complete code.\n  user: \"{{ prefix }}<CURSOR>{{ suffix }}\"\n",
    );
    write(
        dir.path(),
        "code_suggestions/completions/granite/1.0.0.yml",
        GOOD,
    );
    write(
        dir.path(),
        "code_suggestions/completions/granite/1.1.0-dev.yml",
        &GOOD.replace("Granite Completions", "Granite Dev"),
    );
    write(dir.path(), "README.md", "ignored: not a definition");
    let r = PromptRegistry::load(Some(dir.path())).unwrap();
    let fim = inputs(&[("prefix", "a".into()), ("suffix", "b".into())]);

    let codestral = r
        .resolve(
            "code_suggestions/completions",
            &ModelFamily::Codestral,
            "^1.0.0",
        )
        .unwrap();
    assert_eq!(codestral.name(), "Operator Codestral");
    let msgs = chat(&codestral.render(&fim).unwrap().prompt).to_vec();
    assert_eq!(msgs[1].content, "a<CURSOR>b");
    assert!(codestral.params().stop.is_empty());

    let granite = ModelFamily::parse("granite");
    let def = r
        .resolve("code_suggestions/completions", &granite, "^1.0.0")
        .unwrap();
    assert_eq!(def.name(), "Granite Completions");
    assert_eq!(
        text(&def.render(&fim).unwrap().prompt),
        "<fim_prefix>a<fim_suffix>b<fim_middle>"
    );
    assert_eq!(
        def.params().timeout,
        Some(std::time::Duration::from_secs(5))
    );
    // Pre-releases only when asked for explicitly.
    let dev = r
        .resolve("code_suggestions/completions", &granite, "^1.1.0-dev")
        .unwrap();
    assert_eq!(dev.name(), "Granite Dev");
    // A family with an operator folder falls back to base for prompts it lacks.
    let explain = r.resolve("chat/explain_code", &granite, "^1.0.0").unwrap();
    assert_eq!(explain.family_folder(), "base");

    let list = r.list();
    let operator: Vec<_> = list
        .iter()
        .filter(|d| d.source == DefinitionSource::Operator)
        .map(|d| format!("{}/{}/{}", d.prompt_id, d.family_folder, d.version))
        .collect();
    assert_eq!(
        operator,
        [
            "code_suggestions/completions/codestral/1.0.0",
            "code_suggestions/completions/granite/1.0.0",
            "code_suggestions/completions/granite/1.1.0-dev",
        ]
    );
    assert_eq!(
        list.len(),
        PromptRegistry::builtin().unwrap().list().len() + 2
    );
}

#[test]
fn an_operator_partial_replaces_the_builtin_one_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "chat/explain_code/system.jinja",
        "Explain like a pirate.\n",
    );
    let r = PromptRegistry::load(Some(dir.path())).unwrap();
    let def = r
        .resolve("chat/explain_code", &ModelFamily::Gpt, "^1.0.0")
        .unwrap();
    let msgs = chat(&def.render(&serde_json::Map::new()).unwrap().prompt).to_vec();
    assert_eq!(msgs[0].content, "Explain like a pirate.");
}

#[test]
fn bad_yaml_names_file_and_line() {
    let err = load_err(
        "x/base/1.0.0.yml",
        "name: ok\nunit_primitive: complete_code\nprompt_template: [unclosed\n",
    );
    assert!(matches!(err.kind, LoadErrorKind::Yaml(_)), "{err}");
    assert!(err.line.is_some(), "{err}");
}

#[test]
fn unknown_keys_are_errors_with_their_line() {
    let err = load_err(
        "x/base/1.0.0.yml",
        "name: ok\nunit_primitive: complete_code\ntemperture: 3\nprompt_template:\n  user: hi\n",
    );
    assert!(
        matches!(&err.kind, LoadErrorKind::Yaml(m) if m.contains("temperture")),
        "{err}"
    );
    assert_eq!(err.line, Some(3), "{err}");
    let err = load_err(
        "x/base/1.0.0.yml",
        "name: ok\nunit_primitive: complete_code\nprompt_template:\n  user: hi\n  tool: no\n",
    );
    assert!(
        matches!(&err.kind, LoadErrorKind::Yaml(m) if m.contains("tool")),
        "{err}"
    );
}

#[test]
fn template_syntax_errors_name_the_line_in_the_file() {
    let err = load_err(
        "x/base/1.0.0.yml",
        "name: ok\nunit_primitive: complete_code\nprompt_template:\n  system: fine\n  user: |\n    line one\n    {% if a %}\n    never closed\n",
    );
    assert!(
        matches!(&err.kind, LoadErrorKind::TemplateSyntax { template, .. } if template == "user"),
        "{err}"
    );
    let line = err.line.unwrap();
    assert!((7..=9).contains(&line), "{err}");
    let err = load_err("x/broken.jinja", "ok\n{{ unclosed \n");
    assert!(
        matches!(&err.kind, LoadErrorKind::TemplateSyntax { template, .. } if template == "x/broken.jinja"),
        "{err}"
    );
    assert!(err.line.is_some(), "{err}");
}

#[test]
fn unknown_includes_fail_the_load() {
    let err = load_err(
        "x/base/1.0.0.yml",
        "name: ok\nunit_primitive: complete_code\nprompt_template:\n  user: |\n    hello\n    {% include 'x/missing.jinja' %}\n",
    );
    assert_eq!(
        err.kind,
        LoadErrorKind::UnknownInclude {
            name: "x/missing.jinja".into()
        }
    );
    assert_eq!(err.line, Some(6), "{err}");
    // Also inside a branch that an empty render would never reach, and inside partials.
    let err = load_err(
        "x/part.jinja",
        "{% if deep %}{% include 'nope.jinja' %}{% endif %}",
    );
    assert_eq!(
        err.kind,
        LoadErrorKind::UnknownInclude {
            name: "nope.jinja".into()
        }
    );
}

#[test]
fn unknown_unit_primitives_fail_the_load() {
    let err = load_err(
        "x/base/1.0.0.yml",
        "name: ok\n\nunit_primitive: teleport\nprompt_template:\n  user: hi\n",
    );
    assert_eq!(
        err.kind,
        LoadErrorKind::UnknownUnitPrimitive {
            value: "teleport".into()
        }
    );
    assert_eq!(err.line, Some(3));
}

#[test]
fn inconsistent_definitions_fail_the_load() {
    let cases = [
        // a required input no template reads (a typo)
        "name: ok\nunit_primitive: complete_code\nrequired_inputs: [prefx]\nprompt_template:\n  user: \"{{ prefix }}\"\n",
        // raw text with a system turn
        "name: ok\nkind: text\nunit_primitive: complete_code\nprompt_template:\n  system: s\n  user: u\n",
        // no user turn
        "name: ok\nunit_primitive: complete_code\nprompt_template:\n  system: s\n",
        // a nonsensical timeout
        "name: ok\nunit_primitive: complete_code\nparams:\n  timeout: -1\nprompt_template:\n  user: u\n",
    ];
    for case in cases {
        let err = load_err("x/base/1.0.0.yml", case);
        assert!(
            matches!(err.kind, LoadErrorKind::Invalid(_)),
            "{case}: {err}"
        );
    }
    let err = load_err(
        "x/base/1.0.0.yml",
        "name: ok\nunit_primitive: complete_code\nkind: binary\nprompt_template:\n  user: u\n",
    );
    assert!(matches!(err.kind, LoadErrorKind::Yaml(_)), "{err}");
}

#[test]
fn bad_paths_fail_the_load() {
    for rel in ["x/base/latest.yml", "toplevel.yml", "x/1.0.0.yml"] {
        let err = load_err(rel, GOOD);
        assert!(
            matches!(err.kind, LoadErrorKind::BadPath(_)),
            "{rel}: {err}"
        );
    }
}

#[test]
fn a_missing_operator_dir_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = PromptRegistry::load(Some(&missing)).unwrap_err();
    assert_eq!(err.file, missing.display().to_string());
    assert!(matches!(err.kind, LoadErrorKind::Io(_)));
}

#[test]
fn printing_an_undeclared_optional_variable_is_a_missing_variable() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "greet/base/1.0.0.yml",
        "name: Greet\nunit_primitive: duo_chat\nprompt_template:\n  user: \"Hello {{ user_name }}{% if title %}, {{ title }}{% endif %}!\"\n",
    );
    let r = PromptRegistry::load(Some(dir.path())).unwrap();
    let def = r.resolve("greet", &ModelFamily::Gpt, "^1.0.0").unwrap();
    assert_eq!(def.variables(), ["title", "user_name"]);
    assert_eq!(
        def.render(&serde_json::Map::new()).unwrap_err(),
        RenderError::MissingVariable {
            name: "user_name".into()
        }
    );
    let ok = def.render(&inputs(&[("user_name", "Ada".into())])).unwrap();
    assert_eq!(chat(&ok.prompt)[0].content, "Hello Ada!");
    // An unknown family with a folder only for another prompt is still a known family.
    assert!(
        r.resolve("greet", &ModelFamily::parse("nothing"), "^1.0.0")
            .is_err()
    );
}
