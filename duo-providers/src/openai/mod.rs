//! vLLM / OpenAI-compatible servers, and the OpenAI wire format shared with Azure OpenAI:
//! request bodies, SSE decoding ([`decode_sse`]) and error bodies.

pub(crate) mod client;
#[cfg(feature = "vllm")]
mod compatible;
pub(crate) mod model;
mod sse;
mod wire;

#[cfg(feature = "vllm")]
pub use compatible::OpenAiCompatibleModel;
pub use model::{AzureOpenAi, Flavor, OpenAiCompatible, OpenAiStyleModel};
pub use sse::{DEFAULT_MAX_EVENT_BYTES, decode_sse, decode_sse_limited};
