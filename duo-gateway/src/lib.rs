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
//! ```
//! use std::path::Path;
//! use duo_gateway::{Config, Gateway};
//! use serde_json::{Value, json};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let file = Path::new("/etc/duo/duo.toml"); // gitlab_url, [fastapi], [custom_models] enabled, …
//! # // the doctest's GitLab instance and vLLM: fakes on loopback, and a duo.toml naming them
//! # let gitlab = duo_testkit::oidc::FakeOidc::start().await;
//! # let vllm = duo_testkit::openai::FakeOpenAi::start().await;
//! # vllm.set_default(duo_testkit::openai::Reply::answer("return a + b"));
//! # let dir = tempfile::tempdir()?;
//! # let file = &dir.path().join("duo.toml");
//! # let toml = [
//! #     &format!("gitlab_url = {:?}", gitlab.url()),
//! #     "[fastapi]\napi_host = \"127.0.0.1\"\napi_port = 0\nmetrics_port = 0",
//! #     "[custom_models]\nenabled = true",
//! #     "[providers.http.proxy]\nno_proxy = \"*\"", // none of the machine's HTTPS_PROXY
//! # ];
//! # std::fs::write(file, toml.join("\n"))?;
//! let config = Config::load(Some(file))?; // defaults, then the file, then `AIGW_*` variables
//!
//! // `duo_gateway::serve(config).await` serves until SIGTERM or Ctrl-C; or bind, and run until
//! // a shutdown of your own:
//! let gateway = Gateway::bind(config).await?;
//! let base_url = format!("http://{}", gateway.api_addr()?);
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let running = tokio::spawn(gateway.run(async { let _ = stopped.await; }));
//!
//! // A code completion as the GitLab instance asks for one: its token and headers, and the
//! // self-hosted model's endpoint.
//! # let headers = duo_testkit::oidc::gitlab_headers(&gitlab.token(&["complete_code"]));
//! # let vllm_url = vllm.url();
//! let completion: Value = reqwest::Client::new()
//!     .post(format!("{base_url}/v2/code/completions"))
//!     .headers(headers)
//!     .json(&json!({
//!         "current_file": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ",
//!                          "content_below_cursor": "\n"},
//!         "model_provider": "litellm", "model_name": "codestral", "model_endpoint": vllm_url,
//!         "model_identifier": "custom_openai/Codestral-22B-v0.1",
//!     }))
//!     .send().await?.error_for_status()?.json().await?;
//! assert_eq!(completion["choices"][0]["text"], "return a + b");
//!
//! stop.send(()).ok(); // running requests get `fastapi.shutdown_grace_s` to finish
//! running.await??;
//! # Ok(()) }
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
