//! # duo-providers
//!
//! Clients for the serving platforms GitLab Duo Self-Hosted supports, each implementing
//! [`duo_core::LanguageModel`]: vLLM and other OpenAI-compatible servers, Azure OpenAI, and AWS
//! Bedrock. (Under construction.)

#[cfg(feature = "bedrock")]
pub mod bedrock;
