//! # duo-benches
//!
//! Criterion micro benchmarks of the hot paths and the end-to-end overhead harness
//! (`cargo bench -p duo-benches`). The benchmarks arrive with the code they measure.
