//! Anthropic's Messages API (`anthropic/<model>` identifiers): [`AnthropicModel`], its
//! operator settings [`AnthropicSettings`] and the stream decoder [`decode_messages_sse`].
//!
//! ```no_run
//! use duo_core::{LanguageModel, Message, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt};
//! use duo_providers::{ProviderConfig, Registry};
//!
//! # async fn run() -> Result<(), duo_core::Error> {
//! // No endpoint: the operator's base URL and key (ANTHROPIC_API_KEY) are used.
//! let registry = Registry::new(ProviderConfig::default());
//! let endpoint = ModelEndpoint::new(ModelIdentifier::parse("anthropic/claude-sonnet-4-5")?, ModelFamily::parse("claude_3"));
//! let model = registry.model(&endpoint).await?;
//! let answer = model.generate(&ModelRequest::new(Prompt::Chat(vec![Message::user("Hi")]))).await?;
//! println!("{}", answer.text);
//! # Ok(()) }
//! ```

pub(crate) mod body;
mod error;
mod model;
mod settings;
mod sse;
mod wire;

pub use model::AnthropicModel;
pub use settings::{API_KEY_ENV, AnthropicSettings, DEFAULT_BASE_URL};
pub use sse::decode_messages_sse;
