//! # duo-examples
//!
//! Runnable programs for integrators. Each starts a local stand-in model server (speaking vLLM's
//! protocol, canned answers) when no URL is given, and says so.
//!
//! - `cargo run -p duo-examples --example vllm_direct [URL MODEL]`: call a vLLM model through
//!   `duo-providers` directly, once and streamed.
//! - `cargo run -p duo-examples --example mount_router`: mount the gateway's API inside your own
//!   axum app, next to your own routes.
