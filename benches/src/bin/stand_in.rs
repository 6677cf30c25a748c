//! The harness's upstream on its own: a fixed-answer OpenAI-compatible server
//! (duo-testkit's `FakeOpenAi`) on a current-thread runtime, printing its base URL
//! (`http://127.0.0.1:PORT/v1`) on standard output. `POST /v1/chat/completions` and
//! `POST /v1/completions` answer JSON, or with `"stream": true` `--chunks` SSE chunks ending in
//! `data: [DONE]`, `--chunk-delay-ms` apart.
//!
//! ```sh
//! cargo run --release -p duo-benches --bin stand_in -- --chunks 20 --chunk-delay-ms 0
//! ```
//!
//! The harness runs the same code as `harness stand-in`, so that one `cargo run` builds it.

use std::process::ExitCode;

use clap::Parser;
use duo_benches::harness::stand_in::{StandInArgs, serve};

/// The command line.
#[derive(Debug, Parser)]
#[command(about = "A fixed-answer OpenAI-compatible upstream for the harness.")]
struct Cli {
    #[command(flatten)]
    args: StandInArgs,
}

fn main() -> ExitCode {
    match serve(&Cli::parse().args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stand_in: {e}");
            ExitCode::from(2)
        }
    }
}
