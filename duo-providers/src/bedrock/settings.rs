//! [`BedrockSettings`]: region, credentials and endpoint override, as the operator configures them.

use duo_core::Secret;
use serde::Deserialize;

/// How the gateway reaches AWS Bedrock. Every field is optional: what is left out comes from
/// `aws-config`'s default chain (environment, shared config/credentials files, SSO, web
/// identity, ECS/EC2 instance roles).
///
/// `Debug` never prints the secret key or the session token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BedrockSettings {
    /// The AWS region (e.g. `us-east-1`); else `AWS_REGION` / the profile's region.
    pub region: Option<String>,
    /// A static access key id; needs [`secret_access_key`](Self::secret_access_key) too.
    pub access_key_id: Option<String>,
    /// The static secret access key.
    pub secret_access_key: Option<Secret>,
    /// A session token, for temporary static credentials.
    pub session_token: Option<Secret>,
    /// A named profile of `~/.aws/config` to load instead of the default one.
    pub profile: Option<String>,
    /// An endpoint override (a VPC/private endpoint, or a test server). The only way, besides
    /// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, to point Bedrock calls elsewhere: a model endpoint's
    /// `base_url` is never used.
    pub endpoint_url: Option<String>,
}

impl BedrockSettings {
    /// Checks what can be checked without asking AWS: a static key pair is whole, and the
    /// endpoint override is an absolute http(s) URL. Credentials of the default chain and the
    /// region are looked up at the first Bedrock call.
    ///
    /// # Errors
    /// [`duo_core::Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<(), duo_core::Error> {
        self.static_keys()?;
        self.endpoint_override()?;
        Ok(())
    }

    /// The endpoint override, trimmed and checked; `None` when unset or empty.
    pub(crate) fn endpoint_override(&self) -> Result<Option<&str>, duo_core::Error> {
        self.endpoint_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| check_url(u).map_err(duo_core::Error::Config))
            .transpose()
    }

    /// The static key pair, if configured; a half-configured pair is a configuration error.
    pub(crate) fn static_keys(&self) -> Result<Option<(&str, &Secret)>, duo_core::Error> {
        let key_id = self
            .access_key_id
            .as_deref()
            .filter(|k| !k.trim().is_empty());
        let secret = self.secret_access_key.as_ref().filter(|s| !s.is_empty());
        match (key_id, secret) {
            (Some(id), Some(secret)) => Ok(Some((id, secret))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(duo_core::Error::Config(
                "bedrock: access_key_id is set but secret_access_key is missing".into(),
            )),
            (None, Some(_)) => Err(duo_core::Error::Config(
                "bedrock: secret_access_key is set but access_key_id is missing".into(),
            )),
        }
    }
}

pub(super) fn check_url(url: &str) -> Result<&str, String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url),
        _ => Err(format!(
            "bedrock endpoint URL '{url}' must be an absolute http(s) URL"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets_and_serde_fills_defaults() {
        let s: BedrockSettings = serde_json::from_str(
            r#"{"region":"eu-west-1","access_key_id":"AKIDX","secret_access_key":"sek-ret-value","session_token":"tok-en-value"}"#,
        )
        .unwrap();
        let debug = format!("{s:?}");
        assert!(debug.contains("AKIDX"));
        assert!(!debug.contains("sek-ret-value"));
        assert!(!debug.contains("tok-en-value"));
        assert_eq!(s.profile, None);
        assert_eq!(s.static_keys().unwrap().map(|(id, _)| id), Some("AKIDX"));
    }

    #[test]
    fn half_a_key_pair_is_a_config_error() {
        let s = BedrockSettings {
            access_key_id: Some("AKID".into()),
            ..BedrockSettings::default()
        };
        assert_eq!(s.static_keys().unwrap_err().kind(), "config");
        let s = BedrockSettings {
            secret_access_key: Some(Secret::new("x")),
            ..BedrockSettings::default()
        };
        assert_eq!(s.static_keys().unwrap_err().kind(), "config");
        assert!(BedrockSettings::default().static_keys().unwrap().is_none());
    }

    #[test]
    fn endpoint_urls_must_be_absolute_http() {
        assert_eq!(check_url(" http://127.0.0.1:9/ "), Ok("http://127.0.0.1:9"));
        assert_eq!(
            check_url("https://bedrock-runtime.us-east-1.amazonaws.com"),
            Ok("https://bedrock-runtime.us-east-1.amazonaws.com")
        );
        let bad_override = BedrockSettings {
            endpoint_url: Some("bedrock.local".into()),
            ..BedrockSettings::default()
        };
        assert!(bad_override.validate().is_err());
        let half_keys = BedrockSettings {
            access_key_id: Some("AKIDX".into()),
            ..BedrockSettings::default()
        };
        assert!(half_keys.validate().is_err());
        assert!(BedrockSettings::default().validate().is_ok());
        for bad in ["bedrock.local", "ftp://x", "http://", "http://a b"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
