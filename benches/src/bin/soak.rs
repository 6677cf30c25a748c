//! Soak benchmark of the `duo-gateway` binary: concurrent streams against a slow fake upstream
//! with random client disconnects, then sequential requests; the gateway's descriptors, RSS and
//! in-flight gauge must be back at the idle baseline, and the upstream must hold nothing.
//!
//! ```sh
//! cargo build --release -p duo-gateway -p duo-benches --bin soak
//! target/release/soak [--concurrent 1000] [--sequential 50000] [--seed N] [--help]
//! ```
//!
//! Exits 1 when a check fails (each is printed), 2 when the soak could not run.

use std::process::ExitCode;

use clap::Parser;
use duo_benches::soak::{self, Options, report};

fn main() -> ExitCode {
    let options = Options::parse();
    let summary = match duo_benches::runtime("soak", 2).map(|rt| rt.block_on(soak::run(&options))) {
        Ok(Ok(summary)) => summary,
        Ok(Err(e)) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("soak: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    report::print(&summary);
    let failures = report::failures(&summary, options.tolerance_pct);
    if failures.is_empty() {
        if !options.keep_log {
            let _ = std::fs::remove_file(&summary.log_path);
        }
        println!("\nsoak passed");
        return ExitCode::SUCCESS;
    }
    println!("\nsoak FAILED:");
    for f in &failures {
        println!("  - {f}");
    }
    ExitCode::FAILURE
}
