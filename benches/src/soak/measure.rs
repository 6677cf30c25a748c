//! Watching the gateway and the upstream from outside: waiting for quiet, then measuring, and
//! sampling peaks while a round runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use duo_testkit::openai::FakeOpenAi;

use super::Options;
use super::gateway::GatewayProcess;
use super::report::{Peaks, Settled};
use crate::BoxError;
use crate::procfs::{self, ProcStats};

/// Waits until the upstream has no stream open (every client that left got its upstream stream
/// cancelled, every other one finished); returns how long that took.
pub(super) async fn wait_upstream_streams_closed(
    upstream: &FakeOpenAi,
    options: &Options,
) -> Duration {
    let start = Instant::now();
    while upstream.stream_stats().open > 0
        && start.elapsed() < Duration::from_secs(options.settle_s)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

/// Waits, up to `--settle-s`, until the gateway is quiet: in-flight gauge 0, no upstream stream
/// or connection open (pooled ones close after `--pool-idle-s`), descriptors unchanged for 2 s;
/// then measures.
pub(super) async fn settle(
    gw: &GatewayProcess,
    upstream: &FakeOpenAi,
    options: &Options,
) -> Result<Settled, BoxError> {
    let start = Instant::now();
    let mut fds: Vec<u64> = Vec::new();
    loop {
        // Descriptors first: the metrics request's own connection is then not yet open.
        let stats = gw.stats()?;
        let in_flight = gw.in_flight().await?;
        fds.push(stats.fds);
        let streams_open = upstream.stream_stats().open;
        let upstream_connections = upstream.open_connections();
        let steady = fds.len() > 8 && fds[fds.len() - 9..].iter().all(|&f| f == stats.fds);
        let quiet = in_flight == 0.0 && streams_open == 0 && upstream_connections == 0 && steady;
        if quiet || start.elapsed() > Duration::from_secs(options.settle_s) {
            return Ok(Settled {
                stats,
                in_flight,
                streams_open,
                upstream_connections,
                waited: start.elapsed(),
                quiet,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Samples the gateway and the upstream every 100 ms until `stop`; returns the highest values.
pub(super) async fn sample_peaks(
    pid: u32,
    upstream: Arc<FakeOpenAi>,
    stop: Arc<AtomicBool>,
) -> Peaks {
    let pid = pid.to_string();
    let mut peaks = Peaks::default();
    while !stop.load(Ordering::Relaxed) {
        if let Ok(ProcStats {
            fds,
            rss_kb,
            threads,
        }) = procfs::stats(&pid)
        {
            peaks.fds = peaks.fds.max(fds);
            peaks.rss_kb = peaks.rss_kb.max(rss_kb);
            peaks.threads = peaks.threads.max(threads);
        }
        peaks.upstream_connections = peaks.upstream_connections.max(upstream.open_connections());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peaks
}
