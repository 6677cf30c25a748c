//! Signing keys of the OIDC issuers (the GitLab instance, optionally the customer portal):
//! discovered lazily, cached for a TTL, refreshed on an unknown `kid` with a rate limit, and
//! fetched by one task at a time (concurrent requests wait for that fetch and share its result).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::jwks_wire::{Discovery, RawJwkSet};

/// One issuer key, ready to verify with.
pub(crate) struct OidcKey {
    /// The JWK's `kid`.
    pub(crate) kid: Option<String>,
    /// The public key.
    pub(crate) decoding: DecodingKey,
    /// Audience, leeway and the algorithms this key may verify.
    pub(crate) validation: Validation,
}

/// A snapshot of the merged key sets of all issuers.
#[derive(Default)]
pub(crate) struct KeySet {
    /// Bumped on every successful fetch.
    generation: u64,
    /// When the keys were fetched; `None` before the first successful fetch.
    fetched_at: Option<Instant>,
    /// The usable keys.
    pub(crate) keys: Vec<OidcKey>,
}

impl KeySet {
    fn is_fresh(&self, ttl: Duration) -> bool {
        self.fetched_at.is_some_and(|t| t.elapsed() < ttl)
    }

    fn knows(&self, kid: Option<&str>) -> bool {
        match kid {
            Some(kid) => self.keys.iter().any(|k| k.kid.as_deref() == Some(kid)),
            None => !self.keys.is_empty(),
        }
    }

    /// The keys a token with this `kid` may be verified with (all keys when it has none).
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a OidcKey> {
        self.keys
            .iter()
            .filter(move |k| kid.is_none() || k.kid.as_deref() == kid)
    }
}

/// When the last fetch was attempted, guarded by the single-flight lock.
#[derive(Default)]
struct RefreshState {
    last_attempt: Option<Instant>,
}

