//! vLLM / OpenAI-compatible servers, OpenAI's platform, and the OpenAI wire format they share
//! with Azure OpenAI: request bodies, SSE decoding ([`decode_sse`]) and error bodies.

pub(crate) mod client;
#[cfg(feature = "vllm")]
mod compatible;
pub(crate) mod model;
#[cfg(feature = "openai")]
mod platform;
mod reasoning;
mod sse;
mod wire;

#[cfg(feature = "vllm")]
pub use compatible::OpenAiCompatibleModel;
#[cfg(feature = "openai")]
pub use model::OpenAiPlatform;
pub use model::{AzureOpenAi, Flavor, OpenAiCompatible, OpenAiStyleModel};
#[cfg(feature = "openai")]
pub use platform::OpenAiPlatformModel;
pub use reasoning::is_reasoning_model;
pub use sse::{DEFAULT_MAX_EVENT_BYTES, decode_sse, decode_sse_limited};
