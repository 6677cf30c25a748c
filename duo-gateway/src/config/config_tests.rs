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

#[test]
#[allow(clippy::result_large_err)]
fn tls_is_enabled_by_gitlabs_variables_and_ssl_ciphers_is_accepted() {
    let ca = duo_testkit::tls::TestCa::new();
    let pair = ca.issue_server("gateway");
    let other = ca.issue_server("other");
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("tls.crt");
    let key = dir.path().join("tls.key");
    let other_key = dir.path().join("other.key");
    std::fs::write(&cert, &pair.cert).unwrap();
    std::fs::write(&key, &pair.key).unwrap();
    std::fs::write(&other_key, &other.key).unwrap();
    let (cert_s, key_s) = (cert.to_str().unwrap(), key.to_str().unwrap());

    let c = load_with(
        "",
        &[
            ("SSL_CERT_FILE", ""),
            ("AIGW_FASTAPI__TLS__ENABLED", "true"),
            ("AIGW_FASTAPI__TLS__CERT_FILE", cert_s),
            ("AIGW_FASTAPI__TLS__KEY_FILE", key_s),
            ("AIGW_FASTAPI__TLS__SSL_CIPHERS", "ECDHE+AESGCM:!aNULL"),
            ("AIGW_FASTAPI__TLS__RELOAD_INTERVAL_S", "0.5"),
        ],
    )
    .unwrap();
    assert!(c.fastapi.tls.enabled);
    assert_eq!(c.fastapi.tls.files(), Some((cert.as_path(), key.as_path())));
    assert_eq!(
        c.fastapi.tls.ssl_ciphers.as_deref(),
        Some("ECDHE+AESGCM:!aNULL")
    );
    assert_eq!(
        c.fastapi.tls.reload_interval(),
        Some(Duration::from_millis(500))
    );
    c.validate().unwrap();
    figment::Jail::expect_with(|jail| {
        for name in ["ENABLED", "CERT_FILE", "KEY_FILE", "SSL_CIPHERS"] {
            jail.set_env(format!("AIGW_FASTAPI__TLS__{name}"), "x");
        }
        let ignored = Config::ignored_env_vars();
        assert!(
            ignored
                .iter()
                .all(|v| !v.starts_with("AIGW_FASTAPI__TLS__")),
            "the TLS variables are read, not ignored: {ignored:?}"
        );
        Ok(())
    });

    // GitLab's defaults with TLS off (files named, its cipher string): accepted, nothing read.
    let c = load_with(
        "",
        &[
            ("SSL_CERT_FILE", ""),
            ("AIGW_FASTAPI__TLS__ENABLED", "false"),
            ("AIGW_FASTAPI__TLS__CERT_FILE", "/nonexistent/cert.pem"),
            ("AIGW_FASTAPI__TLS__KEY_FILE", "/nonexistent/key.pem"),
            ("AIGW_FASTAPI__TLS__SSL_CIPHERS", "TLSv1"),
        ],
    )
    .unwrap();
    assert_eq!(c.fastapi.tls.files(), None);
    assert_eq!(
        c.fastapi.tls.reload_interval(),
        Some(Duration::from_secs(10))
    );
    c.validate().unwrap();

    // The TOML table, with reload off; and a key that is not the certificate's.
    let c = load_with(
        &format!(
            "[fastapi.tls]\nenabled = true\ncert_file = \"{cert_s}\"\nkey_file = \"{}\"\nreload_interval_s = 0\n",
            other_key.display()
        ),
        &[("SSL_CERT_FILE", "")],
    )
    .unwrap();
    assert_eq!(c.fastapi.tls.reload_interval(), None);
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        format!(
            "invalid configuration: fastapi.tls.key_file '{}': the private key does not match the certificate of fastapi.tls.cert_file '{cert_s}'",
            other_key.display()
        )
    );

    // Enabled from the environment without files.
    let c = load_with(
        "",
        &[
            ("SSL_CERT_FILE", ""),
            ("AIGW_FASTAPI__TLS__ENABLED", "true"),
        ],
    )
    .unwrap();
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "invalid configuration: fastapi.tls.cert_file must be set when fastapi.tls.enabled is true (AIGW_FASTAPI__TLS__CERT_FILE)"
    );
}
