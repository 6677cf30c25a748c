//! # duo-prompts
//!
//! How to ask each model family for each Duo feature: prompt definitions (YAML + Jinja templates,
//! FIM tokens, stop sequences, default parameters), built in and operator-supplied, resolved by
//! prompt id, family and version and rendered into [`duo_core::Prompt`]s.
//!
//! Not built yet: see the project issues.
