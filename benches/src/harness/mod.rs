//! The end-to-end harness: the release gateway against a do-nothing floor proxy (nginx) in the
//! same run, every part a separate process on loopback — the stand-in upstream
//! ([`stand_in`]), nginx ([`nginx`]), the gateway with auth on and with auth bypassed
//! ([`gateway`]), wrk ([`wrk`]) — plus the harness's own streaming probe ([`stream_probe`]) and
//! open-streams memory test ([`memory`]); [`report`] prints one table. See `benches/README.md`,
//! "End-to-end against the floor (harness)".

pub mod child;
pub mod gateway;
pub mod memory;
pub mod nginx;
pub mod plan;
pub mod report;
mod run;
pub mod stand_in;
pub mod stream_probe;
pub mod wrk;

use std::path::PathBuf;

pub use run::run;

/// The harness's command line (`harness --help`).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    about = "End-to-end: the duo-gateway binary against nginx as a do-nothing floor proxy, \
             in front of the same fixed-answer upstream; wrk for latency and throughput, a \
             streaming probe, RSS with open streams, CPU per request."
)]
pub struct Options {
    /// Seconds of each wrk measurement.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// A short smoke run: 1 s measurements, no warm-up, 100 streamed requests per probe and
    /// 100 open streams.
    #[arg(long)]
    pub quick: bool,
    /// The duo-gateway binary (default: `duo-gateway` next to this executable, i.e.
    /// `target/release/duo-gateway`).
    #[arg(long)]
    pub gateway: Option<PathBuf>,
    /// The nginx binary (without one, only absolute figures are reported).
    #[arg(long, default_value = "/usr/sbin/nginx")]
    pub nginx: PathBuf,
    /// The wrk binary.
    #[arg(long, default_value = "wrk")]
    pub wrk: PathBuf,
    /// Streamed requests per streaming probe (after 20 unmeasured ones).
    #[arg(long, default_value_t = 1000)]
    pub stream_requests: u64,
    /// Concurrent open streams of the memory test.
    #[arg(long, default_value_t = 1000)]
    pub streams: usize,
    /// Content chunks of each streamed answer.
    #[arg(long, default_value_t = 20)]
    pub chunks: usize,
    /// Keep the temp directory (configs, logs, wrk scripts and outputs) and print its path.
    #[arg(long)]
    pub keep: bool,
    /// Internal: run as the stand-in upstream (what `stand_in` runs).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Serve as the stand-in upstream (the harness starts itself this way).
    #[command(hide = true)]
    StandIn(stand_in::StandInArgs),
}

impl Options {
    /// The effective settings after `--quick`: (seconds, warm-up seconds, stream requests,
    /// open streams).
    #[must_use]
    pub fn effective(&self) -> (u64, u64, u64, usize) {
        if self.quick {
            (1, 0, self.stream_requests.min(100), self.streams.min(100))
        } else {
            (self.seconds.max(1), 1, self.stream_requests, self.streams)
        }
    }
}
