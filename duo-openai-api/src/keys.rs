//! Client keys of the OpenAI-compatible API: read at start, kept as SHA-256 digests, checked in
//! constant time by [`require_key`], the sub-router's own auth layer (GitLab tokens do not
//! apply here, and these keys do not open GitLab's routes).

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use duo_logging::RequestLogHandle;
use ring::digest::{SHA256, digest};

use crate::ConfigError;
use crate::OpenAiState;
use crate::config::{ClientKeyEntry, OpenAiApiConfig};
use crate::error::OpenAiError;

const DIGEST_LEN: usize = 32;

/// The name of the client whose key authenticated the request (a request extension).
#[derive(Debug, Clone)]
pub struct ClientName(pub Arc<str>);

/// One accepted key: its digest and the client's name for the logs.
struct Key {
    digest: [u8; DIGEST_LEN],
    name: Arc<str>,
}

/// The accepted client keys. Holds digests only, so no key can leak through `Debug` or a dump.
pub(crate) struct ClientKeys {
    keys: Vec<Key>,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKeys")
            .field("count", &self.keys.len())
            .finish()
    }
}

impl ClientKeys {
    /// The keys of `openai_api.api_keys` and `openai_api.api_keys_file`.
    ///
    /// # Errors
    /// An empty key, an unreadable file, or no key at all, naming the setting.
    pub(crate) fn resolve(config: &OpenAiApiConfig) -> Result<Self, ConfigError> {
        let mut keys = Vec::new();
        for (i, entry) in config.api_keys.iter().enumerate() {
            let (name, key) = match entry {
                ClientKeyEntry::Plain(key) => (format!("api_keys[{i}]"), key.expose()),
                ClientKeyEntry::Named { name, key } => (name.trim().to_owned(), key.expose()),
            };
            let key = key.trim();
            if key.is_empty() || name.is_empty() {
                return Err(ConfigError(format!(
                    "openai_api.api_keys[{i}]: the key and its name must not be empty"
                )));
            }
            keys.push(Key::new(key, name));
        }
        if let Some(path) = &config.api_keys_file {
            keys.extend(read_key_file(path)?);
        }
        if keys.is_empty() {
            return Err(ConfigError(
                "openai_api.api_keys: the OpenAI-compatible API is enabled but no client key is \
                 configured (set api_keys or api_keys_file)"
                    .into(),
            ));
        }
        Ok(Self { keys })
    }

    /// The client name of `presented`, if it is one of the keys. Takes the same time whichever
    /// key matches or whether any does: the presented key is hashed once and every digest is
    /// compared in full.
    pub(crate) fn check(&self, presented: &str) -> Option<&Arc<str>> {
        let presented = sha256(presented);
        let mut found = None;
        for key in &self.keys {
            let equal = constant_time_eq(&key.digest, &presented);
            if equal && found.is_none() {
                found = Some(&key.name);
            }
        }
        found
    }

    /// No key at all (the API is disabled).
    pub(crate) fn none() -> Self {
        Self { keys: Vec::new() }
    }

    /// How many keys are accepted.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

impl Key {
    fn new(key: &str, name: String) -> Self {
        Self {
            digest: sha256(key),
            name: name.into(),
        }
    }
}

fn sha256(text: &str) -> [u8; DIGEST_LEN] {
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

fn constant_time_eq(a: &[u8; DIGEST_LEN], b: &[u8; DIGEST_LEN]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Keys from a file: one per line, `<key>` or `<name> <key>`; blank lines and `#` comments skipped.
fn read_key_file(path: &Path) -> Result<Vec<Key>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "openai_api.api_keys_file '{}': {e}",
            path.display()
        ))
    })?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (name, key) = match (words.next(), words.next(), words.next()) {
            (Some(key), None, None) => (format!("api_keys_file:{}", n + 1), key),
            (Some(name), Some(key), None) => (name.to_owned(), key),
            _ => {
                return Err(ConfigError(format!(
                    "openai_api.api_keys_file '{}' line {}: expected '<key>' or '<name> <key>'",
                    path.display(),
                    n + 1
                )));
            }
        };
        keys.push(Key::new(key, name));
    }
    Ok(keys)
}

/// The auth layer of the OpenAI-compatible routes: `Authorization: Bearer <key>` must carry one
/// of the configured client keys, else 401 in OpenAI's error shape (`invalid_api_key`).
pub(crate) async fn require_key(
    State(state): State<OpenAiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer);
    let log = request.extensions().get::<RequestLogHandle>().cloned();
    let error = match presented {
        None => OpenAiError::missing_key(),
        Some(key) => match state.api().keys.check(key) {
            Some(name) => {
                tracing::debug!(client = %name, "OpenAI-compatible API client authenticated");
                let name = ClientName(Arc::clone(name));
                request.extensions_mut().insert(name);
                return next.run(request).await;
            }
            None => OpenAiError::invalid_key(),
        },
    };
    if let Some(log) = log {
        log.set_error("unauthorized", error.message());
    }
    error.into_response()
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo_core::Secret;

    fn config(keys: &[ClientKeyEntry]) -> OpenAiApiConfig {
        OpenAiApiConfig {
            enabled: true,
            api_keys: keys.to_vec(),
            ..OpenAiApiConfig::default()
        }
    }

    #[test]
    fn keys_match_by_value_and_report_the_client_name() {
        let keys = ClientKeys::resolve(&config(&[
            ClientKeyEntry::Plain(Secret::new("sk-one")),
            ClientKeyEntry::Named {
                name: "ci-bot".into(),
                key: Secret::new("sk-two"),
            },
        ]))
        .unwrap();
        assert_eq!(keys.check("sk-one").map(|n| &**n), Some("api_keys[0]"));
        assert_eq!(keys.check("sk-two").map(|n| &**n), Some("ci-bot"));
        assert!(keys.check("sk-on").is_none());
        assert!(keys.check("sk-one ").is_none());
        assert!(keys.check("").is_none());
        assert!(!format!("{keys:?}").contains("sk-"));
    }

    #[test]
    fn key_files_take_names_and_skip_comments() {
        let dir = std::env::temp_dir().join(format!("duo-keys-{}", uuid::Uuid::new_v4()));
        std::fs::write(&dir, "# team keys\n\nsk-plain\nalice   sk-alice\n").unwrap();
        let mut c = config(&[]);
        c.api_keys_file = Some(dir.clone());
        let keys = ClientKeys::resolve(&c).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys.check("sk-plain").map(|n| &**n),
            Some("api_keys_file:3")
        );
        assert_eq!(keys.check("sk-alice").map(|n| &**n), Some("alice"));
        std::fs::write(&dir, "a b c\n").unwrap();
        let err = ClientKeys::resolve(&c).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        std::fs::remove_file(&dir).unwrap();
        let err = ClientKeys::resolve(&c).unwrap_err().to_string();
        assert!(err.contains("openai_api.api_keys_file"), "{err}");
    }

    #[test]
    fn no_or_empty_keys_are_config_errors() {
        let err = ClientKeys::resolve(&config(&[])).unwrap_err().to_string();
        assert!(err.contains("openai_api.api_keys"), "{err}");
        let err = ClientKeys::resolve(&config(&[ClientKeyEntry::Plain(Secret::new(" "))]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("openai_api.api_keys[0]"), "{err}");
    }

    #[test]
    fn bearer_parses_the_scheme_case_insensitively() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }
}
