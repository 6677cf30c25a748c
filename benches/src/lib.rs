//! # duo-benches
//!
//! Criterion micro benchmarks of the hot paths (`cargo bench -p duo-benches`), the end-to-end
//! overhead harness (`--bin overhead`), the soak benchmark (`--bin soak`, module [`soak`]) and
//! the end-to-end harness against a floor proxy (`--bin harness`, module [`harness`]).
//! The benchmarks arrive with the code they measure.

pub mod harness;
pub mod procfs;
pub mod soak;

/// A boxed error, what the harnesses' `main`s return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A multi-thread tokio runtime with `threads` workers named `name`.
///
/// # Errors
/// When the OS refuses the threads.
pub fn runtime(name: &str, threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name(name)
        .worker_threads(threads)
        .enable_all()
        .build()
}
