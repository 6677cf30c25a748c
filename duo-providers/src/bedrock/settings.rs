//! [`BedrockSettings`]: region, credentials and endpoint override, as the operator configures them.

use duo_core::Secret;
use serde::Deserialize;

/// How the gateway reaches AWS Bedrock. Every field is optional: what is left out comes from
/// `aws-config`'s default chain (environment, shared config/credentials files, SSO, web
/// identity, ECS/EC2 instance roles).
///
/// `Debug` never prints the secret key or the session token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
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
}
