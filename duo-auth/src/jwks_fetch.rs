//! [`Fetcher`]: reads the issuers' signing keys over HTTP, bounded in time and size.
//!
//! For each issuer: `<issuer>/.well-known/openid-configuration`, then the `jwks_uri` it names.
//! Each document is read chunk by chunk and refused as soon as it passes
//! [`MAX_DOCUMENT_BYTES`] (or at once when its `Content-Length` says it would), so a huge or
//! endless answer costs at most that much memory. One issuer's whole fetch (both documents) is
//! bounded by the fetch timeout, and each request carries it too.

use std::time::Duration;

use jsonwebtoken::Validation;

use super::jwk::{OidcKey, usable_key};
use super::jwks_wire::{Discovery, RawJwkSet};

/// Largest discovery or JWKS document the gateway reads (1 MiB; GitLab's JWKS is ~1 KiB).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The issuers and how to reach them.
pub(crate) struct Fetcher {
    /// `(setting, base URL)` of each issuer.
    pub(crate) issuers: Vec<(&'static str, String)>,
    /// The client (built by the caller: its egress policy and proxies apply).
    pub(crate) http: duo_providers::HttpClient,
    /// Bound of one issuer's fetch (discovery and JWKS together).
    pub(crate) timeout: Duration,
    /// Template for each key's validation (audience, leeway, required claims).
    pub(crate) base_validation: Validation,
}

impl Fetcher {
    /// The issuer base URLs, for logs.
    pub(crate) fn issuer_urls(&self) -> Vec<&str> {
        self.issuers.iter().map(|(_, u)| u.as_str()).collect()
    }

    /// Fetches every issuer's keys concurrently; an issuer that fails is logged and skipped.
    pub(crate) async fn fetch_all(&self) -> Vec<OidcKey> {
        let fetches = self.issuers.iter().map(|(name, url)| async move {
            let outcome = tokio::time::timeout(self.timeout, self.fetch_issuer(url))
                .await
                .unwrap_or_else(|_| {
                    Err(format!(
                        "no answer within the fetch timeout ({:?})",
                        self.timeout
                    ))
                });
            match outcome {
                Ok(keys) => keys,
                Err(error) => {
                    tracing::warn!(setting = name, url = %url, %error, "could not fetch the OIDC signing keys");
                    Vec::new()
                }
            }
        });
        futures::future::join_all(fetches)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    async fn fetch_issuer(&self, base_url: &str) -> Result<Vec<OidcKey>, String> {
        let discovery_url = format!("{base_url}/.well-known/openid-configuration");
        let discovery: Discovery = self.get_json(&discovery_url).await?;
        let set: RawJwkSet = self.get_json(&discovery.jwks_uri).await?;
        let mut keys = Vec::with_capacity(set.keys.len());
        for raw in set.keys {
            match usable_key(raw, &self.base_validation) {
                Ok(key) => keys.push(key),
                Err(why) => tracing::debug!(jwks_uri = %discovery.jwks_uri, why, "JWK skipped"),
            }
        }
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let request = self.http.inner().get(url).timeout(self.timeout);
        let response = self
            .http
            .send("the OIDC issuer", request)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        let body = read_capped(response, MAX_DOCUMENT_BYTES)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        serde_json::from_slice(&body).map_err(|e| format!("GET {url}: unreadable JSON: {e}"))
    }
}

/// Reads a response body of at most `cap` bytes, chunk by chunk; a larger one is an error
/// naming the cap (refused before reading when `Content-Length` already says so).
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    let over = |what: String| format!("{what} is over the {cap}-byte limit of OIDC documents");
    if let Some(declared) = response.content_length()
        && declared > cap as u64
    {
        return Err(over(format!("the document ({declared} bytes)")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
    {
        if body.len() + chunk.len() > cap {
            return Err(over("the document".to_owned()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
