//! The settings table (`settings.rs`, which `--help` and the README's settings section are
//! rendered from) lists exactly the keys the config structs accept; the docs that own a section
//! document each of its keys under the environment name the loader reads; nothing documented is
//! refused at start.
//!
//! The keys are read from the definition that parses them: a TOML table holding an unknown key
//! makes serde (`deny_unknown_fields`) name every field the struct has, so probing each table
//! walks the whole configuration without a second list to keep in step.

use std::collections::BTreeSet;

use figment::Figment;
use figment::error::Kind;
use figment::providers::{Format, Toml};

use super::Config;
use super::settings::GROUPS;
use super::settings_render::{env_name, in_sections, settings_help, settings_markdown_of};

/// A key no struct has.
const PROBE: &str = "zzz_not_a_setting";

/// The fields of the table at `path`, or `None` when `path` is not a table of settings.
fn fields_of(path: &[String]) -> Option<Vec<&'static str>> {
    let mut toml = String::new();
    if !path.is_empty() {
        toml.push_str(&format!("[{}]\n", path.join(".")));
    }
    toml.push_str(&format!("{PROBE} = 1\n"));
    let errors = Figment::from(Toml::string(&toml))
        .extract::<Config>()
        .err()?;
    errors.into_iter().find_map(|e| match e.kind {
        Kind::UnknownField(field, expected) if field == PROBE => Some(expected.to_vec()),
        _ => None,
    })
}

/// Every settable key (a leaf: a value, a list, or a list of tables), dot-separated.
fn leaves() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        match fields_of(&path) {
            Some(fields) => {
                assert!(!fields.is_empty(), "no fields at {path:?}");
                for field in fields {
                    let mut child = path.clone();
                    child.push(field.to_owned());
                    todo.push(child);
                }
            }
            None => {
                out.insert(path.join("."));
            }
        }
    }
    out
}

#[test]
fn the_probe_finds_the_known_tables_and_keys() {
    let leaves = leaves();
    for key in [
        "fastapi.api_port",
        "gitlab_url",
        "auth.jwks_cache_ttl_s",
        "logging.user_id_salt",
        "providers.resilience.total_timeout",
        "providers.bedrock.endpoint_url",
        "readiness.models",
    ] {
        assert!(leaves.contains(key), "{key} not found in {leaves:?}");
    }
    assert!(!leaves.contains("providers"), "a table is not a leaf");
    assert!(leaves.len() > 50, "{}", leaves.len());
}

#[test]
fn the_table_lists_exactly_the_settable_keys() {
    let leaves = leaves();
    let table: BTreeSet<String> = GROUPS
        .iter()
        .flat_map(|g| g.settings.iter())
        .map(|s| s.key.to_owned())
        .collect();
    let missing: Vec<_> = leaves.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "settable but not in the table: {missing:?}"
    );
    let unknown: Vec<_> = table.difference(&leaves).collect();
    assert!(
        unknown.is_empty(),
        "in the table but refused at start: {unknown:?}"
    );
    // Lists of tables cannot be set from the environment; everything else can.
    let help = settings_help();
    for s in GROUPS.iter().flat_map(|g| g.settings.iter()) {
        let shown = if s.toml_only {
            "(TOML".to_owned()
        } else {
            env_name(s.key)
        };
        assert!(
            help.lines()
                .any(|l| l.split_whitespace().take(2).eq([s.key, shown.as_str()])),
            "--help does not show {} as {shown}",
            s.key
        );
    }
}

#[test]
fn env_names_follow_the_loaders_nesting_rule() {
    assert_eq!(env_name("fastapi.api_port"), "AIGW_FASTAPI__API_PORT");
    assert_eq!(env_name("gitlab_url"), "AIGW_GITLAB_URL");
    // The loader reads exactly that name.
    let variable = env_name("providers.resilience.max_retries");
    let config = super::tests::load_with("", &[(variable.as_str(), "7")]).expect("loads");
    assert_eq!(config.providers.resilience.max_retries, 7);
}

