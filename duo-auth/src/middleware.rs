//! [`require_auth`]: the axum middleware that authenticates before any other work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use super::authenticator::Authenticator;
use super::caller::Caller;
use super::error::AuthError;

/// How long authentication took (the reference's `auth_duration_s`); stored in the request
/// extensions on success and in the response extensions on failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthDuration(pub Duration);

/// Authenticates the request from its headers before the body is read; on success the
/// [`Caller`] goes into the request extensions, otherwise the answer is the 401 of [`AuthError`].
///
/// Mount with `axum::middleware::from_fn_with_state(Arc::clone(&auth), require_auth)`.
pub async fn require_auth(
    State(auth): State<Arc<Authenticator>>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    match auth.authenticate(req.headers()).await {
        Ok(caller) => {
            let extensions = req.extensions_mut();
            extensions.insert(AuthDuration(started.elapsed()));
            extensions.insert(caller);
            next.run(req).await
        }
        Err(error) => {
            let mut response = error.into_response();
            response
                .extensions_mut()
                .insert(AuthDuration(started.elapsed()));
            response
        }
    }
}

/// Handlers behind [`require_auth`] can take the [`Caller`] as an argument. Without the
/// middleware the extractor fails closed with 401 "Forbidden by auth provider".
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("Caller requested but the route is not behind require_auth");
            AuthError::Forbidden
        })
    }
}
