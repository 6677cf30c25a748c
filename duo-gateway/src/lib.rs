//! # duo-gateway
//!
//! The HTTP service a GitLab instance points its AI gateway URL at. (Under construction.)

pub mod auth;
