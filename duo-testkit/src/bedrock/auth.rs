//! How a request to the fakes authenticated itself: SigV4 (`Authorization: AWS4-HMAC-SHA256
//! Credential=<key id>/<date>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=…`),
//! a Bedrock API key (`Authorization: Bearer <key>`), or neither.

use axum::http::HeaderMap;

/// The answer Bedrock gives a request whose API key is wrong or missing: 403 with this
/// `Message` (capital `M`, as Bedrock's API-key front end spells it).
pub const API_KEY_REJECTED: &str = "Authentication failed: Please make sure your API Key is valid.";

/// A request's authentication, as read from its `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Signed with SigV4.
    SigV4 {
        /// The access key id of the `Credential=` scope.
        access_key_id: String,
        /// The credential scope's region (`us-east-1`).
        region: String,
        /// The credential scope's service (`bedrock`, `sts`).
        service: String,
    },
    /// `Authorization: Bearer <token>` (a Bedrock API key).
    Bearer(String),
    /// No `Authorization` header.
    Missing,
    /// Any other `Authorization` value (not valid UTF-8, another scheme, a malformed SigV4 one).
    Other(String),
}

impl Auth {
    /// Reads the `Authorization` header of `headers`.
    #[must_use]
    pub fn of(headers: &HeaderMap) -> Self {
        let Some(value) = headers.get("authorization") else {
            return Self::Missing;
        };
        let Ok(value) = value.to_str() else {
            return Self::Other(String::from_utf8_lossy(value.as_bytes()).into_owned());
        };
        Self::parse(value)
    }

    /// Parses an `Authorization` header value.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return Self::Bearer(token.to_owned());
        }
        value
            .strip_prefix("AWS4-HMAC-SHA256 ")
            .and_then(sigv4_scope)
            .unwrap_or_else(|| Self::Other(value.to_owned()))
    }

    /// Whether the request was SigV4-signed.
    #[must_use]
    pub fn is_sigv4(&self) -> bool {
        matches!(self, Self::SigV4 { .. })
    }

    /// The SigV4 access key id, if signed.
    #[must_use]
    pub fn access_key_id(&self) -> Option<&str> {
        match self {
            Self::SigV4 { access_key_id, .. } => Some(access_key_id),
            _ => None,
        }
    }

    /// The bearer token, if any.
    #[must_use]
    pub fn bearer(&self) -> Option<&str> {
        match self {
            Self::Bearer(token) => Some(token),
            _ => None,
        }
    }
}

/// `Credential=AKID/20240620/us-east-1/bedrock/aws4_request, SignedHeaders=…, Signature=…`.
fn sigv4_scope(rest: &str) -> Option<Auth> {
    let mut credential = None;
    let mut signed = false;
    for part in rest.split(',').map(str::trim) {
        if let Some(scope) = part.strip_prefix("Credential=") {
            credential = Some(scope);
        } else if part.starts_with("SignedHeaders=") || part.starts_with("Signature=") {
            signed = true;
        }
    }
    let mut scope = credential?.split('/');
    let (Some(access_key_id), Some(_date), Some(region), Some(service), Some("aws4_request")) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return None;
    };
    (signed && !access_key_id.is_empty()).then(|| Auth::SigV4 {
        access_key_id: access_key_id.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_values_are_told_apart() {
        let signed = Auth::parse(
            "AWS4-HMAC-SHA256 Credential=ASIAFAKE/20240620/eu-west-1/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, Signature=abcdef",
        );
        assert_eq!(
            signed,
            Auth::SigV4 {
                access_key_id: "ASIAFAKE".into(),
                region: "eu-west-1".into(),
                service: "bedrock".into(),
            }
        );
        assert!(signed.is_sigv4());
        assert_eq!(signed.access_key_id(), Some("ASIAFAKE"));
        assert_eq!(
            Auth::parse("Bearer bedrock-api-key-x").bearer(),
            Some("bedrock-api-key-x")
        );
        assert_eq!(
            Auth::parse("AWS4-HMAC-SHA256 Credential=AKID/20240620/us-east-1/bedrock"),
            Auth::Other("AWS4-HMAC-SHA256 Credential=AKID/20240620/us-east-1/bedrock".into())
        );
        assert_eq!(Auth::of(&HeaderMap::new()), Auth::Missing);
        assert_eq!(Auth::parse("Basic eDp5"), Auth::Other("Basic eDp5".into()));
    }
}
