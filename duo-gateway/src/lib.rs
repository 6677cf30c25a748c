//! # duo-gateway
//!
//! The HTTP service a GitLab instance points its AI gateway URL at: GitLab's AI-gateway API
//! (code suggestions, named prompts, Duo Chat), authentication, configuration, health and metrics,
//! assembled from `duo-core`, `duo-prompts`, `duo-providers` and `duo-logging`.
//!
//! Not built yet: see the project issues.
