//! `POST /v1/code/user_access_token`: a short-lived token the gateway signs for IDE direct
//! access to code completions.
//!
//! As the reference: the caller must hold `complete_code` or `ai_gateway_model_provider_proxy` and
//! must not itself present a gateway-issued token (403 `Unauthorized to create user access
//! token`); `X-Gitlab-Global-User-Id`, and the instance id and realm (from the token's claims or
//! the headers), are required (400 `Missing <header> header`). The token carries the scopes of
//! those two the caller holds, is valid one hour, and names the global user id as `sub`; the
//! gateway then accepts it on `/v2/code/completions` with the same `X-Gitlab-Global-User-Id`.
//! Without a configured signing key the gateway's ephemeral key signs (valid on this process
//! only); a signing failure is 500 `{"detail": "Failed to generate JWT"}`. The body is ignored.

use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use duo_core::UnitPrimitive;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;
use duo_auth::{Caller, GLOBAL_USER_ID_HEADER, INSTANCE_ID_HEADER, REALM_HEADER};

/// How long an issued token is valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The scopes a user token may carry (those of them the caller holds).
const GRANTABLE: [UnitPrimitive; 2] = [
    UnitPrimitive::CompleteCode,
    UnitPrimitive::AiGatewayModelProviderProxy,
];

/// The answer.
#[derive(Debug, Serialize)]
struct Token {
    token: String,
    expires_at: u64,
}

/// `POST /v1/code/user_access_token`.
pub async fn user_access_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    match issue(&state, &caller) {
        Ok(token) => Json(token).into_response(),
        Err(response) => *response,
    }
}

/// The token, or the error answer (boxed: a `Response` is large).
fn issue(state: &AppState, caller: &Caller) -> Result<Token, Box<Response>> {
    if !caller.can_any(&GRANTABLE) || caller.gateway_issued {
        return Err(Box::new(
            ApiError::Forbidden("Unauthorized to create user access token".into()).into_response(),
        ));
    }
    let missing = |header: &str| {
        Box::new(
            ApiError::BadRequest(format!("Missing {} header", canonical(header))).into_response(),
        )
    };
    if caller.global_user_id.as_deref().is_none_or(str::is_empty) {
        return Err(missing(GLOBAL_USER_ID_HEADER));
    }
    if caller
        .gitlab_instance_id
        .as_deref()
        .is_none_or(str::is_empty)
    {
        return Err(missing(INSTANCE_ID_HEADER));
    }
    if caller.gitlab_realm.as_deref().is_none_or(str::is_empty) {
        return Err(missing(REALM_HEADER));
    }
    let scopes: Vec<UnitPrimitive> = GRANTABLE.into_iter().filter(|up| caller.can(*up)).collect();
    let (token, expires_at) = state
        .auth()
        .issue_user_token(caller, &scopes, TOKEN_TTL)
        .map_err(|e| Box::new(e.into_response()))?;
    Ok(Token { token, expires_at })
}

/// `x-gitlab-global-user-id` → `X-Gitlab-Global-User-Id`, as the reference's messages spell it.
fn canonical(header: &str) -> String {
    header
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_names_are_spelled_as_the_reference() {
        assert_eq!(
            super::canonical("x-gitlab-global-user-id"),
            "X-Gitlab-Global-User-Id"
        );
        assert_eq!(super::canonical("X-Gitlab-Realm"), "X-Gitlab-Realm");
    }
}
