//! [`GuardrailSettings`]: the Bedrock guardrail applied to every Converse / ConverseStream call,
//! from the TOML section `[bedrock.guardrail]` or GitLab's `AIGW_BEDROCK_GUARDRAIL_CONFIG` JSON.

use aws_sdk_bedrockruntime::types::{
    GuardrailConfiguration, GuardrailStreamConfiguration, GuardrailTrace as SdkTrace,
};
use duo_core::Error;
use serde::Deserialize;
use serde_json::Value;

/// Whether Bedrock returns the guardrail's assessment (`trace.guardrail`) with each answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailTrace {
    /// `enabled`: the answer carries the assessment (the client ignores it; logs and
    /// Bedrock's invocation logging can use it).
    Enabled,
    /// `disabled` (the default).
    #[default]
    Disabled,
}

impl GuardrailTrace {
    /// The wire value (`enabled` / `disabled`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
        }
    }

    fn sdk(self) -> SdkTrace {
        match self {
            Self::Enabled => SdkTrace::Enabled,
            Self::Disabled => SdkTrace::Disabled,
        }
    }
}

/// A Bedrock guardrail, sent as Converse's `guardrailConfig` (ConverseStream's, as a
/// `GuardrailStreamConfiguration` with the default stream processing mode, `sync`).
///
/// Both fields are required; they are optional here so that a missing one is reported by
/// [`BedrockSettings::validate`](super::BedrockSettings::validate) naming the key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardrailSettings {
    /// The guardrail's id (`[a-z0-9]+`) or ARN (`arn:aws:bedrock:<region>:<account>:guardrail/<id>`).
    pub identifier: Option<String>,
    /// Its version: a number (`1`, `2`, …) or `DRAFT`.
    pub version: Option<String>,
    /// Whether answers carry the guardrail's trace (default `disabled`).
    pub trace: GuardrailTrace,
}

/// The keys [`GuardrailSettings`] is read from, for messages.
struct Names {
    source: &'static str,
    identifier: &'static str,
    version: &'static str,
}

const TOML_NAMES: Names = Names {
    source: "bedrock",
    identifier: "guardrail.identifier",
    version: "guardrail.version",
};

const JSON_NAMES: Names = Names {
    source: "bedrock guardrail config (JSON)",
    identifier: "guardrailIdentifier",
    version: "guardrailVersion",
};

