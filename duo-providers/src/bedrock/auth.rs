//! How Bedrock calls authenticate: a Bedrock API key as a bearer token, or SigV4 with AWS
//! credentials, optionally those of a role assumed through STS.
//!
//! **API keys.** `aws-sdk-bedrockruntime` models Bedrock's `httpBearerAuth` scheme next to
//! SigV4 (its default auth options are `[sigv4, httpBearerAuth]`), with a `Token` identity set
//! by the config builder's `token_provider`. With a key, the client gets the key as its token
//! and the auth scheme preference `[httpBearerAuth]`: the SDK then sends
//! `Authorization: Bearer <key>` and does not sign. Without one, the preference is set to
//! `[sigv4]` explicitly, so that the SDK's own reading of `AWS_BEARER_TOKEN_BEDROCK` (it does
//! that when building a client from an `SdkConfig`) never switches schemes behind the settings'
//! back: the key is taken from [`BedrockSettings::api_key`], else from that variable, here only.
//!
//! **Roles.** With [`BedrockSettings::role_arn`], the loaded credentials (static keys, a
//! profile, or the default chain) become the base of `aws-config`'s `AssumeRoleProvider`, whose
//! STS client connects through the egress policy's HTTP client (the Bedrock client's), at
//! [`BedrockSettings::sts_endpoint_url`] when set. The temporary credentials it returns are
//! cached by the SDK's identity cache until shortly before they expire.

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_bedrockruntime::config::{Builder, Token};
use aws_smithy_runtime_api::client::auth::AuthSchemeId;
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;
use duo_core::{Error, Secret};

use super::settings::{BedrockSettings, Role};

/// The environment variable a Bedrock API key is read from when
/// [`BedrockSettings::api_key`] is unset (as GitLab's gateway and the AWS SDKs read it).
pub const API_KEY_ENV: &str = "AWS_BEARER_TOKEN_BEDROCK";

/// SigV4's auth scheme id.
const SIGV4_SCHEME_ID: AuthSchemeId = AuthSchemeId::new("sigv4");

/// The Bedrock API key: the setting if set and not blank, else the environment's
/// [`API_KEY_ENV`] if not blank (`env` looks a variable up). Surrounding whitespace is dropped.
pub(crate) fn api_key(
    settings: &BedrockSettings,
    env: impl FnOnce(&str) -> Option<String>,
) -> Option<Secret> {
    if let Some(key) = settings.api_key_setting() {
        return Some(Secret::new(key.expose().trim()));
    }
    env(API_KEY_ENV)
        .map(|key| key.trim().to_owned())
        .filter(|key| !key.is_empty())
        .map(Secret::new)
}

/// Checks that `key` can be sent in an `Authorization` header (visible ASCII, no spaces),
/// without ever putting the key in the message; `name` says where it came from.
pub(crate) fn check_api_key(key: &Secret, name: &str) -> Result<(), Error> {
    if key.expose().bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "bedrock: {name} holds characters an HTTP header cannot carry (a Bedrock API key is \
             printable ASCII without spaces)"
        )))
    }
}

/// The client's auth: the key as a bearer token, else SigV4.
pub(crate) fn with_auth(builder: Builder, api_key: Option<&Secret>) -> Builder {
    match api_key {
        Some(key) => builder
            .token_provider(Token::new(key.expose(), None))
            .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID]),
        None => builder.auth_scheme_preference([SIGV4_SCHEME_ID]),
    }
}

/// `sdk` with its credentials replaced by those of `role`, assumed with `sdk`'s credentials
/// through an STS client that connects with `http` (at the role's STS endpoint, if set).
pub(crate) async fn assume_role(
    sdk: SdkConfig,
    role: &Role<'_>,
    http: &SharedHttpClient,
) -> SdkConfig {
    let mut sts = sdk
        .to_builder()
        .http_client(http.clone())
        .retry_config(RetryConfig::standard());
    if let Some(url) = role.sts_endpoint {
        sts = sts.endpoint_url(url);
    }
    let mut builder = AssumeRoleProvider::builder(role.arn)
        .session_name(role.session_name)
        .configure(&sts.build());
    if let Some(id) = role.external_id {
        builder = builder.external_id(id);
    }
    let provider = match sdk.credentials_provider() {
        Some(base) => builder.build_from_provider(base).await,
        // no base credentials: STS refuses the unsigned call, reported as missing credentials
        None => builder.build().await,
    };
    sdk.into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_key(key: Option<&str>) -> BedrockSettings {
        BedrockSettings {
            api_key: key.map(Secret::new),
            ..BedrockSettings::default()
        }
    }

    #[test]
    fn the_setting_wins_and_the_environment_is_the_fallback() {
        let env = |value: Option<&'static str>| {
            move |name: &str| {
                assert_eq!(name, "AWS_BEARER_TOKEN_BEDROCK");
                value.map(str::to_owned)
            }
        };
        let from_settings = api_key(&with_key(Some(" ABSK-settings ")), env(Some("ABSK-env")));
        assert_eq!(from_settings.unwrap().expose(), "ABSK-settings");
        let from_env = api_key(&with_key(None), env(Some("ABSK-env\n")));
        assert_eq!(from_env.unwrap().expose(), "ABSK-env");
        let blank_setting = api_key(&with_key(Some("")), env(Some("ABSK-env")));
        assert_eq!(blank_setting.unwrap().expose(), "ABSK-env");
        assert!(api_key(&with_key(None), env(Some("  "))).is_none());
        assert!(api_key(&with_key(None), env(None)).is_none());
    }

    #[test]
    fn keys_an_http_header_cannot_carry_are_refused_without_echoing_them() {
        assert!(check_api_key(&Secret::new("ABSKQmVkcm9ja0FQSUtleS1h+/="), "api_key").is_ok());
        for bad in ["two words", "line\nbreak", "ünï"] {
            let err = check_api_key(&Secret::new(bad), "api_key").unwrap_err();
            assert_eq!(err.kind(), "config");
            assert!(!err.to_string().contains(bad), "{err}");
        }
    }
}
