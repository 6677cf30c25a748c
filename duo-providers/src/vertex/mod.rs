//! Google Vertex AI (`vertex_ai/<model>` identifiers): Gemini through `generateContent` and
//! Claude through `rawPredict`, in the operator's project and location, with OAuth2 access
//! tokens from Application Default Credentials ([`VertexSettings`], [`VertexModel`]).
//!
//! Calls carry the operator's Google token, so their endpoint comes from the operator only
//! (like Bedrock's): a request's `model_endpoint` is never used.
//!
//! ```no_run
//! use duo_core::{LanguageModel, Message, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt};
//! use duo_providers::{ProviderConfig, Registry};
//!
//! # async fn run() -> Result<(), duo_core::Error> {
//! // [providers.vertex] project = "acme-ai", location = "europe-west4"; credentials from
//! // GOOGLE_APPLICATION_CREDENTIALS or the metadata server.
//! let config: ProviderConfig = toml::from_str("[vertex]\nproject = \"acme-ai\"\nlocation = \"europe-west4\"").unwrap();
//! let registry = Registry::new(config);
//! let endpoint = ModelEndpoint::new(ModelIdentifier::parse("vertex_ai/gemini-2.5-flash")?, ModelFamily::parse("gemini"));
//! let model = registry.model(&endpoint).await?;
//! let answer = model.generate(&ModelRequest::new(Prompt::Chat(vec![Message::user("Hi")]))).await?;
//! println!("{}", answer.text);
//! # Ok(()) }
//! ```

mod credentials;
mod gemini;
mod gemini_sse;
mod gemini_wire;
mod model;
mod provider;
mod settings;

use std::time::Duration;

use duo_core::Error;

pub use credentials::{CLOUD_PLATFORM_SCOPE, GoogleAuth};
pub use gemini_sse::decode_gemini_sse;
pub use model::{Publisher, VertexModel};
pub use provider::VertexProvider;
pub use settings::{
    CREDENTIALS_ENV, CredentialSource, DEFAULT_LOCATION, LOCATION_ENV, METADATA_HOST_ENV,
    PROJECT_ENV, ResolvedVertex, VertexSettings,
};

/// The error Google's error object stands for: its HTTP code as a status (429 rate limited,
/// 401/403 credentials, 5xx retryable), its status name (`RESOURCE_EXHAUSTED`, …) kept as the
/// upstream code.
pub(crate) fn google_error(
    upstream: &str,
    error: &gemini_wire::GoogleError,
    retry_after: Option<Duration>,
) -> Error {
    let status = if (400..600).contains(&error.code) {
        error.code
    } else {
        500
    };
    let message = match (error.status.is_empty(), error.message.is_empty()) {
        (false, false) => format!("{}: {}", error.status, error.message),
        (false, true) => error.status.clone(),
        (true, _) => error.message.clone(),
    };
    Error::from_status(upstream, status, message, retry_after)
        .with_upstream_code((!error.status.is_empty()).then_some(error.status.as_str()))
}
