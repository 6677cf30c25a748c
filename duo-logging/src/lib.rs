//! # duo-logging
//!
//! What an operator sees: `tracing` set up from config, one structured log line per request,
//! opt-in logs of prompts and answers with secrets redacted, and metrics, fed by a
//! [`duo_core::LanguageModel`] decorator so providers and routes carry no logging code.
//!
//! Not built yet: see the project issues.