impl GuardrailSettings {
    /// Parses GitLab's `AIGW_BEDROCK_GUARDRAIL_CONFIG` JSON:
    /// `{"guardrailIdentifier": "…", "guardrailVersion": "…", "trace": "enabled" | "disabled"}`
    /// (`trace` optional, default `disabled`), and checks it as
    /// [`BedrockSettings::validate`](super::BedrockSettings::validate) checks the TOML form.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field: not a JSON object, a missing or malformed
    /// `guardrailIdentifier` or `guardrailVersion`, a `trace` other than `enabled` / `disabled`,
    /// or an unknown field.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let config = |message: String| Error::Config(format!("{}: {message}", JSON_NAMES.source));
        let value: Value =
            serde_json::from_str(json).map_err(|e| config(format!("not valid JSON ({e})")))?;
        let Value::Object(fields) = value else {
            return Err(config("expected a JSON object".into()));
        };
        let mut settings = Self::default();
        for (name, value) in fields {
            let text = || {
                value
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| config(format!("{name} must be a string")))
            };
            match name.as_str() {
                "guardrailIdentifier" => settings.identifier = Some(text()?),
                "guardrailVersion" => settings.version = Some(text()?),
                "trace" => {
                    settings.trace = match text()?.as_str() {
                        "enabled" => GuardrailTrace::Enabled,
                        "disabled" => GuardrailTrace::Disabled,
                        other => {
                            return Err(config(format!(
                                "trace must be \"enabled\" or \"disabled\", not {other:?}"
                            )));
                        }
                    };
                }
                other => {
                    return Err(config(format!(
                        "unknown field {other:?} (expected guardrailIdentifier, \
                         guardrailVersion, trace)"
                    )));
                }
            }
        }
        settings.check(&JSON_NAMES)?;
        Ok(settings)
    }

    /// Checks the settings as read from TOML / `AIGW_PROVIDERS__BEDROCK__GUARDRAIL__*`.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        self.check(&TOML_NAMES)
    }

    fn check(&self, names: &Names) -> Result<(), Error> {
        let fail = |message: String| Err(Error::Config(format!("{}: {message}", names.source)));
        let identifier = self.identifier.as_deref().map(str::trim);
        let version = self.version.as_deref().map(str::trim);
        match (identifier, version) {
            (None | Some(""), _) => fail(format!("{} is missing", names.identifier)),
            (Some(_), None | Some("")) => fail(format!(
                "{} is set but {} is missing (a number, or DRAFT)",
                names.identifier, names.version
            )),
            (Some(id), Some(_)) if !valid_identifier(id) => fail(format!(
                "{} {id:?} is neither a guardrail id ([a-z0-9]+) nor a guardrail ARN \
                 (arn:aws:bedrock:<region>:<account>:guardrail/<id>)",
                names.identifier
            )),
            (Some(_), Some(v)) if !valid_version(v) => fail(format!(
                "{} {v:?} must be a number from 1 to 99999999, or DRAFT",
                names.version
            )),
            (Some(_), Some(_)) => Ok(()),
        }
    }

    fn parts(&self) -> (String, String) {
        let trimmed = |v: &Option<String>| v.as_deref().unwrap_or_default().trim().to_owned();
        (trimmed(&self.identifier), trimmed(&self.version))
    }

    /// Converse's `guardrailConfig`.
    pub(crate) fn converse(&self) -> GuardrailConfiguration {
        let (identifier, version) = self.parts();
        GuardrailConfiguration::builder()
            .guardrail_identifier(identifier)
            .guardrail_version(version)
            .trace(self.trace.sdk())
            .build()
    }

    /// ConverseStream's `guardrailConfig`, with the default stream processing mode (`sync`).
    pub(crate) fn converse_stream(&self) -> GuardrailStreamConfiguration {
        let (identifier, version) = self.parts();
        GuardrailStreamConfiguration::builder()
            .guardrail_identifier(identifier)
            .guardrail_version(version)
            .trace(self.trace.sdk())
            .build()
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `[a-z0-9]+` or `arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+`, at
/// most 2048 characters (Bedrock's `GuardrailConfiguration`).
fn valid_identifier(id: &str) -> bool {
    if id.len() > 2048 {
        return false;
    }
    let Some(arn) = id.strip_prefix("arn:") else {
        return is_id(id);
    };
    let parts: Vec<&str> = arn.splitn(5, ':').collect();
    let [partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let partition_ok = partition == "aws"
        || partition
            .strip_prefix("aws-")
            .is_some_and(|rest| !rest.is_empty());
    let region_ok = (1..=20).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    partition_ok
        && service == "bedrock"
        && region_ok
        && account_ok
        && resource.strip_prefix("guardrail/").is_some_and(is_id)
}

/// `[1-9][0-9]{0,7}` or `DRAFT`.
fn valid_version(version: &str) -> bool {
    version == "DRAFT"
        || (version.len() <= 8
            && !version.starts_with('0')
            && !version.is_empty()
            && version.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(err: Error) -> String {
        match err {
            Error::Config(m) => m,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn gitlabs_json_parses_with_trace_optional() {
        let full = GuardrailSettings::from_json(
            r#"{"guardrailIdentifier": "abc123", "guardrailVersion": "1", "trace": "enabled"}"#,
        )
        .unwrap();
        assert_eq!(full.identifier.as_deref(), Some("abc123"));
        assert_eq!(full.version.as_deref(), Some("1"));
        assert_eq!(full.trace, GuardrailTrace::Enabled);
        let arn = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123";
        let draft = GuardrailSettings::from_json(&format!(
            r#"{{"guardrailIdentifier": "{arn}", "guardrailVersion": "DRAFT"}}"#
        ))
        .unwrap();
        assert_eq!(draft.trace, GuardrailTrace::Disabled);
        assert_eq!(draft.converse().guardrail_identifier(), arn);
        assert_eq!(draft.converse_stream().guardrail_version(), "DRAFT");
        assert_eq!(draft.converse().trace(), &SdkTrace::Disabled);
    }

    #[test]
    fn bad_json_is_a_config_error_naming_the_field() {
        for (json, names) in [
            ("not json", "not valid JSON"),
            ("[1]", "expected a JSON object"),
            (
                r#"{"guardrailVersion": "1"}"#,
                "guardrailIdentifier is missing",
            ),
            (
                r#"{"guardrailIdentifier": "abc"}"#,
                "guardrailIdentifier is set but guardrailVersion is missing",
            ),
            (
                r#"{"guardrailIdentifier": 7, "guardrailVersion": "1"}"#,
                "guardrailIdentifier must be a string",
            ),
            (
                r#"{"guardrailIdentifier": "ABC!", "guardrailVersion": "1"}"#,
                "guardrailIdentifier \"ABC!\" is neither",
            ),
            (
                r#"{"guardrailIdentifier": "abc", "guardrailVersion": "v1"}"#,
                "guardrailVersion \"v1\" must be a number",
            ),
            (
                r#"{"guardrailIdentifier": "abc", "guardrailVersion": "1", "trace": "on"}"#,
                "trace must be \"enabled\" or \"disabled\", not \"on\"",
            ),
            (
                r#"{"guardrailIdentifier": "abc", "guardrailVersion": "1", "tracing": "enabled"}"#,
                "unknown field \"tracing\"",
            ),
        ] {
            let err = message(GuardrailSettings::from_json(json).unwrap_err());
            assert!(
                err.starts_with("bedrock guardrail config (JSON): "),
                "{err}"
            );
            assert!(err.contains(names), "{json}: {err}");
        }
    }

    #[test]
    fn toml_settings_name_their_keys() {
        let only_id = GuardrailSettings {
            identifier: Some("abc".into()),
            ..GuardrailSettings::default()
        };
        assert_eq!(
            message(only_id.validate().unwrap_err()),
            "bedrock: guardrail.identifier is set but guardrail.version is missing (a number, or DRAFT)"
        );
        let only_version = GuardrailSettings {
            version: Some("2".into()),
            ..GuardrailSettings::default()
        };
        assert!(
            message(only_version.validate().unwrap_err())
                .contains("guardrail.identifier is missing")
        );
        let toml: GuardrailSettings =
            toml::from_str("identifier = \"abc\"\nversion = \"12\"\ntrace = \"enabled\"").unwrap();
        assert!(toml.validate().is_ok());
        assert_eq!(toml.trace.as_str(), "enabled");
        assert!(toml::from_str::<GuardrailSettings>("trace = \"loud\"").is_err());
    }

    #[test]
    fn identifiers_and_versions_follow_bedrocks_patterns() {
        for good in [
            "abc123",
            "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123",
            "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:guardrail/x9",
        ] {
            assert!(valid_identifier(good), "{good}");
        }
        for bad in [
            "",
            "Abc",
            "abc-1",
            "arn:aws:bedrock:us-east-1:12345:guardrail/abc",
            "arn:aws:iam::123456789012:guardrail/abc",
            "arn:aws:bedrock:us-east-1:123456789012:guardrail/",
            "arn:aws:bedrock:us-east-1:123456789012:agent/abc",
        ] {
            assert!(!valid_identifier(bad), "{bad}");
        }
        for good in ["1", "99999999", "DRAFT"] {
            assert!(valid_version(good), "{good}");
        }
        for bad in ["0", "01", "123456789", "draft", "1.0", ""] {
            assert!(!valid_version(bad), "{bad}");
        }
    }
}