/// Where a generated settings section ends (each starts with a marker naming its source).
const END: &str = "<!-- /settings -->";

/// Checks that the generated section of `doc` (a path from the workspace root) starting at
/// `begin` is `expected`; with `DUO_UPDATE_DOCS` set, rewrites it instead.
fn check_generated(doc: &str, begin: &str, expected: &str) {
    let path = format!("{}/../{doc}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let Some(start) = text.find(begin) else {
        panic!("{doc} has no generated settings section ({begin:?} … {END:?})");
    };
    let body = start + begin.len();
    let Some(end) = text[body..].find(END).map(|at| body + at) else {
        panic!("{doc}'s generated settings section has no end ({END:?})");
    };
    if &text[body..end] == expected {
        return;
    }
    if std::env::var_os("DUO_UPDATE_DOCS").is_some() {
        std::fs::write(
            &path,
            format!("{}{expected}{}", &text[..body], &text[end..]),
        )
        .unwrap();
    } else {
        panic!(
            "{doc}'s settings section is stale: run \
             `DUO_UPDATE_DOCS=1 cargo test -p duo-gateway --lib settings_tests` and commit it"
        );
    }
}

/// The README documents the default build (with the OpenAI-compatible API).
#[cfg(feature = "openai-api")]
#[test]
fn the_readme_settings_section_is_the_rendered_table() {
    check_generated(
        "duo-gateway/README.md",
        "<!-- settings: generated from duo-gateway/src/config/settings.rs -->\n",
        &super::settings_render::settings_markdown(),
    );
}

/// The docs that own settings, and the sections whose table each shows.
const DOCS: &[(&str, &str, &[&str])] = &[
    (
        "duo-auth/AUTH.md",
        include_str!("../../../duo-auth/AUTH.md"),
        &[
            "gitlab_url",
            "customer_portal_url",
            "auth",
            "self_signed_jwt",
        ],
    ),
    (
        "duo-logging/README.md",
        include_str!("../../../duo-logging/README.md"),
        &["logging"],
    ),
    #[cfg(feature = "openai-api")]
    (
        "duo-openai-api/OPENAI_API.md",
        include_str!("../../../duo-openai-api/OPENAI_API.md"),
        &["openai_api"],
    ),
];

#[test]
fn each_docs_settings_table_is_rendered_from_the_table() {
    for (doc, _, sections) in DOCS {
        let begin = format!(
            "<!-- settings: generated from duo-gateway/src/config/settings.rs ({}) -->\n",
            sections.join(", ")
        );
        let expected = settings_markdown_of(sections);
        // Every settable key of those sections is a row (the table holds every key: above).
        for key in leaves().iter().filter(|k| in_sections(k, sections)) {
            assert!(expected.contains(&format!("| `{key}` |")), "{doc}: {key}");
        }
        check_generated(doc, &begin, &expected);
    }
}

/// Other pages that name settings (each name must exist; they need not list every one).
const PAGES: &[(&str, &str)] = &[
    ("README.md", include_str!("../../../README.md")),
    ("duo-gateway/README.md", include_str!("../../README.md")),
    (
        "duo-providers/README.md",
        include_str!("../../../duo-providers/README.md"),
    ),
];

#[test]
fn every_variable_the_docs_name_is_read() {
    let known: BTreeSet<String> = leaves().iter().map(|k| env_name(k)).collect();
    let pages = DOCS
        .iter()
        .map(|(doc, text, _)| (*doc, *text))
        .chain(PAGES.iter().copied());
    for (doc, text) in pages {
        for (at, _) in text.match_indices("AIGW_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let next = text[at + name.len()..].chars().next();
            // `AIGW_FASTAPI__*`, `AIGW_LOGGING__<FIELD>` and a bare `AIGW_` name a family.
            if matches!(next, Some('*' | '<')) || name.ends_with('_') {
                continue;
            }
            assert!(
                known.contains(&name),
                "{doc} names {name}, which nothing reads"
            );
        }
    }
}
