//! [`AuthError`]: why a request was not authenticated, with the reference's exact messages.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// Why authentication failed (401), or why a token could not be issued (500).
///
/// [`AuthError::message`] is the exact `error` string GitLab's gateway answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("No authorization header presented")]
    MissingAuthorization,
    /// `Authorization` is not `Bearer <token>`.
    #[error("Invalid authorization header")]
    InvalidAuthorization,
    /// `X-Gitlab-Authentication-Type` is not `oidc`.
    #[error("Invalid authentication token type - only OIDC is supported")]
    InvalidTokenType,
    /// Bad signature, unknown key, expired, wrong audience, unreadable token, or no keys available.
    #[error("Forbidden by auth provider")]
    Forbidden,
    /// `X-Gitlab-Instance-Id` differs from the `gitlab_instance_id` claim.
    #[error("Header mismatch 'X-Gitlab-Instance-Id'")]
    InstanceIdMismatch,
    /// `X-Gitlab-Realm` differs from the `gitlab_realm` claim.
    #[error("Header mismatch 'X-Gitlab-Realm'")]
    RealmMismatch,
    /// `X-Gitlab-Global-User-Id` differs from the subject of a gateway-issued token.
    #[error("Header mismatch 'X-Gitlab-Global-User-Id'")]
    GlobalUserIdMismatch,
    /// The gateway could not sign a token (no signing key configured, or signing failed).
    #[error("Failed to generate JWT")]
    TokenGeneration,
}

impl AuthError {
    /// The message of the response body.
    #[must_use]
    pub fn message(&self) -> &'static str {
        match self {
            Self::MissingAuthorization => "No authorization header presented",
            Self::InvalidAuthorization => "Invalid authorization header",
            Self::InvalidTokenType => "Invalid authentication token type - only OIDC is supported",
            Self::Forbidden => "Forbidden by auth provider",
            Self::InstanceIdMismatch => "Header mismatch 'X-Gitlab-Instance-Id'",
            Self::RealmMismatch => "Header mismatch 'X-Gitlab-Realm'",
            Self::GlobalUserIdMismatch => "Header mismatch 'X-Gitlab-Global-User-Id'",
            Self::TokenGeneration => "Failed to generate JWT",
        }
    }

    /// 401 for authentication failures, 500 for [`AuthError::TokenGeneration`].
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TokenGeneration => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

impl IntoResponse for AuthError {
    /// 401 `{"error": "<message>"}` (the reference's auth middleware), or 500
    /// `{"detail": "Failed to generate JWT"}` (the reference's token endpoint).
    fn into_response(self) -> Response {
        let field = if self.status() == StatusCode::UNAUTHORIZED {
            "error"
        } else {
            "detail"
        };
        let body = serde_json::json!({ field: self.message() }).to_string();
        let mut response = (self.status(), body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_equals_display() {
        for e in [
            AuthError::MissingAuthorization,
            AuthError::InvalidAuthorization,
            AuthError::InvalidTokenType,
            AuthError::Forbidden,
            AuthError::InstanceIdMismatch,
            AuthError::RealmMismatch,
            AuthError::GlobalUserIdMismatch,
            AuthError::TokenGeneration,
        ] {
            assert_eq!(e.message(), e.to_string());
        }
        assert_eq!(AuthError::Forbidden.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            AuthError::TokenGeneration.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
