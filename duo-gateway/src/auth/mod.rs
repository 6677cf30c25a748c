//! Authentication and authorisation of callers (GitLab instance JWTs, self-signed tokens, bypass).
//!
//! - [`AuthConfig`]: the `[auth]` settings (issuers, bypass switches, self-signed keys, cache).
//! - [`Authenticator`]: verifies `Authorization: Bearer` tokens: the GitLab instance's (keys from
//!   OIDC discovery, cached and refreshed without making requests queue: see `jwks`) and the
//!   gateway's own (signing key, configured or ephemeral ([`SigningKeySource`]), and during a
//!   rotation the previous validation key); refuses a JWS header with `crit`; checks audience,
//!   expiry and the context headers; signs user tokens ([`Authenticator::issue_user_token`]).
//! - [`Caller`]: who is calling and which unit primitives ([`Caller::can`]) the token grants.
//! - [`AuthError`]: the reference's exact 401 messages, as an axum response.
//! - [`require_auth`]: the middleware that runs all of it before a handler sees the request.
//!
//! `AUTH.md` in the crate describes the settings and key rotation for operators.

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

/// The parsing behind [`crate::fuzzing`]'s JWT helpers.
#[cfg(fuzzing)]
pub(crate) mod fuzzing {
    use super::claims::{IssuerOnly, TokenClaims};

    /// See [`crate::fuzzing::jws_header_refusal`].
    pub(crate) fn jws_header_refusal(token: &str) -> Option<String> {
        super::jws_header::check_header(token)
            .err()
            .map(|why| format!("{why:?}"))
    }

    /// See [`crate::fuzzing::token_claims`].
    pub(crate) fn token_claims(json: &[u8]) -> Result<(Option<String>, usize), String> {
        let claims: TokenClaims = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        Ok((claims.iss, claims.scopes.len()))
    }

    /// See [`crate::fuzzing::peeked_issuer`].
    pub(crate) fn peeked_issuer(json: &[u8]) -> Result<Option<String>, String> {
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
