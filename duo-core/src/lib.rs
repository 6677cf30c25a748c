//! # duo-core
//!
//! The vocabulary of the duo gateway for GitLab Duo Self-Hosted Models. No I/O lives here: the
//! other crates speak these types to each other.
//!
//! - [`Feature`] and [`UnitPrimitive`]: the Duo features, their string ids, and the token scope
//!   each needs.
//! - [`ModelFamily`]: which prompt layout a model needs (parsed from GitLab's family keys; unknown
//!   families are preserved).
//! - [`ProviderKind`], [`EndpointSource`], [`ModelIdentifier`], [`ModelEndpoint`]: where a model
//!   is served, whose endpoint and key it takes, and how to reach it (GitLab's `custom_openai/…`,
//!   `bedrock/…`, `azure/…`, `anthropic/…` identifiers).
//! - [`Secret`]: API keys and tokens that never print.
//! - [`Prompt`], [`Message`], [`GenerationParams`], [`ModelRequest`]: what the model is asked.
//! - [`StreamEvent`], [`Generation`], [`Usage`], [`FinishReason`]: what it answers.
//! - [`Tool`], [`ToolChoice`], [`ToolCall`], [`ToolCallDelta`]: native tool calling, in
//!   requests, streams and answers.
//! - [`Error`]: one error enum that says whose fault it is ([`Fault`]) and whether a retry may help.
//! - [`LanguageModel`]: the object-safe async trait every provider implements.
//! - [`limits`]: the length limit of every string field of a request body, in one table.
//! - [`reasoning`]: `<think>…</think>` blocks removed from answers, as a stream adapter and a
//!   [`LanguageModel`] decorator.
//! - [`WholeAnswer`]: streamed calls made as whole calls (for servers that cannot stream).
//!
//! ```
//! use duo_core::{ModelEndpoint, ModelFamily, ModelIdentifier, ProviderKind};
//!
//! let id = ModelIdentifier::parse("custom_openai/Mistral-7B-Instruct-v0.3")?;
//! let endpoint = ModelEndpoint::new(id, ModelFamily::parse("mistral"))
//!     .with_base_url("http://vllm:8000/v1");
//! assert_eq!(endpoint.provider(), ProviderKind::OpenAiCompatible);
//! # Ok::<(), duo_core::Error>(())
//! ```

mod endpoint;
mod error;
mod family;
mod feature;
mod language_model;
pub mod limits;
mod prompt;
mod provider;
pub mod reasoning;
mod secret;
mod stream;
mod tool;
mod whole_answer;

pub use endpoint::ModelEndpoint;
pub use error::{Error, Fault, TimeoutPhase};
pub use family::ModelFamily;
pub use feature::{Feature, UnitPrimitive, UnknownId};
pub use language_model::LanguageModel;
pub use prompt::{GenerationParams, Message, ModelRequest, Prompt, Role};
pub use provider::{EndpointSource, ModelIdentifier, ProviderKind};
pub use secret::{REDACTED, Secret};
pub use stream::{EventStream, FinishReason, Generation, StreamAborted, StreamEvent, Usage};
pub use tool::{CallOrdinals, Tool, ToolCall, ToolCallDelta, ToolCalls, ToolChoice};
pub use whole_answer::WholeAnswer;

/// Re-exported so implementors of [`LanguageModel`] use the same macro version.
pub use async_trait::async_trait;
