//! `duo-gateway check-config`: it builds everything start-up builds (the HTTP client with its CA
//! bundle, the Bedrock settings, the signing key, the prompts) and exits 2 naming the setting
//! that stops it, never printing a secret.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::keys::SIGNING_KEY;
use duo_testkit::tls::TestCa;
use support::check_config;

#[test]
fn check_config_refuses_unusable_bedrock_settings_and_misspelt_keys_naming_them() {
    for (env, says) in [
        (
            vec![("AIGW_PROVIDERS__BEDROCK__ACCESS_KEY_ID", "AKIDHALFPAIR")],
            "invalid configuration: providers.bedrock: access_key_id is set but secret_access_key is missing",
        ),
        (
            vec![("AIGW_PROVIDERS__BEDROCK__ENDPOINT_URL", "bedrock.internal")],
            "invalid configuration: providers.bedrock endpoint URL 'bedrock.internal' must be an absolute http(s) URL",
        ),
        (
            vec![(
                "AIGW_PROVIDERS__BEDROCK__ENDPOINT",
                "https://bedrock.internal",
            )],
            "unknown field: found `endpoint`",
        ),
        (
            vec![("AIGW_LOGGING__FORMAT", "json")],
            "unknown field: found `format`",
        ),
        (
            vec![("AIGW_PROVIDERS__ANTHROPIC__BASE_URL", "api.anthropic.com")],
            "invalid configuration: providers.anthropic.base_url: ",
        ),
        (
            vec![("AIGW_PROVIDERS__ANTHROPIC__DEFAULT_MAX_TOKENS", "0")],
            "invalid configuration: providers.anthropic.default_max_tokens: must be at least 1",
        ),
    ] {
        let out = check_config(&env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert!(stderr.contains(says), "{env:?}: {stderr}");
    }
    // The operator's Anthropic key, from either source, is never printed.
    for (name, value) in [
        ("ANTHROPIC_API_KEY", "sk-ant-env-secret-0123"),
        (
            "AIGW_PROVIDERS__ANTHROPIC__API_KEY",
            "sk-ant-cfg-secret-0123",
        ),
    ] {
        let out = check_config(&[(name, value)]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{name}: {all}");
        assert!(!all.contains(value), "{name}: {all}");
    }
    // Vertex AI under GitLab's names: the key is parsed at start-up and never printed.
    let key = "{\"type\": \"service_account\", \"client_email\": \"sa@p.iam.gserviceaccount.com\", \"private_key\": \"not-a-key-secret-0123\"}";
    let out = check_config(&[
        ("AIGW_GOOGLE_CLOUD_PLATFORM__PROJECT", "acme-ai"),
        ("AIGW_GOOGLE_CLOUD_PLATFORM__SERVICE_ACCOUNT_JSON_KEY", key),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("vertex.credentials_json: private_key is not an RSA key in PEM"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-a-key-secret-0123"), "{stderr}");
    let out = check_config(&[
        ("AIGW_GOOGLE_CLOUD_PLATFORM__PROJECT", "acme-ai"),
        ("AIGW_VERTEX_TEXT_MODEL__ENDPOINT", "ftp://vertex.internal"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("providers.vertex.endpoint: 'ftp://vertex.internal'"),
        "{stderr}"
    );
    let out = check_config(&[
        ("AIGW_GOOGLE_CLOUD_PLATFORM__PROJECT", "acme-ai"),
        ("AIGW_VERTEX_TEXT_MODEL__LOCATION", "europe-west4"),
        ("GCE_METADATA_HOST", "127.0.0.1:1"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("europe-west4"), "{stdout}");
    // GitLab's LiteLLM switch, carried over from its gateway, is accepted (and does nothing).
    let out = check_config(&[("AIGW_LOGGING__ENABLE_LITELLM_LOGGING", "true")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_config_refuses_an_unreadable_or_empty_ca_bundle_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let run = |bundle: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_duo-gateway"))
            .arg("check-config")
            .env_clear()
            .env("AIGW_PROVIDERS__HTTP__CA_BUNDLE", bundle)
            .output()
            .unwrap()
    };
    let out = run(&missing);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot read http.ca_bundle {}", missing.display())),
        "{stderr}"
    );
    let out = run(&empty);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("http.ca_bundle {} holds no", empty.display())),
        "{stderr}"
    );
    let ca = TestCa::new();
    let good = ca.write_bundle(dir.path()).unwrap();
    let out = run(&good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_config_says_which_signing_key_is_in_force_never_the_key() {
    let run = |key: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_duo-gateway"));
        cmd.arg("check-config").env_clear();
        if let Some(key) = key {
            cmd.env("AIGW_SELF_SIGNED_JWT__SIGNING_KEY", key);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let ephemeral = run(None);
    assert!(
        ephemeral.contains("self-signed JWT signing key: ephemeral (generated at start, ES256; its tokens die with the process and are not accepted by other replicas"),
        "{ephemeral}"
    );
    let configured = run(Some(SIGNING_KEY));
    assert!(
        configured.contains(
            "self-signed JWT signing key: configured (self_signed_jwt.signing_key, RS256)"
        ),
        "{configured}"
    );
    for line in SIGNING_KEY.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!configured.contains(line), "key material in the output");
    }
}

#[test]
fn ssl_cert_file_and_requests_ca_bundle_are_the_ca_bundle_when_none_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("corp-ca.pem");
    let path = missing.to_str().unwrap();
    for name in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
        let out = check_config(&[(name, path)]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("cannot read http.ca_bundle {path}")),
            "{name}: {stderr}"
        );
    }
    let ca = TestCa::new();
    let bundle = ca.write_bundle(dir.path()).unwrap();
    let out = check_config(&[("SSL_CERT_FILE", bundle.to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
