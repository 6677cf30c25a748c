//! # duo-examples
//!
//! Runnable programs for integrators (`cargo run -p duo-examples --example NAME`). Each starts a
//! local stand-in upstream when no URL is given. The examples arrive with the crates they show.
