//! Wire format of the JWT claims the gateway reads and writes (serde structs only).

use std::collections::HashMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

/// The claims of an incoming token that the gateway uses. Unknown claims are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TokenClaims {
    /// Subject: the GitLab instance (instance tokens) or the global user id (gateway tokens).
    #[serde(deserialize_with = "lenient_string")]
    pub(crate) sub: Option<String>,
    /// Issuer.
    #[serde(deserialize_with = "lenient_string")]
    pub(crate) iss: Option<String>,
    /// Unit primitives granted.
    pub(crate) scopes: Vec<String>,
    /// `saas` or `self-managed`.
    #[serde(deserialize_with = "lenient_string")]
    pub(crate) gitlab_realm: Option<String>,
    /// The GitLab instance id.
    #[serde(deserialize_with = "lenient_string")]
    pub(crate) gitlab_instance_id: Option<String>,
    /// The instance's unique id (self-managed).
    #[serde(deserialize_with = "lenient_string")]
    pub(crate) gitlab_instance_uid: Option<String>,
    /// Expiry, Unix seconds (already checked by the verification; kept to bound how long the
    /// verified token is remembered).
    pub(crate) exp: Option<f64>,
    /// The claims the gateway does not read (see [`OtherClaims`]).
    #[serde(flatten)]
    _other: OtherClaims,
}

/// The claims a struct does not read. Flattened into it, this also makes serde read the struct
/// from a JSON object only, as a claims set is (RFC 7519 §4): a derived struct alone would take
/// an array too, by position, and [`IssuerOnly`] would then read another claim (the first) as
/// the issuer that picks the key source.
pub(crate) type OtherClaims = HashMap<String, IgnoredAny>;

/// Only the issuer, read before verification to pick the key source.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IssuerOnly {
    /// Issuer.
    #[serde(deserialize_with = "lenient_string")]
    pub(crate) iss: Option<String>,
    /// The other claims (see [`OtherClaims`]).
    #[serde(flatten)]
    _other: OtherClaims,
}

/// The claims of a token the gateway signs (`/v1/code/user_access_token`).
#[derive(Debug, Serialize)]
pub(crate) struct IssuedClaims<'a> {
    pub(crate) iss: &'a str,
    pub(crate) sub: &'a str,
    pub(crate) aud: &'a str,
    pub(crate) exp: u64,
    pub(crate) nbf: u64,
    pub(crate) iat: u64,
    pub(crate) jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gitlab_realm: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gitlab_instance_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gitlab_instance_uid: Option<&'a str>,
    pub(crate) scopes: Vec<&'static str>,
}

/// Accepts a string, a number or null; empty strings become `None`.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        I(i64),
        U(u64),
        F(f64),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::S(s)) if !s.is_empty() => Some(s),
        Some(Raw::I(n)) => Some(n.to_string()),
        Some(Raw::U(n)) => Some(n.to_string()),
        Some(Raw::F(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_empty_strings_are_read_leniently() {
        let c: TokenClaims = serde_json::from_str(
            r#"{"sub":"u1","gitlab_instance_id":42,"gitlab_realm":"","scopes":["complete_code"],"other":1}"#,
        )
        .unwrap();
        assert_eq!(c.sub.as_deref(), Some("u1"));
        assert_eq!(c.gitlab_instance_id.as_deref(), Some("42"));
        assert_eq!(c.gitlab_realm, None);
        assert_eq!(c.scopes, vec!["complete_code"]);
        let c: TokenClaims = serde_json::from_str("{}").unwrap();
        assert!(c.scopes.is_empty() && c.iss.is_none());
    }

    /// Found by the `jwt` fuzz target: the claims `[7]` were read by position, as `sub` by
    /// `TokenClaims` and as `iss` by `IssuerOnly` (which picks the key source).
    #[test]
    fn claims_must_be_a_json_object() {
        let err = serde_json::from_str::<TokenClaims>("[7]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: sequence, expected struct TokenClaims at line 1 column 0"
        );
        let err = serde_json::from_str::<IssuerOnly>(r#"["gitlab-ai-gateway"]"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: sequence, expected struct IssuerOnly at line 1 column 0"
        );
        for claims in ["[]", "7", "null", r#""iss""#] {
            let err = serde_json::from_str::<TokenClaims>(claims).unwrap_err();
            assert!(
                err.to_string().contains("expected struct TokenClaims"),
                "{claims}: {err}"
            );
        }
        // Objects read as before, other claims ignored.
        let c: IssuerOnly = serde_json::from_str(r#"{"iss":"x","sub":"y","n":[1]}"#).unwrap();
        assert_eq!(c.iss.as_deref(), Some("x"));
    }

    #[test]
    fn scopes_of_the_wrong_type_are_rejected() {
        assert!(serde_json::from_str::<TokenClaims>(r#"{"scopes":"complete_code"}"#).is_err());
    }
}
