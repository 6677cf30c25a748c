//! End-to-end harness: the release `duo-gateway` against nginx as a do-nothing floor proxy, in
//! front of the same fixed-answer upstream, every part a separate process on loopback; prints
//! one markdown table (see `benches/README.md`, "End-to-end against the floor (harness)").
//!
//! ```sh
//! cargo build --release -p duo-gateway
//! cargo run --release -p duo-benches --bin harness [-- --seconds 5 | --quick]
//! ```
//!
//! Exits 2 when it could not run; errors of requests are reported in the table, not as exit
//! status.

use std::process::ExitCode;

use clap::Parser;
use duo_benches::harness::{self, Command, Options, report};

fn main() -> ExitCode {
    let options = Options::parse();
    if let Some(Command::StandIn(args)) = &options.command {
        return match harness::stand_in::serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("stand-in: {e}");
                ExitCode::from(2)
            }
        };
    }
    // One thread: the probe's client and its connections' tasks on the same thread, so that a
    // chunk costs no cross-thread wake-up (on a multi-thread runtime `block_on` runs on the
    // main thread and the connection tasks on a worker: ~50 µs more per chunk on this machine).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let results = match runtime.map(|rt| rt.block_on(harness::run(&options))) {
        Ok(Ok(results)) => results,
        Ok(Err(e)) => {
            eprintln!("harness: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("harness: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    println!("\n{}", report::markdown(&results));
    ExitCode::SUCCESS
}
