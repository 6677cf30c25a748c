//! Resolution: prompt ids, family fallback, version constraints, listing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::registry;
use duo_core::{Feature, ModelFamily};
use duo_prompts::{DefinitionSource, PromptKind, ResolveError};

#[test]
fn family_fallback_follows_the_reference_order() {
    let r = registry();
    let folder = |id: &str, family: &str| {
        r.resolve(id, &ModelFamily::parse(family), "^1.0.0")
            .unwrap()
            .family_folder()
            .to_owned()
    };
    let completions = "code_suggestions/completions";
    assert_eq!(folder(completions, "codestral"), "codestral");
    assert_eq!(folder(completions, "mixtral"), "mistral");
    assert_eq!(folder(completions, "claude_3"), "base");
    // codestral → mistral → base where codestral has no folder of its own.
    assert_eq!(folder("chat/explain_code", "codestral"), "mistral");
    assert_eq!(folder("chat/explain_code", "mixtral"), "mistral");
    assert_eq!(folder("chat/explain_code", "llama3"), "base");
    assert_eq!(folder("chat/explain_code", "claude_3"), "base");
    assert_eq!(folder("code_suggestions/generations", "mixtral"), "mixtral");
    assert_eq!(
        folder("code_suggestions/generations", "codestral"),
        "codestral"
    );
}

#[test]
fn an_unknown_family_is_unsupported_not_silently_base() {
    let r = registry();
    let err = r
        .resolve(
            "chat/explain_code",
            &ModelFamily::parse("granite"),
            "^1.0.0",
        )
        .unwrap_err();
    assert_eq!(
        err,
        ResolveError::UnsupportedFamily {
            family: "granite".into()
        }
    );
    assert_eq!(err.to_string(), "Model family 'granite' is not supported");
}

#[test]
fn highest_matching_version_wins() {
    let r = registry();
    let general = ModelFamily::General;
    let id = "summarize_review";
    assert_eq!(
        r.resolve(id, &general, "^1.0.0")
            .unwrap()
            .version()
            .to_string(),
        "1.0.0"
    );
    assert_eq!(
        r.resolve(id, &general, "^2.0.0")
            .unwrap()
            .version()
            .to_string(),
        "2.0.0"
    );
    assert_eq!(
        r.resolve(id, &general, ">=1.0.0")
            .unwrap()
            .version()
            .to_string(),
        "2.0.0"
    );
    assert_eq!(
        r.resolve("code_suggestions/generations", &general, "^2.0.1")
            .unwrap()
            .version()
            .to_string(),
        "2.0.1"
    );
    let err = r
        .resolve("chat/explain_code", &general, "^2.0.0")
        .unwrap_err();
    assert!(
        matches!(&err, ResolveError::NoMatchingVersion { prompt_id, family_folder, available, .. }
            if prompt_id == "chat/explain_code" && family_folder == "base" && available == "1.0.0"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("No prompt version found matching the query")
    );
    // A family folder that exists but lacks the version does not fall back to base.
    let err = r
        .resolve("summarize_review", &ModelFamily::Mistral, "^2.0.0")
        .unwrap_err();
    assert!(
        matches!(err, ResolveError::NoMatchingVersion { ref family_folder, .. } if family_folder == "mistral")
    );
}

#[test]
fn bad_constraints_are_invalid() {
    let r = registry();
    for bad in ["not-a-version", "^^1", "1.0.0.0", ""] {
        let err = r
            .resolve("chat/explain_code", &ModelFamily::Gpt, bad)
            .unwrap_err();
        assert!(
            matches!(err, ResolveError::InvalidConstraint { ref constraint, .. } if constraint == bad),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn malformed_and_unknown_ids_are_not_found() {
    let r = registry();
    for id in [
        "../chat/explain_code",
        "chat/../chat/explain_code",
        "/chat/explain_code",
        "chat//explain_code",
        "chat/explain_code/",
        "chat\\explain_code",
        "chat/explain_code/base",
        "chat/./explain_code",
        "chat/no_such_prompt",
        "",
        "..",
        "/etc/passwd",
        "chat/explain_code\0",
        "chat/%2e%2e",
    ] {
        let err = r.resolve(id, &ModelFamily::Gpt, "^1.0.0").unwrap_err();
        assert_eq!(
            err,
            ResolveError::NotFound {
                prompt_id: id.into()
            },
            "{id:?}"
        );
        assert!(!r.contains(id), "{id:?}");
    }
    assert_eq!(
        ResolveError::NotFound {
            prompt_id: "x/y".into()
        }
        .to_string(),
        "Prompt 'x/y' not found"
    );
    assert!(r.contains("chat/explain_code"));
}

#[test]
fn every_feature_of_the_contract_has_a_base_definition_with_its_unit_primitive() {
    let r = registry();
    for feature in Feature::ALL {
        let def = r
            .resolve(feature.prompt_id(), &ModelFamily::General, "^1.0.0")
            .unwrap_or_else(|e| panic!("{feature}: {e}"));
        assert_eq!(def.family_folder(), "base");
        assert_eq!(def.unit_primitive(), feature.unit_primitive(), "{feature}");
        assert!(r.prompt_ids().contains(&feature.prompt_id()));
    }
    let check = r
        .resolve("model_configuration/check", &ModelFamily::Gpt, "^1.0.0")
        .unwrap();
    assert_eq!(check.params().max_tokens, Some(16));
}

#[test]
fn list_returns_every_builtin_once_sorted() {
    let r = registry();
    let list = r.list();
    assert!(list.len() >= 50, "{}", list.len());
    assert!(list.iter().all(|d| d.source == DefinitionSource::Builtin));
    let keys: Vec<_> = list
        .iter()
        .map(|d| {
            (
                d.prompt_id.clone(),
                d.family_folder.clone(),
                d.version.clone(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
    let raw: Vec<_> = list
        .iter()
        .filter(|d| d.kind == PromptKind::Text)
        .map(|d| d.family_folder.as_str())
        .collect();
    assert_eq!(
        raw,
        [
            "codegemma",
            "codellama",
            "codestral",
            "deepseekcoder",
            "qwen2p5-coder-7b"
        ]
    );
    for id in ["chat/react", "chat/fix_code", "glab_ask_git_command"] {
        assert!(
            list.iter()
                .any(|d| d.prompt_id == id && d.family_folder == "base")
        );
        assert!(
            list.iter()
                .any(|d| d.prompt_id == id && d.family_folder == "mistral")
        );
    }
    assert!(r.family_folders().any(|f| f == "base"));
}

#[test]
fn passthrough_prompts_get_the_family_stop_sequences() {
    let r = registry();
    let stops = r
        .stop_sequences("code_suggestions/completions", &ModelFamily::CodeGemma)
        .unwrap();
    assert_eq!(stops.len(), 4);
    assert_eq!(stops[3], "<|file_separator|>");
    let def = r
        .resolve(
            "code_suggestions/completions",
            &ModelFamily::Codestral,
            "^1.0.0",
        )
        .unwrap();
    let prompt = duo_core::Prompt::Text("client-built FIM text {{ not a template }}".into());
    let req = def.passthrough(prompt.clone());
    assert_eq!(req.prompt, prompt);
    assert_eq!(req.params.stop[0], "[INST]");
    assert_eq!(req.params.max_tokens, Some(64));
}
