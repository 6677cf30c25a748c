//! [`Claims`]: a builder of token claims, pre-filled by [`super::FakeOidc::claims`].

use serde_json::Value;

use super::{FakeOidc, now};

/// Claims being built for a token; see [`FakeOidc::claims`].
pub struct Claims<'a> {
    pub(super) oidc: &'a FakeOidc,
    pub(super) value: Value,
}

impl Claims<'_> {
    /// Sets any claim.
    #[must_use]
    pub fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        if let Some(map) = self.value.as_object_mut() {
            map.insert(name.to_owned(), value.into());
        }
        self
    }

    /// Removes a claim.
    #[must_use]
    pub fn remove(mut self, name: &str) -> Self {
        if let Some(map) = self.value.as_object_mut() {
            map.remove(name);
        }
        self
    }

    /// Sets `scopes`.
    #[must_use]
    pub fn scopes(self, scopes: &[&str]) -> Self {
        self.set(
            "scopes",
            scopes.iter().map(|s| Value::from(*s)).collect::<Vec<_>>(),
        )
    }

    /// Sets `sub`.
    #[must_use]
    pub fn subject(self, sub: &str) -> Self {
        self.set("sub", sub)
    }

    /// Sets `aud`.
    #[must_use]
    pub fn aud(self, aud: &str) -> Self {
        self.set("aud", aud)
    }

    /// Sets `exp` to now + `seconds` (negative: already expired).
    #[must_use]
    pub fn exp_in(self, seconds: i64) -> Self {
        self.set("exp", now() as i64 + seconds)
    }

    /// Sets `nbf` to now + `seconds` (positive: not valid yet).
    #[must_use]
    pub fn nbf_in(self, seconds: i64) -> Self {
        self.set("nbf", now() as i64 + seconds)
    }

    /// Sets `gitlab_realm`.
    #[must_use]
    pub fn realm(self, realm: &str) -> Self {
        self.set("gitlab_realm", realm)
    }

    /// Sets `gitlab_instance_id`.
    #[must_use]
    pub fn instance_id(self, id: &str) -> Self {
        self.set("gitlab_instance_id", id)
    }

    /// The claims as JSON.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// Signs the claims with the issuer's current key.
    pub fn sign(self) -> String {
        self.oidc.sign(&self.value)
    }
}
