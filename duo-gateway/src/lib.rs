//! # duo-gateway
//!
//! The HTTP service a GitLab instance points its AI gateway URL at: GitLab's AI-gateway API for
//! self-hosted models, assembled from [`duo_core`], [`duo_auth`], [`duo_prompts`],
//! [`duo_providers`], [`duo_logging`], [`duo_docs_search`] and (Cargo feature `openai-api`, on by default)
//! `duo_openai_api`.
//!
//! The public surface is what an integrator needs:
//!
//! - [`Config`] (and its sections in [`config`]): one typed configuration from a TOML file and
//!   `AIGW_*` environment variables, as GitLab's gateway names them.
//! - [`AppState`]: everything the routes share, built once from a `Config` ([`StartError`] says
//!   which setting or file stopped it).
//! - [`router`]: the API as an axum `Router` to mount in your own app; [`Gateway`] binds the API
//!   and metrics listeners with bounded connections, and [`serve`] runs it until
//!   [`shutdown_signal`], with a grace period for running streams.
//! - Routes: `POST /v2/code/completions` (alias `/v2/completions`), `POST /v2/code/generations`,
//!   `POST /v3/code/completions`, `POST /v4/code/suggestions`, `POST /v1/prompts/{prompt_id}`,
//!   `POST /v2/prompts/{prompt_id}`, `POST /v2/chat/agent`, the deprecated `POST /v1/chat/{name}`,
//!   `POST /v1/search/gitlab-docs` (from the [`duo_docs_search`] index of `docs_search.db`),
//!   `POST /v1/code/user_access_token`, the OpenAI-compatible `GET /v1/models`,
//!   `POST /v1/chat/completions` and `POST /v1/completions`, `GET /monitoring/healthz`,
//!   `GET /monitoring/ready`, and `GET /metrics` on the metrics port.
//!
//! ```no_run
//! # async fn run() -> Result<(), duo_gateway::StartError> {
//! let config = duo_gateway::Config::load(None)?;
//! duo_gateway::serve(config).await
//! # }
//! ```
//!
//! `ARCHITECTURE.md` at the repository's root maps the crates and the path of one request.

pub mod config;
mod docs_search;
mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod model_selection;
mod readiness;
mod request_body;
mod routes;
mod server;
mod state;
mod streaming;
mod wire;

pub use config::Config;
pub use docs_search::DocsSearch;
pub use routes::router;
pub use server::{Gateway, serve, shutdown_signal};
pub use state::{AppState, StartError};