/// The OIDC key source: issuers, HTTP client and the cache.
pub(crate) struct OidcKeys {
    issuers: Vec<(&'static str, String)>,
    http: reqwest::Client,
    ttl: Duration,
    min_refresh: Duration,
    fetch_timeout: Duration,
    /// Template for each key's validation (audience, leeway, required claims).
    base_validation: Validation,
    current: RwLock<Arc<KeySet>>,
    refresh: tokio::sync::Mutex<RefreshState>,
}

/// Settings of [`OidcKeys`].
pub(crate) struct OidcSettings {
    pub(crate) ttl: Duration,
    pub(crate) min_refresh: Duration,
    pub(crate) fetch_timeout: Duration,
    pub(crate) base_validation: Validation,
}

impl OidcKeys {
    /// A key source for `issuers`; nothing is fetched until the first token needs a key.
    pub(crate) fn new(
        issuers: Vec<(&'static str, String)>,
        http: reqwest::Client,
        s: OidcSettings,
    ) -> Self {
        Self {
            issuers,
            http,
            ttl: s.ttl,
            min_refresh: s.min_refresh,
            fetch_timeout: s.fetch_timeout,
            base_validation: s.base_validation,
            current: RwLock::new(Arc::new(KeySet::default())),
            refresh: tokio::sync::Mutex::new(RefreshState::default()),
        }
    }

    /// The issuer base URLs, for logs.
    pub(crate) fn issuer_urls(&self) -> Vec<&str> {
        self.issuers.iter().map(|(_, u)| u.as_str()).collect()
    }

    fn snapshot(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn store(&self, set: Arc<KeySet>) {
        match self.current.write() {
            Ok(mut guard) => *guard = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    /// A key set that should verify a token with this `kid`, fetching or refreshing if needed.
    ///
    /// `None` when no keys at all are available (every issuer unreachable). A returned set may
    /// still lack the `kid` (refresh rate-limited, or the issuer does not know it either).
    pub(crate) async fn key_set_for(&self, kid: Option<&str>) -> Option<Arc<KeySet>> {
        let seen = self.snapshot();
        if seen.is_fresh(self.ttl) && seen.knows(kid) {
            return Some(seen);
        }

        let mut state = self.refresh.lock().await;
        let current = self.snapshot();
        if current.generation != seen.generation && current.is_fresh(self.ttl) {
            // Another request refreshed while this one waited: use its result, do not refetch.
            return Some(current);
        }
        let rate_limited = state
            .last_attempt
            .is_some_and(|t| t.elapsed() < self.min_refresh);
        if rate_limited {
            tracing::debug!(kid, "JWKS refresh skipped: rate-limited");
            return (!current.keys.is_empty()).then_some(current);
        }
        let reason = if current.fetched_at.is_none() {
            "first use"
        } else if !current.is_fresh(self.ttl) {
            "cache expired"
        } else {
            "unknown kid"
        };
        state.last_attempt = Some(Instant::now());
        let keys = self.fetch_all().await;
        if keys.is_empty() {
            tracing::warn!(
                issuers = ?self.issuer_urls(),
                "No keys found in JWKS; is the OIDC provider up?"
            );
            return (!current.keys.is_empty()).then_some(current);
        }
        let kids: Vec<&str> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        tracing::info!(reason, ?kids, "JWKS refreshed");
        let fresh = Arc::new(KeySet {
            generation: current.generation + 1,
            fetched_at: Some(Instant::now()),
            keys,
        });
        self.store(Arc::clone(&fresh));
        Some(fresh)
    }

    /// Fetches every issuer's keys concurrently; an issuer that fails is logged and skipped.
    async fn fetch_all(&self) -> Vec<OidcKey> {
        let fetches = self.issuers.iter().map(|(name, url)| async move {
            match self.fetch_issuer(url).await {
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
            match self.usable_key(raw) {
                Ok(key) => keys.push(key),
                Err(why) => tracing::debug!(jwks_uri = %discovery.jwks_uri, why, "JWK skipped"),
            }
        }
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self
            .http
            .get(url)
            .timeout(self.fetch_timeout)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        response
            .json::<T>()
            .await
            .map_err(|e| format!("GET {url}: unreadable JSON: {e}"))
    }

    /// Turns one JWK into a verification key, or says why it cannot verify tokens.
    fn usable_key(&self, raw: serde_json::Value) -> Result<OidcKey, String> {
        let jwk: Jwk = serde_json::from_value(raw).map_err(|e| format!("unsupported JWK: {e}"))?;
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            return Err("not a signing key (use)".into());
        }
        if let Some(ops) = &jwk.common.key_operations
            && !ops.contains(&KeyOperations::Verify)
        {
            return Err("not a verification key (key_ops)".into());
        }
        let algorithms = algorithms_for(&jwk)?;
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| format!("bad key material: {e}"))?;
        let mut validation = self.base_validation.clone();
        validation.algorithms = algorithms;
        Ok(OidcKey {
            kid: jwk.common.key_id,
            decoding,
            validation,
        })
    }
}

/// The signature algorithms a JWK may verify: its `alg` if given, else those of its key type.
/// Symmetric (`oct`) keys are refused: a published key must never verify HMAC tokens.
fn algorithms_for(jwk: &Jwk) -> Result<Vec<Algorithm>, String> {
    let family: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return Err("unsupported EC curve".into()),
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            vec![Algorithm::EdDSA]
        }
        AlgorithmParameters::OctetKeyPair(_) => return Err("unsupported OKP curve".into()),
        AlgorithmParameters::OctetKey(_) => return Err("symmetric keys are not accepted".into()),
    };
    match jwk.common.key_algorithm {
        None => Ok(family),
        Some(alg) => {
            let alg: Algorithm = alg
                .to_string()
                .parse()
                .map_err(|_| format!("alg {alg} is not a signature algorithm"))?;
            if family.contains(&alg) {
                Ok(vec![alg])
            } else {
                Err(format!("alg {alg:?} does not match the key type"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(v: serde_json::Value) -> Jwk {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn algorithms_follow_the_jwk() {
        let rsa = serde_json::json!({"kty":"RSA","n":"AQAB","e":"AQAB"});
        assert_eq!(algorithms_for(&jwk(rsa.clone())).unwrap().len(), 6);
        let mut with_alg = rsa;
        with_alg["alg"] = "RS256".into();
        assert_eq!(
            algorithms_for(&jwk(with_alg.clone())).unwrap(),
            vec![Algorithm::RS256]
        );
        with_alg["alg"] = "ES256".into();
        assert!(algorithms_for(&jwk(with_alg.clone())).is_err());
        with_alg["alg"] = "RSA-OAEP".into();
        assert!(algorithms_for(&jwk(with_alg)).is_err());
        let oct = serde_json::json!({"kty":"oct","k":"c2VjcmV0"});
        assert!(algorithms_for(&jwk(oct)).is_err());
        let ec = serde_json::json!({"kty":"EC","crv":"P-256","x":"AA","y":"AA"});
        assert_eq!(algorithms_for(&jwk(ec)).unwrap(), vec![Algorithm::ES256]);
    }
}
