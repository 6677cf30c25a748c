//! Settings: defaults, errors that name the setting, secrets kept out of Debug.

use super::harness::*;

#[test]
fn bad_settings_fail_at_start_naming_the_setting() {
    let http = oidc_client();
    let err = Authenticator::new(
        &AuthConfig {
            signing_key: Some(Secret::new(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            )),
            ..AuthConfig::default()
        },
        &http,
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("auth.signing_key: "), "{err}");
    let err = Authenticator::new(
        &AuthConfig {
            validation_key: Some(Secret::new("not a pem")),
            ..AuthConfig::default()
        },
        &http,
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("auth.validation_key: "),
        "{err}"
    );
    let public_only = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
    let err = Authenticator::new(
        &AuthConfig {
            signing_key: Some(Secret::new(public_only)),
            ..AuthConfig::default()
        },
        &http,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("is not an RSA private key"),
        "{err}"
    );
    let err = Authenticator::new(
        &AuthConfig {
            gitlab_url: Some("gitlab.example.com".into()),
            ..AuthConfig::default()
        },
        &http,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "auth.gitlab_url: 'gitlab.example.com' is not an http(s) URL"
    );
    // PEMs passed through an environment variable with literal \n are accepted.
    let escaped = SIGNING_KEY.trim().replace('\n', "\\n");
    assert!(
        Authenticator::new(
            &AuthConfig {
                signing_key: Some(Secret::new(escaped)),
                ..AuthConfig::default()
            },
            &http,
        )
        .is_ok()
    );
}

#[test]
fn secrets_never_show_in_debug_output() {
    let config = AuthConfig {
        signing_key: Some(Secret::new(SIGNING_KEY)),
        ..AuthConfig::default()
    };
    let auth = Authenticator::new(&config, &oidc_client()).unwrap();
    let key_line = SIGNING_KEY.lines().nth(1).unwrap();
    assert!(!format!("{config:?}").contains(key_line));
    assert!(!format!("{auth:?}").contains(key_line));
    assert!(format!("{auth:?}").contains("signing_key: Configured"));
}

#[test]
fn auth_error_messages_are_the_reference_strings() {
    assert_eq!(AuthError::Forbidden.message(), FORBIDDEN);
    assert_eq!(
        AuthError::MissingAuthorization.message(),
        "No authorization header presented"
    );
}

#[test]
fn config_fills_defaults_and_rejects_unknown_settings() {
    let config: AuthConfig = serde_json::from_str(
        r#"{"gitlab_url": "https://gitlab.example.com", "bypass_external": true}"#,
    )
    .unwrap();
    assert_eq!(
        config.gitlab_url.as_deref(),
        Some("https://gitlab.example.com")
    );
    assert!(config.bypass_external);
    assert!(!config.bypass_external_with_header);
    assert_eq!(config.audience, "gitlab-ai-gateway");
    assert_eq!(config.jwks_cache_ttl_s, 86_400);
    assert_eq!(config.jwks_min_refresh_interval_s, 10);
    let err = serde_json::from_str::<AuthConfig>(r#"{"bypass_externall": true}"#).unwrap_err();
    assert!(err.to_string().contains("bypass_externall"), "{err}");
}
