//! # duo-auth
//!
//! Who is calling: the authentication of GitLab Duo's callers, for the duo gateway and for any
//! other Rust service that a GitLab instance (or an IDE holding a gateway-issued token) calls.
//!
//! - [`AuthConfig`]: the `[auth]` settings (issuers, bypass switches, self-signed keys, cache).
//! - [`Authenticator`]: verifies `Authorization: Bearer` tokens: the GitLab instance's (keys from
//!   OIDC discovery, cached and refreshed without making requests queue: see `jwks`) and the
//!   gateway's own (signing key, configured or ephemeral ([`SigningKeySource`]), and during a
//!   rotation the previous validation key); refuses a JWS header with `crit`; checks audience,
//!   expiry and the context headers; signs user tokens ([`Authenticator::issue_user_token`]).
//! - [`Caller`]: who is calling and which unit primitives ([`Caller::can`]) the token grants.
//! - [`AuthError`]: the exact 401 messages of GitLab's AI gateway, as an axum response.
//! - [`require_auth`]: the axum middleware that runs all of it before a handler sees the
//!   request, and puts the [`Caller`] (an extractor) and [`AuthDuration`] in its extensions.
//!
//! Discovery and key fetches go through a `duo_providers::HttpClient` handed in: the same egress
//! policy as every model call (resolved addresses checked, no redirects), and the caller's CA
//! roots. The type leaves no way to pass a client without that policy.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, routing::post};
//! use duo_auth::{AuthConfig, Authenticator, Caller, require_auth};
//! use duo_core::UnitPrimitive;
//! use duo_providers::{EgressPolicy, HttpClient, HttpSettings};
//!
//! async fn complete(caller: Caller) -> &'static str {
//!     if caller.can(UnitPrimitive::CompleteCode) { "ok" } else { "forbidden" }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let gitlab_url = "https://gitlab.example.com"; // the OIDC issuer: the GitLab instance's URL
//! # // the doctest's GitLab instance: a fake OIDC issuer on loopback that signs tokens
//! # let gitlab = duo_testkit::oidc::FakeOidc::start().await;
//! # let gitlab_url = gitlab.url();
//! let config = AuthConfig { gitlab_url: Some(gitlab_url.into()), ..AuthConfig::default() };
//! let http = HttpClient::new(
//!     &HttpSettings::default(),
//!     std::time::Duration::from_secs(10),
//!     &EgressPolicy::default(),
//! )?;
//! let auth = Arc::new(Authenticator::new(&config, &http)?);
//! let app = Router::new()
//!     .route("/complete", post(complete))
//!     .route_layer(axum::middleware::from_fn_with_state(auth, require_auth));
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}/complete", listener.local_addr()?);
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! // What the GitLab instance sends: `Authorization: Bearer <a token it signed>` with
//! // `X-Gitlab-Authentication-Type: oidc`, `X-Gitlab-Instance-Id` and `X-Gitlab-Realm`.
//! # let headers = duo_testkit::oidc::gitlab_headers(&gitlab.token(&["complete_code"]));
//! let client = reqwest::Client::new();
//! let answer = client.post(&url).headers(headers).send().await?;
//! assert_eq!(answer.text().await?, "ok");
//! // Without a token the handler never runs: 401 with GitLab's AI gateway's message.
//! assert_eq!(client.post(&url).send().await?.status(), 401);
//! # Ok(()) }
//! ```
//!
//! `AUTH.md` in this crate describes the settings and key rotation for operators.

mod authenticator;
mod caller;
mod claims;
mod config;
mod error;
mod jwk;
mod jwks;
mod jwks_fetch;
mod jwks_wire;
mod jws_header;
mod local_keys;
mod middleware;
mod verified;

/// Entry points for the `jwt` fuzz target in `fuzz/`, compiled only with `--cfg fuzzing` (as
/// `cargo fuzz` builds): not public API. They reach the header and claims parsing that
/// [`Authenticator`] does before a signature is checked.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use super::caller::Caller;
    use super::claims::{IssuerOnly, TokenClaims};

    /// The debug caller a bypass gives (every scope), for fuzzing handlers behind the layer.
    #[must_use]
    pub fn bypass_caller(global_user_id: Option<String>, instance_id: Option<String>) -> Caller {
        Caller::bypass(global_user_id, instance_id, None)
    }

    /// Why the JWS protected header of `token` is refused (`Unreadable`, `Critical`), if it is:
    /// the check the authenticator makes before any key is looked up.
    #[must_use]
    pub fn jws_header_refusal(token: &str) -> Option<String> {
        super::jws_header::check_header(token)
            .err()
            .map(|why| format!("{why:?}"))
    }

    /// The claims JSON parsed as the authenticator reads a verified token's payload
    /// (`TokenClaims`): its issuer and number of scopes.
    ///
    /// # Errors
    /// serde's message when the claims do not fit.
    pub fn token_claims(json: &[u8]) -> Result<(Option<String>, usize), String> {
        let claims: TokenClaims = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        Ok((claims.iss, claims.scopes.len()))
    }

    /// The issuer as the authenticator peeks at it (`IssuerOnly`) to pick the key source of a
    /// token without `kid`.
    ///
    /// # Errors
    /// serde's message when the payload does not fit.
    pub fn peeked_issuer(json: &[u8]) -> Result<Option<String>, String> {
        let peeked: IssuerOnly = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        Ok(peeked.iss)
    }
}

pub use authenticator::{
    AUTHENTICATION_TYPE_HEADER, Authenticator, BYPASS_HEADER, GLOBAL_USER_ID_HEADER,
    INSTANCE_ID_HEADER, REALM_HEADER,
};
pub use caller::Caller;
pub use config::{AuthConfig, AuthConfigError, DEFAULT_AUDIENCE, SELF_ISSUER};
pub use error::AuthError;
pub use local_keys::SigningKeySource;
pub use middleware::{AuthDuration, require_auth};
