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
//! # Model ids
//!
//! What follows `bedrock/` is Converse's `modelId`, sent as is: a model id
//! (`bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0`), a cross-region inference profile id
//! with its geography prefix (`bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0`; `eu.`,
//! `apac.`, `global.`, …), or an ARN: an application inference profile
//! (`bedrock/converse/arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcd1234`),
//! a system inference profile, a provisioned, custom or foundation model, a prompt. LiteLLM's
//! route segment `converse/` is dropped (every call is a Converse call); the SDK percent-encodes
//! the id into one path segment (`/model/arn%3Aaws%3Abedrock%3A…%2Fabcd1234/converse`). Anything
//! else (another route such as `invoke/`, a `/` outside an ARN, spaces, …) is refused with
//! [`Error::InvalidRequest`](duo_core::Error::InvalidRequest) before any request.
//!
//! # Credentials
//!
//! - **SigV4** (the default): static keys, a profile, or the default chain, as above.
//! - **Assumed role**: with [`BedrockSettings::role_arn`] (and
//!   [`external_id`](BedrockSettings::external_id), [`role_session_name`](BedrockSettings::role_session_name),
//!   default `duo-gateway`), those credentials assume the role through STS (`aws-config`'s
//!   `AssumeRoleProvider`), and Bedrock calls are signed with the role's temporary key and
//!   session token, refreshed before they expire. STS is reached through the same egress policy
//!   as Bedrock, at [`BedrockSettings::sts_endpoint_url`] if set (else `AWS_ENDPOINT_URL_STS` or
//!   the region's STS endpoint).
//! - **Bedrock API key**: [`BedrockSettings::api_key`], else the [`API_KEY_ENV`]
//!   (`AWS_BEARER_TOKEN_BEDROCK`) environment variable when not blank. Requests then carry
//!   `Authorization: Bearer <key>` and are not SigV4-signed (the SDK's `httpBearerAuth` scheme);
//!   the key is never logged, is scrubbed from every error, and `Debug` shows it redacted. An
//!   API key in the settings together with static keys or a role is a configuration error.
//!
//! # Guardrails
//!
//! With [`BedrockSettings::guardrail`] (`identifier`, `version`, `trace`; or GitLab's
//! `AIGW_BEDROCK_GUARDRAIL_CONFIG` JSON through [`GuardrailSettings::from_json`]), every Converse
//! call carries `guardrailConfig` (`guardrailIdentifier`, `guardrailVersion`, `trace`) and every
//! ConverseStream call the same as a `GuardrailStreamConfiguration` with Bedrock's default
//! stream processing mode (`sync`: chunks are assessed before they are sent; the SDK writes
//! `"streamProcessingMode": "sync"` out). When the guardrail intervenes Bedrock answers 200
//! with its replacement text and `stopReason` `guardrail_intervened`: the caller gets that text with
//! [`FinishReason::ContentFilter`](duo_core::FinishReason::ContentFilter), streamed or not, not
//! an error. A `trace.guardrail` assessment in the answer (with `trace` enabled) is accepted and
//! not passed on.
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
//! The model endpoint's API key is not used: Bedrock authenticates with the operator's
//! credentials or API key only.

mod auth;
mod egress;
mod error;
mod guardrail;
mod model;
mod model_id;
mod provider;
mod request;
mod settings;
mod tools;

pub use crate::turns::{FIM_INSTRUCTION, FIM_MARKER, fim_user_turn};
pub use auth::API_KEY_ENV;
pub use guardrail::{GuardrailSettings, GuardrailTrace};
pub use model::BedrockModel;
pub use provider::{BedrockProvider, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT};
pub use settings::{BedrockSettings, DEFAULT_ROLE_SESSION_NAME};
