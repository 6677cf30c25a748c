//! [`GoogleAuth`]: OAuth2 access tokens for Vertex AI from Application Default Credentials: a
//! service-account key file (a signed JWT exchanged with the JWT-bearer grant, RFC 7523, at the
//! key's `token_uri`) or the metadata server's default service account, cached until shortly
//! before they expire.
//!
//! Every fetch goes through the gateway's HTTP client and egress policy. The one exception the
//! policy makes is the metadata server, which lives at a link-local address: its client allows
//! link-local destinations and is used for nothing but `GET …/service-accounts/default/token`.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use duo_core::{Error, Secret};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::http::{ErrorResponse, HttpClient, excerpt};

/// The scope Vertex AI calls need.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The grant type of a signed-JWT exchange.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// A token answer is small; anything larger is not one.
const MAX_TOKEN_ANSWER: usize = 64 * 1024;
/// A token is refreshed this long before it expires (at most half its lifetime).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The fields of a service-account key file that signing needs.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    client_email: String,
    #[serde(default)]
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

/// The claims of the signed assertion.
#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// A token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

enum Source {
    /// A service account's key: sign, then exchange.
    ServiceAccount {
        email: String,
        key: EncodingKey,
        key_id: Option<String>,
        token_uri: Url,
        http: HttpClient,
    },
    /// The metadata server's default service account.
    Metadata { url: Url, http: HttpClient },
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// Access tokens for one set of Google credentials, shared by every Vertex model.
pub struct GoogleAuth {
    source: Source,
    /// Where tokens come from, for errors (`Google OAuth at https://oauth2.googleapis.com/token`).
    upstream: String,
    /// One fetch at a time; callers wait for it rather than each fetching.
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleAuth")
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

impl GoogleAuth {
    /// Credentials from a service-account key file; `token_uri` overrides the key's.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file: unreadable, not JSON, not a `service_account` key, or
    /// a private key that is not RSA PEM.
    pub fn service_account(
        path: &Path,
        token_uri: Option<&str>,
        http: HttpClient,
    ) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!("vertex credentials file {}: {e}", path.display()))
        })?;
        Self::service_account_json(
            &text,
            &format!("vertex credentials file {}", path.display()),
            token_uri,
            http,
        )
    }

    /// Credentials from a service-account key given as JSON text; `shown` names it in errors
    /// (never its content).
    ///
    /// # Errors
    /// As [`service_account`](Self::service_account).
    pub fn service_account_json(
        text: &str,
        shown: &str,
        token_uri: Option<&str>,
        http: HttpClient,
    ) -> Result<Self, Error> {
        let file: KeyFile = serde_json::from_str(text).map_err(|e| {
            Error::Config(format!("{shown} is not JSON: {}", where_json_breaks(&e)))
        })?;
        if file.kind != "service_account" {
            return Err(Error::Config(format!(
                "{shown}: type '{}' is not supported; use a service account key (type \
                 service_account) or the metadata server",
                excerpt(&file.kind, 40)
            )));
        }
        if file.client_email.is_empty() {
            return Err(Error::Config(format!("{shown}: no client_email")));
        }
        let key = EncodingKey::from_rsa_pem(file.private_key.as_bytes())
            .map_err(|_| Error::Config(format!("{shown}: private_key is not an RSA key in PEM")))?;
        let uri = token_uri
            .map(str::to_owned)
            .or(file.token_uri)
            .unwrap_or_else(|| "https://oauth2.googleapis.com/token".to_owned());
        let token_uri = Url::parse(&uri).map_err(|e| {
            Error::Config(format!("vertex token_uri '{}': {e}", excerpt(&uri, 100)))
        })?;
        Ok(Self {
            upstream: format!("Google OAuth at {token_uri}"),
            source: Source::ServiceAccount {
                email: file.client_email,
                key,
                key_id: file.private_key_id.filter(|k| !k.is_empty()),
                token_uri,
                http,
            },
            cache: Mutex::new(None),
        })
    }

    /// Credentials of the metadata server at `base` (`http://metadata.google.internal`);
    /// `http` must be a client that may reach it (link-local allowed).
    ///
    /// # Errors
    /// [`Error::Config`] if the token path cannot be joined to `base`.
    pub fn metadata_server(base: &Url, http: HttpClient) -> Result<Self, Error> {
        let url = base
            .join("/computeMetadata/v1/instance/service-accounts/default/token")
            .map_err(|e| Error::Config(format!("vertex.metadata_host: {e}")))?;
        Ok(Self {
            upstream: format!(
                "the metadata server at {}",
                base.as_str().trim_end_matches('/')
            ),
            source: Source::Metadata { url, http },
            cache: Mutex::new(None),
        })
    }

    /// A valid access token: the cached one, or a new one when it is close to expiry.
    ///
    /// # Errors
    /// The token endpoint's refusal ([`Error::UpstreamAuth`] for a 4xx, the status's error for
    /// others), a connection failure, or an answer without a token.
    pub async fn token(&self) -> Result<Secret, Error> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let (token, lifetime) = self.fetch().await?;
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        *cache = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(token)
    }

    /// Forgets the cached token (after the API refused it).
    pub async fn forget(&self) {
        *self.cache.lock().await = None;
    }

    async fn fetch(&self) -> Result<(Secret, Duration), Error> {
        let (http, request) = match &self.source {
            Source::ServiceAccount {
                email,
                key,
                key_id,
                token_uri,
                http,
            } => {
                let now = unix_now();
                let claims = Assertion {
                    iss: email,
                    scope: CLOUD_PLATFORM_SCOPE,
                    aud: token_uri.as_str(),
                    iat: now,
                    exp: now + 3600,
                };
                let mut header = Header::new(Algorithm::RS256);
                header.kid.clone_from(key_id);
                let assertion = jsonwebtoken::encode(&header, &claims, key).map_err(|e| {
                    Error::Config(format!("cannot sign the Google token assertion: {e}"))
                })?;
                let form = format!(
                    "grant_type={}&assertion={assertion}",
                    url::form_urlencoded::byte_serialize(JWT_BEARER.as_bytes()).collect::<String>()
                );
                let request = http
                    .inner()
                    .post(token_uri.clone())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form);
                (http, request)
            }
            Source::Metadata { url, http } => {
                let request = http
                    .inner()
                    .get(url.clone())
                    .query(&[("scopes", CLOUD_PLATFORM_SCOPE)])
                    .header("metadata-flavor", "Google");
                (http, request)
            }
        };
        let response = http.send(&self.upstream, request).await?;
        if !response.status().is_success() {
            let answer = ErrorResponse::read(response, &self.upstream).await;
            let message = format!("no access token: {}", answer.quoted());
            return Err(
                if (400..500).contains(&answer.status) && answer.status != 429 {
                    Error::UpstreamAuth {
                        upstream: self.upstream.clone(),
                        status: answer.status,
                        message,
                    }
                } else {
                    Error::from_status(&self.upstream, answer.status, message, answer.retry_after)
                },
            );
        }
        let bytes = crate::bounded::read_body(response, MAX_TOKEN_ANSWER, &self.upstream).await?;
        let answer: TokenAnswer = serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
            upstream: self.upstream.clone(),
            message: format!("the token answer is not what Google sends: {e}"),
        })?;
        if answer.access_token.is_empty() {
            return Err(Error::Protocol {
                upstream: self.upstream.clone(),
                message: "the token answer has an empty access_token".into(),
            });
        }
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600).min(24 * 3600));
        Ok((Secret::new(answer.access_token), lifetime))
    }
}

/// What kind of JSON error `e` is and where, without quoting the text (a key is never echoed).
fn where_json_breaks(e: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        e.classify(),
        e.line(),
        e.column()
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
