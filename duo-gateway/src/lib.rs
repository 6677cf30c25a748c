//! # duo-gateway
//!
//! The HTTP service a GitLab instance points its AI gateway URL at: GitLab's AI-gateway API for
//! self-hosted models, assembled from [`duo_core`], [`duo_prompts`], [`duo_providers`] and
//! [`duo_logging`].
//!
//! - [`router`] gives the API as an axum `Router` to mount in your own app;
//!   [`serve`] runs it from a [`Config`] until SIGTERM, with a grace period for running streams.
//! - Routes: `POST /v2/code/completions` (alias `/v2/completions`), `POST /v2/code/generations`,
//!   `POST /v3/code/completions`, `POST /v4/code/suggestions`, `POST /v1/prompts/{prompt_id}`,
//!   `POST /v2/prompts/{prompt_id}`, `POST /v2/chat/agent`, the deprecated `POST /v1/chat/{name}`,
//!   `POST /v1/code/user_access_token`, the OpenAI-compatible `GET /v1/models`,
//!   `POST /v1/chat/completions` and `POST /v1/completions`, `GET /monitoring/healthz`,
//!   `GET /monitoring/ready`, and `GET /metrics` on the metrics port.
//! - Auth: GitLab instance JWTs (OIDC discovery), the gateway's own tokens, or an explicit bypass
//!   for development ([`auth`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), duo_gateway::StartError> {
//! let config = duo_gateway::Config::load(None)?;
//! duo_gateway::serve(config).await
//! # }
//! ```

pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod model_selection;
pub mod openai_api;
pub mod routes;
pub mod server;
pub mod state;
pub mod streaming;
mod upstream_text;
pub mod wire;

pub use config::Config;
pub use routes::router;
pub use server::{Gateway, serve, shutdown_signal};
pub use state::{AppState, StartError};
