//! # duo-testkit
//!
//! Fake upstream model servers that speak the real wire protocols over loopback, started
//! in-process on a random port, recording what they received so tests can assert the request.
//!
//! - [`openai`]: vLLM / OpenAI-compatible and Azure OpenAI (`/v1/completions`,
//!   `/v1/chat/completions`, Azure deployment paths), JSON and SSE.
//! - [`anthropic`]: Anthropic's Messages API (`POST /v1/messages`), JSON and SSE events.
//! - [`bedrock`]: AWS Bedrock Converse and ConverseStream (`application/vnd.amazon.eventstream`).
//! - [`vertex`]: Google Vertex AI publisher models: Gemini `generateContent` /
//!   `streamGenerateContent` (JSON, SSE, JSON array) and Claude `rawPredict` / `streamRawPredict`.
//! - [`google_oauth`]: Google access tokens: the OAuth token endpoint (service-account
//!   JWT-bearer grant, with Google's checks of the assertion) and the GCE metadata server.
//! - [`docs`]: a small tree of documentation pages for documentation-search tests.
//! - [`dns`]: a resolver the test controls, so a host name can resolve to any address.
//! - [`forward_proxy`]: a real forward proxy (Debian's `tinyproxy`) on loopback, and what it was
//!   asked to forward.
//! - [`keys`]: RSA keys for the gateway's own signed tokens in tests.

pub mod anthropic;
pub mod bedrock;
pub mod dns;
pub mod docs;
pub mod forward_proxy;
pub mod google_oauth;
pub mod keys;
pub mod oidc;
pub mod openai;
pub mod tls;
pub mod vertex;
