//! # duo-providers
//!
//! Clients for the serving platforms GitLab Duo Self-Hosted supports, each implementing
//! [`duo_core::LanguageModel`]: vLLM and other OpenAI-compatible servers, Azure OpenAI, and AWS
//! Bedrock. This crate will own their wire formats, SSE and event-stream decoding, a client registry
//! that reuses connections per endpoint, and one resilience wrapper (timeouts, retries).
//!
//! Not built yet: see the project issues.
