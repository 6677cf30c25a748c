//! Tests of the config loader: defaults, layers, validation.

use super::*;

#[allow(clippy::result_large_err)]
pub(super) fn load_with(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut out = None;
    figment::Jail::expect_with(|jail| {
        jail.create_file("duo.toml", toml)?;
        for (k, v) in env {
            jail.set_env(k, v);
        }
        out = Some(Config::load(Some(Path::new("duo.toml"))));
        Ok(())
    });
    out.expect("the jail ran")
}

#[test]
fn defaults_match_the_reference() {
    let c = load_with("", &[]).unwrap();
    assert_eq!(c.fastapi.api_port, 5052);
    assert_eq!(c.fastapi.metrics_port, 8082);
    assert!(!c.custom_models.enabled);
    assert!(!c.auth.bypass_external);
    assert!(!c.logging.enable_request_logging);
    c.validate().unwrap();
}

#[test]
fn env_overrides_file_with_reference_names() {
    let c = load_with(
        "[fastapi]\napi_port = 6000\n[custom_models]\nenabled = false\n",
        &[
            ("AIGW_FASTAPI__API_PORT", "7000"),
            ("AIGW_CUSTOM_MODELS__ENABLED", "true"),
            ("AIGW_GITLAB_URL", "https://gitlab.example.com"),
            ("AIGW_LOGGING__ENABLE_REQUEST_LOGGING", "true"),
            ("AIGW_SELF_SIGNED_JWT__SIGNING_KEY", "pem"),
        ],
    )
    .unwrap();
    assert_eq!(c.fastapi.api_port, 7000);
    assert!(c.custom_models.enabled);
    assert!(c.logging.enable_request_logging);
    assert_eq!(c.gitlab_url.as_deref(), Some("https://gitlab.example.com"));
    assert_eq!(
        c.auth_config().gitlab_url.as_deref(),
        Some("https://gitlab.example.com")
    );
    assert!(!format!("{c:?}").contains("\"pem\""));
}

#[test]
fn allow_list_entries_are_validated() {
    assert!(validate_allowed(&["http://vllm:8000/v1".into()]).is_ok());
    for (entry, needle) in [
        ("vllm:8000", "must be an http(s) URL"),
        ("not a url", "relative URL"),
        ("http://u:p@vllm:8000", "user info"),
    ] {
        let err = validate_allowed(&["http://ok".into(), entry.into()]).unwrap_err();
        assert!(
            err.starts_with("custom_models.allowed_endpoints[1]"),
            "{err}"
        );
        assert!(err.contains(needle), "{entry}: {err}");
    }
}

#[test]
fn unrelated_reference_settings_are_ignored_not_fatal() {
    let c = load_with("", &[("AIGW_GOOGLE_CLOUD_PLATFORM__LOCATION", "x")]).unwrap();
    assert_eq!(c.fastapi.api_port, 5052);
}

#[test]
fn bad_values_name_the_key() {
    let err = load_with("", &[("AIGW_FASTAPI__API_PORT", "lots")]).unwrap_err();
    assert!(err.to_string().contains("fastapi.api_port"), "{err}");
    let err = load_with("[fastapi]\nunknown_knob = 1\n", &[]).unwrap_err();
    assert!(err.to_string().contains("unknown_knob"), "{err}");
    let c = load_with("[fastapi]\napi_host = \"not an ip\"\n", &[]).unwrap();
    let err = c.validate().unwrap_err();
    assert!(err.to_string().contains("fastapi.api_host"), "{err}");
    let c = load_with("[[readiness.models]]\nidentifier = \"watsonx/x\"\n", &[]).unwrap();
    let err = c.validate().unwrap_err();
    assert!(
        err.to_string().contains("readiness.models[0].identifier"),
        "{err}"
    );
}
