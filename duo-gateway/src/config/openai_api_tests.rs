//! `[openai_api]` read through the gateway's layers (TOML, `AIGW_OPENAI_API__*`) and checked with
//! the rest of the configuration.

use std::path::Path;

use super::tests::load_with as load;

const TOML: &str = r#"
[openai_api]
api_keys = ["sk-plain-secret", { name = "ci-bot", key = "sk-named-secret" }]

[[openai_api.models]]
name = "codestral"
identifier = "custom_openai/Codestral-22B"
endpoint = "http://vllm:8000/v1"
api_key = "upstream-secret"
family = "codestral"

[[openai_api.models]]
name = "claude"
identifier = "bedrock/anthropic.claude-3"
"#;

#[test]
fn the_section_reads_from_toml_and_env() {
    let c = load(
        TOML,
        &[
            ("AIGW_OPENAI_API__ENABLED", "true"),
            ("AIGW_OPENAI_API__API_KEYS_FILE", "/etc/duo/keys"),
        ],
    )
    .unwrap();
    let api = &c.openai_api;
    assert!(api.enabled);
    assert_eq!(api.api_keys.len(), 2);
    assert_eq!(
        api.api_keys_file.as_deref(),
        Some(Path::new("/etc/duo/keys"))
    );
    assert_eq!(api.models[1].identifier, "bedrock/anthropic.claude-3");
    assert_eq!(api.models[0].family.as_deref(), Some("codestral"));
    let debug = format!("{c:?}");
    for secret in ["sk-plain-secret", "sk-named-secret", "upstream-secret"] {
        assert!(!debug.contains(secret), "{secret} printed");
    }
    assert!(debug.contains("ci-bot"));
    assert!(!load("", &[]).unwrap().openai_api.enabled, "off by default");
}

#[test]
fn validation_runs_with_the_rest_of_the_config() {
    let c = load(TOML, &[("AIGW_OPENAI_API__ENABLED", "true")]).unwrap();
    c.validate().unwrap();
    let bad = TOML.replace("custom_openai/Codestral-22B", "watsonx/granite");
    let c = load(&bad, &[("AIGW_OPENAI_API__ENABLED", "true")]).unwrap();
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("openai_api.models[0].identifier"), "{err}");
    // disabled: the section is not checked (nor its files and variables read)
    load(&bad, &[]).unwrap().validate().unwrap();
    let err = load("[[openai_api.models]]\nnme = \"x\"\n", &[]).unwrap_err();
    assert!(err.to_string().contains("nme"), "{err}");
}
