//! [`BedrockSettings`]: region, credentials (static keys, a profile, an API key, a role to
//! assume), endpoint overrides and the guardrail, as the operator configures them.

use duo_core::Secret;
use serde::Deserialize;

use super::auth::check_api_key;
use super::guardrail::GuardrailSettings;

/// The default [`BedrockSettings::role_session_name`].
pub const DEFAULT_ROLE_SESSION_NAME: &str = "duo-gateway";

/// How the gateway reaches AWS Bedrock. Every field is optional: what is left out comes from
/// `aws-config`'s default chain (environment, shared config/credentials files, SSO, web
/// identity, ECS/EC2 instance roles).
///
/// `Debug` never prints the secret key, the session token or the API key.
#[derive(Clone, Debug, Deserialize)]
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
    /// A Bedrock API key, sent as `Authorization: Bearer <key>` instead of SigV4 signing;
    /// unset or blank: the `AWS_BEARER_TOKEN_BEDROCK` environment variable, if not blank.
    pub api_key: Option<Secret>,
    /// An IAM role to assume (`arn:aws:iam::<account>:role/<name>`) with the credentials found
    /// otherwise (static keys, the profile, the default chain); Bedrock calls are then signed
    /// with the role's temporary credentials.
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for (needs [`role_arn`](Self::role_arn)).
    pub external_id: Option<String>,
    /// The session name of the assumed role (shown in CloudTrail); default `duo-gateway`.
    pub role_session_name: String,
    /// An STS endpoint override for assuming the role (a VPC endpoint, or a test server); unset:
    /// `AWS_ENDPOINT_URL_STS` or the region's STS endpoint.
    pub sts_endpoint_url: Option<String>,
    /// A guardrail applied to every Converse / ConverseStream call.
    pub guardrail: Option<GuardrailSettings>,
}

impl Default for BedrockSettings {
    fn default() -> Self {
        Self {
            region: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            profile: None,
            endpoint_url: None,
            api_key: None,
            role_arn: None,
            external_id: None,
            role_session_name: DEFAULT_ROLE_SESSION_NAME.to_owned(),
            sts_endpoint_url: None,
            guardrail: None,
        }
    }
}

/// The role to assume, as checked by [`BedrockSettings::role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Role<'a> {
    pub arn: &'a str,
    pub external_id: Option<&'a str>,
    pub session_name: &'a str,
    pub sts_endpoint: Option<&'a str>,
}

impl BedrockSettings {
    /// Checks what can be checked without asking AWS: a static key pair is whole; the endpoint
    /// overrides are absolute http(s) URLs; an API key can be sent in a header and is not
    /// combined with static keys or a role (a key means no SigV4 signing); a role ARN is an IAM
    /// role's ARN, and the external id, session name and STS endpoint only come with one; a
    /// guardrail has an identifier and a version of Bedrock's forms. Credentials of the default
    /// chain and the region are looked up at the first Bedrock call.
    ///
    /// # Errors
    /// [`duo_core::Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<(), duo_core::Error> {
        let keys = self.static_keys()?;
        self.endpoint_override()?;
        let role = self.role()?;
        if let Some(key) = self.api_key_setting() {
            check_api_key(key, "api_key")?;
            let conflict = match (keys, role) {
                (Some(_), _) => Some("access_key_id/secret_access_key"),
                (None, Some(_)) => Some("role_arn"),
                (None, None) => None,
            };
            if let Some(other) = conflict {
                return Err(duo_core::Error::Config(format!(
                    "bedrock: api_key and {other} are both set; an API key is sent as a bearer \
                     token and nothing is SigV4-signed: set one of them"
                )));
            }
        }
        if let Some(guardrail) = &self.guardrail {
            guardrail.validate()?;
        }
        Ok(())
    }

    /// The configured API key, unless blank.
    pub(crate) fn api_key_setting(&self) -> Option<&Secret> {
        self.api_key
            .as_ref()
            .filter(|k| !k.expose().trim().is_empty())
    }

    /// The role to assume, checked; `None` without `role_arn`.
    pub(crate) fn role(&self) -> Result<Option<Role<'_>>, duo_core::Error> {
        let config = |m: String| duo_core::Error::Config(format!("bedrock: {m}"));
        let external_id = set(&self.external_id);
        let sts_endpoint = set(&self.sts_endpoint_url)
            .map(|u| {
                check_url(u).map_err(|_| {
                    config(format!(
                        "sts_endpoint_url '{u}' must be an absolute http(s) URL"
                    ))
                })
            })
            .transpose()?;
        let Some(arn) = set(&self.role_arn) else {
            if external_id.is_some() {
                return Err(config("external_id is set but role_arn is not".into()));
            }
            if sts_endpoint.is_some() {
                return Err(config("sts_endpoint_url is set but role_arn is not".into()));
            }
            return Ok(None);
        };
        if !is_role_arn(arn) {
            return Err(config(format!(
                "role_arn {arn:?} is not an IAM role ARN (arn:aws:iam::<account id>:role/<name>)"
            )));
        }
        // STS: external ids `[\w+=,.@:/-]{2,1224}`, session names `[\w+=,.@-]{2,64}`
        if let Some(id) = external_id
            && !((2..=1224).contains(&id.len())
                && id.bytes().all(|b| sts_byte(b) || b == b':' || b == b'/'))
        {
            return Err(config(
                "external_id must be 2 to 1224 characters of letters, digits and +=,.@:/-_".into(),
            ));
        }
        let session_name = self.role_session_name.trim();
        if !((2..=64).contains(&session_name.len()) && session_name.bytes().all(sts_byte)) {
            return Err(config(format!(
                "role_session_name {session_name:?} must be 2 to 64 characters of letters, \
                 digits and +=,.@-_"
            )));
        }
        Ok(Some(Role {
            arn,
            external_id,
            session_name,
            sts_endpoint,
        }))
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

