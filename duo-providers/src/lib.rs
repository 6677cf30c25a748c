//! # duo-providers
//!
//! Clients for the serving platforms GitLab Duo Self-Hosted supports, each implementing
//! [`duo_core::LanguageModel`], plus the [`Registry`] that builds and caches them and the
//! [`Resilient`] wrapper that gives every one of them timeouts and retries.
//!
//! | identifier prefix | client | what it calls |
//! |---|---|---|
//! | `custom_openai/`, `hosted_vllm/` (or none) | [`openai::OpenAiCompatibleModel`] | `POST {endpoint}/completions` (text and fill-in-the-middle prompts), `POST {endpoint}/chat/completions` (chat), `GET {endpoint}/models` (probe) |
//! | `azure/<deployment>` | [`azure::AzureOpenAiModel`] | `POST {endpoint}/openai/deployments/<deployment>/chat/completions?api-version=…` and `…/completions` |
//! | `bedrock/<model-id>` | `bedrock::BedrockModel` | Bedrock Converse / ConverseStream through the AWS SDK |
//! | `anthropic/<model>` | `anthropic::AnthropicModel` | `POST {base}/v1/messages` (JSON and SSE) |
//! | `openai/<model>` | `openai::OpenAiPlatformModel` | OpenAI's Chat Completions, with the reasoning models' rules |
//! | `vertex_ai/<model>` | `vertex::VertexModel` | Gemini `:generateContent` / Claude `:rawPredict` on Vertex AI, with Google credentials |
//!
//! Tool calling (`ModelRequest::tools`, `StreamEvent::ToolCall`, `Generation::tool_calls`) is
//! mapped by every client to its platform's wire.
//!
//! Streaming calls to OpenAI-style servers send `stream: true` with
//! `stream_options: {"include_usage": true}` and decode the SSE answer with
//! [`openai::decode_sse`] into text deltas and one final `Finish` event carrying the finish
//! reason and the token usage; a stream that stops early is an
//! [`Error::BrokenStream`](duo_core::Error::BrokenStream), never a silently short answer.
//! Upstream HTTP errors become [`duo_core::Error::from_status`] (with `Retry-After`, in seconds,
//! as an HTTP date, or Azure's `retry-after-ms`), refused connections `Error::Connect`,
//! malformed answers `Error::Protocol`, Azure content-filter refusals `Error::ContentFiltered`.
//! Error messages name the upstream (`vLLM at http://vllm:8000/v1`) and never a key.
//!
//! ## Features
//!
//! `vllm`, `azure`, `bedrock`, `anthropic`, `openai` and `vertex`, all on by default. `--no-default-features --features vllm`
//! builds without the AWS SDK; an endpoint whose provider is compiled out gets `Error::Config`.
//!
//! ## Example
//!
//! ```
//! use duo_core::{Message, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt, StreamEvent};
//! use duo_providers::{ProviderConfig, Registry};
//! use futures::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # if cfg!(not(feature = "vllm")) { return Ok(()); } // built without the vLLM client
//! let vllm_url = "http://vllm:8000/v1";
//! # // the doctest's vLLM: a fake on loopback, answering in 3 SSE chunks
//! # let vllm = duo_testkit::openai::FakeOpenAi::start().await;
//! # vllm.set_default(duo_testkit::openai::Reply::stream("Ferris, red and bold").chunks(3));
//! # let vllm_url = vllm.url();
//! let config: ProviderConfig = toml::from_str("[resilience]\ntotal_timeout = \"60s\"")?;
//! let registry = Registry::new(config);
//! let endpoint = ModelEndpoint::new(ModelIdentifier::parse("custom_openai/Mistral-7B-Instruct-v0.3")?, ModelFamily::Mistral)
//!     .with_base_url(vllm_url);
//! let model = registry.model(&endpoint).await?; // built once, then shared
//! let request = ModelRequest::new(Prompt::Chat(vec![Message::user("Write a haiku about Rust")]));
//! let mut stream = model.generate_stream(&request).await?;
//! let mut answer = String::new();
//! while let Some(event) = stream.next().await {
//!     match event? {
//!         StreamEvent::Delta(text) => answer.push_str(&text), // or print it as it comes
//!         StreamEvent::Finish { usage, .. } => println!("{usage:?}"),
//!         _ => {}
//!     }
//! }
//! assert_eq!(answer, "Ferris, red and bold");
//! # Ok(()) }
//! ```
//!
//! See the crate's README for the resilience defaults and configuration keys.
#![cfg_attr(
    not(any(
        feature = "vllm",
        feature = "azure",
        feature = "anthropic",
        feature = "openai"
    )),
    allow(dead_code)
)]

#[cfg(feature = "anthropic")]
pub mod anthropic;
#[cfg(feature = "azure")]
pub mod azure;
#[cfg(feature = "bedrock")]
pub mod bedrock;
mod bounded;
mod client_cert;
mod config;
mod duration;
pub mod egress;
#[cfg(any(
    feature = "vllm",
    feature = "azure",
    feature = "anthropic",
    feature = "openai"
))]
mod endpoint_url;
mod extra_headers;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod http;
#[cfg(any(feature = "vllm", feature = "azure", feature = "openai"))]
pub mod openai;
pub mod proxy;
mod registry;
mod resilience;
#[cfg(any(
    feature = "vllm",
    feature = "azure",
    feature = "anthropic",
    feature = "openai"
))]
mod sse;
#[cfg(any(feature = "bedrock", feature = "anthropic"))]
mod turns;
#[cfg(feature = "vertex")]
pub mod vertex;

pub use client_cert::ClientCertificate;
pub use config::{
    AzureAuth, AzureSettings, HttpSettings, OPENAI_API_KEY_ENV, OpenAiSettings, ProviderConfig,
};
pub use egress::{EgressPolicy, EgressRefused};
pub use extra_headers::ExtraHeaders;
pub use http::HttpClient;
pub use proxy::{ProxySettings, ProxyUrl};
pub use registry::Registry;
pub use resilience::{ResilienceConfig, Resilient};
