//! AWS Bedrock through `aws-sdk-bedrockruntime` (Converse / ConverseStream).
//!
//! [`BedrockProvider`] turns `bedrock/<model-id>` endpoints into [`BedrockModel`]s. Credentials
//! and region come from [`BedrockSettings`] when set (static keys, a named profile, a region),
//! else from `aws-config`'s default chain: environment variables, the shared config and
//! credentials files, SSO, web identity, and ECS/EC2 instance roles, so temporary credentials
//! and instance profiles work. An endpoint override (a VPC endpoint, or a test server) comes from
//! the operator only: the settings' `endpoint_url` or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. A
//! model endpoint's `base_url` is ignored, so the operator's credentials are never signed into
//! a request to a host a caller chose. Calls go through the crate's
//! [`EgressPolicy`](crate::EgressPolicy) like every other provider's: the endpoint's name is
//! resolved through it and the URL is checked before the request is signed (see
//! [`BedrockProvider::with_egress`]).
//!
//! # What each prompt becomes
//!
//! Every model family on Bedrock (Claude, Llama, Mistral/Mixtral, …) gets the same Converse
//! request; Bedrock applies the model's own chat template:
//!
//! - [`Prompt::Chat`](duo_core::Prompt::Chat): system messages go to Converse's `system` field
//!   (in order, wherever they appear); user and assistant messages become `messages`, with
//!   consecutive messages of the same role merged into one turn of several text blocks, because
//!   Bedrock requires the roles to alternate. Blank messages are dropped. A conversation that
//!   does not start with a user message is rejected locally with
//!   [`Error::InvalidRequest`](duo_core::Error::InvalidRequest). A final assistant message is
//!   sent as is (a prefill, for models that support it).
//! - [`Prompt::Text`](duo_core::Prompt::Text): one user turn with the text. Families whose
//!   prompts embed raw special tokens (a completion-style layout) should not be served through
//!   Bedrock: Converse wraps the text in the model's chat template.
//! - [`Prompt::FillInTheMiddle`](duo_core::Prompt::FillInTheMiddle): Converse has no
//!   fill-in-the-middle mode, so the prefix and suffix are sent as **one user turn**: the
//!   instruction [`FIM_INSTRUCTION`], then the file inside `<code>` tags with [`FIM_MARKER`]
//!   where the cursor is (see [`fim_user_turn`]). No system prompt is added.
//!
//! Generation parameters become `inferenceConfig`: `maxTokens`, `temperature`, `topP` and
//! `stopSequences` (empty stop sequences are dropped); unset parameters are left out.
//!
//! # Streaming and errors
//!
//! `generate` calls Converse; `generate_stream` calls ConverseStream and yields a
//! [`StreamEvent::Delta`](duo_core::StreamEvent::Delta) per text delta and one
//! [`StreamEvent::Finish`](duo_core::StreamEvent::Finish) with the `messageStop` reason and the
//! `metadata` usage. A stream that ends before `messageStop` yields
//! [`Error::BrokenStream`](duo_core::Error::BrokenStream) after the deltas already delivered.
//! The error mapping table is in the `error` module's source; in short: throttling →
//! `RateLimited`, validation → `UpstreamStatus` 400, access denied → `UpstreamAuth`, missing
//! credentials → `Config`, resource not found → 404, `modelStreamErrorException` mid-stream →
//! `BrokenStream`, a frame with a bad CRC → `Protocol`.
//!
//! # Timeouts and retries
//!
//! The SDK is configured with a connect timeout and a read timeout (until the response
//! headers), see [`BedrockProvider::with_sdk_timeouts`], **one attempt** (its retries are off)
//! and no stalled-stream protection. Retries with backoff, and the first-byte, idle and total
//! timeouts, belong to the crate's resilience wrapper around any `LanguageModel`, so nothing is
//! retried twice and a half-delivered stream is never replayed.
//!
//! The endpoint's API key is not used: Bedrock authenticates with SigV4 and AWS credentials.

mod egress;
mod error;
mod model;
mod provider;
mod request;
mod settings;
mod tools;

pub use crate::turns::{FIM_INSTRUCTION, FIM_MARKER, fim_user_turn};
pub use model::BedrockModel;
pub use provider::{BedrockProvider, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT};
pub use settings::BedrockSettings;