/// A setting's value, trimmed; `None` when unset or blank.
fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `arn:<partition>:iam::<12 digits>:role/<path and name>`.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "iam", "", account, resource] = parts[..] else {
        return false;
    };
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
}

/// `[\w+=,.@-]`.
fn sts_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'=' | b',' | b'.' | b'@' | b'-')
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

    fn config_message(settings: &BedrockSettings) -> String {
        match settings.validate() {
            Err(duo_core::Error::Config(m)) => m,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/bedrock-caller";

    #[test]
    fn new_fields_deserialize_with_defaults_and_the_api_key_stays_secret() {
        let s: BedrockSettings = toml::from_str(
            "api_key = \"ABSK-very-secret-key\"\n\
             [guardrail]\nidentifier = \"abc123\"\nversion = \"2\"\n",
        )
        .unwrap();
        assert_eq!(s.role_session_name, "duo-gateway");
        assert_eq!(
            BedrockSettings::default().role_session_name,
            DEFAULT_ROLE_SESSION_NAME
        );
        assert!(!format!("{s:?}").contains("ABSK-very-secret-key"));
        assert_eq!(
            s.api_key_setting().map(Secret::expose),
            Some("ABSK-very-secret-key")
        );
        assert!(s.validate().is_ok());
        let blank = BedrockSettings {
            api_key: Some(Secret::new(" ")),
            ..BedrockSettings::default()
        };
        assert!(blank.api_key_setting().is_none());
        assert!(toml::from_str::<BedrockSettings>("[guardrail]\nid = \"x\"").is_err());
    }

    #[test]
    fn role_settings_are_checked() {
        let role = |arn: &str| BedrockSettings {
            role_arn: Some(arn.into()),
            external_id: Some("customer-7f3a".into()),
            sts_endpoint_url: Some("http://127.0.0.1:9/".into()),
            ..BedrockSettings::default()
        };
        assert_eq!(
            role(ROLE).role().unwrap(),
            Some(Role {
                arn: ROLE,
                external_id: Some("customer-7f3a"),
                session_name: "duo-gateway",
                sts_endpoint: Some("http://127.0.0.1:9"),
            })
        );
        for bad in [
            "bedrock-caller",
            "aws:iam::123456789012:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::1234:role/x",
            "arn:aws:bedrock::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(config_message(&role(bad)).contains("role_arn"), "{bad}");
        }
        let without_role = |f: fn(&mut BedrockSettings)| {
            let mut s = BedrockSettings::default();
            f(&mut s);
            config_message(&s)
        };
        assert_eq!(
            without_role(|s| s.external_id = Some("x1".into())),
            "bedrock: external_id is set but role_arn is not"
        );
        assert_eq!(
            without_role(|s| s.sts_endpoint_url = Some("http://sts.local".into())),
            "bedrock: sts_endpoint_url is set but role_arn is not"
        );
        let mut bad = role(ROLE);
        bad.sts_endpoint_url = Some("sts.local".into());
        assert!(config_message(&bad).contains("sts_endpoint_url 'sts.local'"));
        let mut bad = role(ROLE);
        bad.external_id = Some("x y".into());
        assert!(config_message(&bad).contains("external_id"));
        let mut bad = role(ROLE);
        bad.role_session_name = "a b".into();
        assert!(config_message(&bad).contains("role_session_name"));
    }

    #[test]
    fn an_api_key_excludes_sigv4_credentials_and_a_bad_guardrail_fails() {
        let key = Some(Secret::new("ABSK-key"));
        let with_role = BedrockSettings {
            api_key: key.clone(),
            role_arn: Some(ROLE.into()),
            ..BedrockSettings::default()
        };
        assert!(config_message(&with_role).contains("api_key and role_arn are both set"));
        let with_keys = BedrockSettings {
            api_key: key,
            access_key_id: Some("AKID".into()),
            secret_access_key: Some(Secret::new("s")),
            ..BedrockSettings::default()
        };
        assert!(config_message(&with_keys).contains("api_key and access_key_id/secret_access_key"));
        let spaced = BedrockSettings {
            api_key: Some(Secret::new("ABSK key")),
            ..BedrockSettings::default()
        };
        assert!(config_message(&spaced).contains("api_key holds characters"));
        let half_guardrail = BedrockSettings {
            guardrail: Some(GuardrailSettings {
                identifier: Some("abc".into()),
                ..GuardrailSettings::default()
            }),
            ..BedrockSettings::default()
        };
        assert!(config_message(&half_guardrail).contains("guardrail.version is missing"));
    }
}
