//! [`LoggingConfig`]: the operator's logging settings (`AIGW_LOGGING__*`), and their validation.

use std::path::PathBuf;

use duo_core::Secret;
use serde::Deserialize;

use crate::redact::Redactor;

/// What the operator configures about logs; the gateway maps `AIGW_LOGGING__<FIELD>` onto it.
///
/// Unknown keys are refused (a misspelt setting fails at start instead of doing nothing).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// Root level (`info`, `DEBUG`, `warning` …) or an `EnvFilter` directive list such as
    /// `info,duo_gateway=debug`. `AIGW_LOGGING__LEVEL`.
    pub level: String,
    /// One JSON object per line (true) or human-readable text. `AIGW_LOGGING__FORMAT_JSON`.
    pub format_json: bool,
    /// Write to this file (rotated daily: `<name>.YYYY-MM-DD`) instead of stdout.
    /// `AIGW_LOGGING__TO_FILE`.
    pub to_file: Option<PathBuf>,
    /// Log every request's prompts and answers (redacted), not only when the instance asks for
    /// it. `AIGW_LOGGING__ENABLE_REQUEST_LOGGING`.
    pub enable_request_logging: bool,
    /// Extra regexes whose matches are replaced in logged prompts and answers.
    /// `AIGW_LOGGING__REDACT_PATTERNS`.
    pub redact_patterns: Vec<String>,
    /// At most this many characters of each logged prompt or answer field.
    /// `AIGW_LOGGING__MAX_FIELD_CHARS`.
    pub max_field_chars: usize,
    /// Salt mixed into the hash of `X-Gitlab-Global-User-Id` before it is logged, so that
    /// sequential user ids cannot be recovered by hashing candidates. `AIGW_LOGGING__USER_ID_SALT`.
    pub user_id_salt: Option<Secret>,
    /// GitLab's gateway's switch for LiteLLM's own debug log. duo has no LiteLLM, so the value
    /// is accepted (a configuration carried over from GitLab's gateway still starts) and has no
    /// effect. `AIGW_LOGGING__ENABLE_LITELLM_LOGGING`.
    pub enable_litellm_logging: bool,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format_json: true,
            to_file: None,
            enable_request_logging: false,
            redact_patterns: Vec::new(),
            max_field_chars: 10_000,
            user_id_salt: None,
            enable_litellm_logging: false,
        }
    }
}

/// A setting that cannot be used; `key` names it (e.g. `logging.redact_patterns[1]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting {key}: {message}")]
pub struct ConfigError {
    /// The setting's path, e.g. `logging.level`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl LoggingConfig {
    /// Checks every setting: the level directives parse and every redaction regex compiles.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.filter_directives()?;
        if self.max_field_chars == 0 {
            return Err(ConfigError::new(
                "logging.max_field_chars",
                "must be at least 1",
            ));
        }
        Redactor::new(&self.redact_patterns).map(|_| ())
    }

    /// The level setting as `EnvFilter` directives, with Python's level names accepted
    /// (`WARNING` → `warn`, `CRITICAL` → `error`) and case ignored.
    pub(crate) fn filter_directives(&self) -> Result<String, ConfigError> {
        let bad = |message: String| ConfigError::new("logging.level", message);
        let mut out = Vec::new();
        for directive in self.level.split(',').map(str::trim) {
            if directive.is_empty() {
                continue;
            }
            let (target, level) = match directive.rsplit_once('=') {
                Some((target, level)) => (Some(target.trim()), level.trim()),
                None => (None, directive),
            };
            let Some(level) = normalize_level(level) else {
                return Err(bad(format!(
                    "'{level}' in '{directive}' is not a level (trace, debug, info, warn, error, off)"
                )));
            };
            match target {
                Some("") => return Err(bad(format!("'{directive}' has no target before '='"))),
                Some(target) => out.push(format!("{target}={level}")),
                None => out.push(level.to_owned()),
            }
        }
        if out.is_empty() {
            return Err(bad("is empty; use e.g. 'info'".into()));
        }
        let joined = out.join(",");
        tracing_subscriber::EnvFilter::builder()
            .parse(&joined)
            .map_err(|e| bad(format!("'{}': {e}", self.level)))?;
        Ok(joined)
    }
}

fn normalize_level(level: &str) -> Option<&'static str> {
    Some(match level.to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warn" | "warning" => "warn",
        "error" | "critical" | "fatal" => "error",
        "off" => "off",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_level(level: &str) -> LoggingConfig {
        LoggingConfig {
            level: level.into(),
            ..LoggingConfig::default()
        }
    }

    #[test]
    fn defaults_follow_the_reference() {
        let c = LoggingConfig::default();
        assert_eq!(c.level, "info");
        assert!(c.format_json);
        assert!(!c.enable_request_logging);
        assert!(c.to_file.is_none());
        c.validate().unwrap();
    }

    #[test]
    fn levels_accept_python_names_and_directive_lists() {
        assert_eq!(with_level("INFO").filter_directives().unwrap(), "info");
        assert_eq!(with_level("WARNING").filter_directives().unwrap(), "warn");
        assert_eq!(with_level("critical").filter_directives().unwrap(), "error");
        assert_eq!(
            with_level("info, duo_gateway=DEBUG")
                .filter_directives()
                .unwrap(),
            "info,duo_gateway=debug"
        );
    }

    #[test]
    fn bad_levels_name_the_key() {
        for level in ["verbose", "", "info,=debug", "duo=loud"] {
            let err = with_level(level).validate().unwrap_err();
            assert_eq!(err.key, "logging.level", "{level}");
            assert!(err.to_string().starts_with("invalid setting logging.level"));
        }
    }

    #[test]
    fn bad_regex_names_its_index() {
        let c = LoggingConfig {
            redact_patterns: vec!["ok-[0-9]+".into(), "(unclosed".into()],
            ..LoggingConfig::default()
        };
        let err = c.validate().unwrap_err();
        assert_eq!(err.key, "logging.redact_patterns[1]");
    }

    #[test]
    fn zero_cap_is_refused() {
        let c = LoggingConfig {
            max_field_chars: 0,
            ..LoggingConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "logging.max_field_chars");
    }

    #[test]
    fn deserializes_with_defaults_for_missing_keys() {
        let c: LoggingConfig = serde_json::from_str(
            r#"{"level": "debug", "enable_request_logging": true, "user_id_salt": "pepper"}"#,
        )
        .unwrap();
        assert_eq!(c.level, "debug");
        assert!(c.enable_request_logging);
        assert!(c.format_json);
        assert_eq!(c.max_field_chars, 10_000);
        assert!(!format!("{c:?}").contains("pepper"));
    }
}
