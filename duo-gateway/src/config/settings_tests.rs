//! Every settable key is in `--help` ([`SETTINGS_HELP`]) and in the docs that own its section,
//! under the environment name the loader reads; nothing documented is refused at start.
//!
//! The keys are read from the definition that parses them: a TOML table holding an unknown key
//! makes serde (`deny_unknown_fields`) name every field the struct has, so probing each table
//! walks the whole configuration without a second list to keep in step.

use std::collections::BTreeSet;

use figment::Figment;
use figment::error::Kind;
use figment::providers::{Format, Toml};

use super::{Config, SETTINGS_HELP};

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

/// The environment variable the loader maps onto `key` (`__` between levels).
fn env_name(key: &str) -> String {
    format!("AIGW_{}", key.replace('.', "__").to_ascii_uppercase())
}

/// `(key, environment name or None for TOML-only)` of each setting line of the help.
fn help_rows() -> Vec<(String, Option<String>)> {
    SETTINGS_HELP
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let key = words.next()?;
            let is_key = key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
            if !is_key {
                return None; // a heading or a note
            }
            let second = words.next()?;
            if second.starts_with("AIGW_") {
                Some((key.to_owned(), Some(second.to_owned())))
            } else if second == "(TOML" {
                Some((key.to_owned(), None))
            } else {
                None
            }
        })
        .collect()
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
fn every_setting_is_in_the_help_under_the_name_the_loader_reads() {
    let leaves = leaves();
    let rows = help_rows();
    let in_help: BTreeSet<String> = rows.iter().map(|(key, _)| key.clone()).collect();
    let missing: Vec<_> = leaves.difference(&in_help).collect();
    assert!(
        missing.is_empty(),
        "settable but not in --help: {missing:?}"
    );
    let unknown: Vec<_> = in_help.difference(&leaves).collect();
    assert!(
        unknown.is_empty(),
        "in --help but refused at start: {unknown:?}"
    );
    for (key, env) in rows {
        if let Some(env) = env {
            assert_eq!(env, env_name(&key), "the help's variable for {key}");
        }
    }
}

/// The docs that own settings, and the sections each must document in full.
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
fn the_docs_document_every_setting_of_their_sections() {
    let leaves = leaves();
    for (doc, text, sections) in DOCS {
        for key in leaves.iter().filter(|key| {
            sections
                .iter()
                .any(|s| *key == s || key.starts_with(&format!("{s}.")))
        }) {
            let env = env_name(key);
            assert!(
                text.contains(&env) || text.contains(&format!("`{key}`")),
                "{doc} does not document {key} ({env})"
            );
        }
    }
}

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
