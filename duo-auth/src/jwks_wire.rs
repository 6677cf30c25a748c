//! Wire format of OIDC discovery and JWKS documents (serde structs only).

use serde::Deserialize;

/// The part of `/.well-known/openid-configuration` the gateway reads.
#[derive(Debug, Deserialize)]
pub(crate) struct Discovery {
    /// Where the issuer publishes its signing keys.
    pub(crate) jwks_uri: String,
}

/// A JWKS document; each key is parsed on its own so one odd key does not hide the others.
#[derive(Debug, Deserialize)]
pub(crate) struct RawJwkSet {
    /// The keys, unparsed.
    #[serde(default)]
    pub(crate) keys: Vec<serde_json::Value>,
}
