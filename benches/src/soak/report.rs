//! What the soak measured, printed as a table, and the verdict: the list of checks that failed.

use std::path::PathBuf;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::Malloc;
use super::gateway::LogSummary;
use super::load::{Sequential, StreamCounts};
use crate::procfs::ProcStats;

/// The gateway once quiet (or once the wait for quiet ran out).
#[derive(Debug, Clone, Copy)]
pub struct Settled {
    /// Its descriptors and memory.
    pub stats: ProcStats,
    /// Its `model_inferences_in_flight`, summed.
    pub in_flight: f64,
    /// Upstream streams still open.
    pub streams_open: usize,
    /// Upstream connections still open (the gateway's pool).
    pub upstream_connections: usize,
    /// How long the wait took.
    pub waited: Duration,
    /// Whether it got quiet within the limit.
    pub quiet: bool,
}

/// The highest values sampled during the two phases.
#[derive(Debug, Clone, Copy, Default)]
pub struct Peaks {
    /// Gateway descriptors.
    pub fds: u64,
    /// Gateway RSS, KiB.
    pub rss_kb: u64,
    /// Gateway threads.
    pub threads: u64,
    /// Upstream connections open.
    pub upstream_connections: usize,
}

/// One round: the concurrent phase, the sequential phase, and the gateway once quiet again.
#[derive(Debug)]
pub struct Round {
    /// How many concurrent clients were planned to disconnect.
    pub planned_aborts: usize,
    /// The concurrent phase's streams, as the clients saw them.
    pub streams: StreamCounts,
    /// How long the concurrent phase took.
    pub concurrent_wall: Duration,
    /// Upstream streams of the concurrent phase written to the end.
    pub upstream_finished: usize,
    /// Upstream streams of the concurrent phase cut short (their client left).
    pub upstream_cancelled: usize,
    /// From the concurrent phase's end until no upstream stream was open.
    pub cancel_wait: Duration,
    /// The sequential phase.
    pub sequential: Sequential,
    /// The highest values sampled during the round.
    pub peaks: Peaks,
    /// Quiet again after the round.
    pub after: Settled,
}

/// Everything one soak run measured.
#[derive(Debug)]
pub struct Summary {
    /// The disconnect plan's seed.
    pub seed: u64,
    /// Streams in each concurrent phase.
    pub concurrent: usize,
    /// The gateway's allocator.
    pub malloc: Malloc,
    /// Idle after a small warm-up.
    pub cold: Settled,
    /// Idle after a burst at full concurrency, before the first round: what rounds are judged by.
    pub baseline: Settled,
    /// The rounds, in order.
    pub rounds: Vec<Round>,
    /// The most upstream streams open at once.
    pub upstream_peak_streams: usize,
    /// How long the gateway took to exit on SIGTERM, or why it did not.
    pub stop_took: Result<Duration, String>,
    /// What the gateway logged.
    pub log: LogSummary,
    /// Where.
    pub log_path: PathBuf,
    /// The whole run.
    pub wall: Duration,
}

fn mib(kb: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let m = kb as f64 / 1024.0;
    format!("{m:.1} MiB")
}

fn percentiles(h: &Histogram<u64>) -> String {
    let q = |p| h.value_at_quantile(p);
    format!(
        "{:>7} {:>7} {:>7} {:>7} {:>8}",
        q(0.5),
        q(0.9),
        q(0.99),
        q(0.999),
        h.max()
    )
}

/// One row of the table: cold, the baseline, then each round's peak and after.
fn row(name: &str, idle: [&str; 2], rounds: impl Iterator<Item = (String, String)>) {
    let [cold, baseline] = idle;
    let mut line = format!("{name:<22} {cold:>10} {baseline:>10}");
    for (peak, after) in rounds {
        line.push_str(&format!(" {peak:>10} {after:>10}"));
    }
    println!("{line}");
}

/// Prints the run's table.
pub fn print(s: &Summary) {
    let (c, b, rounds) = (&s.cold, &s.baseline, &s.rounds);
    println!();
    let heads = (1..=rounds.len()).map(|i| (format!("peak {i}"), format!("after {i}")));
    row("gateway", ["cold", "baseline"], heads);
    let idle = |f: &dyn Fn(&Settled) -> String| [f(c), f(b)];
    let fds = rounds
        .iter()
        .map(|r| (r.peaks.fds.to_string(), r.after.stats.fds.to_string()));
    let [x, y] = idle(&|s| s.stats.fds.to_string());
    row("open descriptors", [&x, &y], fds);
    let rss = rounds
        .iter()
        .map(|r| (mib(r.peaks.rss_kb), mib(r.after.stats.rss_kb)));
    let [x, y] = idle(&|s| mib(s.stats.rss_kb));
    row("RSS", [&x, &y], rss);
    let threads = rounds.iter().map(|r| {
        let (peak, after) = (r.peaks.threads, r.after.stats.threads);
        (peak.to_string(), after.to_string())
    });
    let [x, y] = idle(&|s| s.stats.threads.to_string());
    row("threads", [&x, &y], threads);
    let gauge = rounds
        .iter()
        .map(|r| (String::new(), r.after.in_flight.to_string()));
    let [x, y] = idle(&|s| s.in_flight.to_string());
    row("in-flight gauge", [&x, &y], gauge);
    let conns = rounds.iter().map(|r| {
        let (peak, after) = (r.peaks.upstream_connections, r.after.upstream_connections);
        (peak.to_string(), after.to_string())
    });
    let [x, y] = idle(&|s| s.upstream_connections.to_string());
    row("upstream connections", [&x, &y], conns);
    let streams = rounds
        .iter()
        .map(|r| (String::new(), r.after.streams_open.to_string()));
    let [x, y] = idle(&|s| s.streams_open.to_string());
    row("upstream streams open", [&x, &y], streams);
    let waited = rounds.iter().map(|r| (String::new(), secs(r.after.waited)));
    let [x, y] = idle(&|s| secs(s.waited));
    row("waited for quiet (s)", [&x, &y], waited);
    let allocator = match s.malloc {
        Malloc::Jemalloc => "jemalloc (preloaded, decay 0): RSS judged",
        Malloc::System => "system malloc: RSS reported, not judged (glibc keeps freed pages)",
    };
    println!("gateway allocator: {allocator}");
    println!(
        "(most upstream streams open at once: {})",
        s.upstream_peak_streams
    );
    for (i, r) in rounds.iter().enumerate() {
        print_round(i + 1, s, r);
    }
    match &s.stop_took {
        Ok(d) => println!(
            "gateway exited on SIGTERM in {:.0} ms",
            d.as_secs_f64() * 1000.0
        ),
        Err(e) => println!("gateway stop: {e}"),
    }
    println!(
        "gateway log: {} lines, {} WARN, {} ERROR ({})",
        s.log.lines,
        s.log.warnings,
        s.log.errors,
        s.log_path.display()
    );
    for line in &s.log.samples {
        println!("  {line}");
    }
    println!("wall time: {:.1} s", s.wall.as_secs_f64());
}

fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

fn print_round(n: usize, s: &Summary, r: &Round) {
    let c = &r.streams;
    println!();
    println!(
        "round {n}: {} concurrent streams ({} planned disconnects, seed {}) in {:.1} s: {} completed, {} disconnected, {} failed",
        s.concurrent,
        r.planned_aborts,
        s.seed,
        r.concurrent_wall.as_secs_f64(),
        c.completed,
        c.aborted,
        c.failed
    );
    println!(
        "  upstream: {} streams finished, {} cancelled; the last closed {:.0} ms after the phase",
        r.upstream_finished,
        r.upstream_cancelled,
        r.cancel_wait.as_secs_f64() * 1000.0
    );
    let q = &r.sequential;
    println!(
        "  then {} sequential requests in {:.1} s ({} failed)",
        q.json.len() + q.stream.len(),
        q.wall.as_secs_f64(),
        q.counts.failed
    );
    println!(
        "  {:<22} {:>7} {:>7} {:>7} {:>7} {:>8}",
        "latency (µs)", "p50", "p90", "p99", "p99.9", "max"
    );
    println!("  {:<22} {}", "non-streamed", percentiles(&q.json));
    println!("  {:<22} {}", "streamed (fast)", percentiles(&q.stream));
    for why in c.failures.iter().chain(&q.counts.failures) {
        println!("  failure: {why}");
    }
}

/// Whether `after` is within `pct` percent of `baseline`.
fn within(baseline: u64, after: u64, pct: f64) -> bool {
    #[allow(clippy::cast_precision_loss)]
    let (b, a) = (baseline as f64, after as f64);
    (a - b).abs() <= b * pct / 100.0
}

/// The checks that failed; empty when the soak passed.
///
/// After every round, descriptors must be within `tolerance_pct` of the baseline and, under
/// jemalloc, RSS at most `tolerance_pct` above it; the in-flight gauge 0, the upstream idle,
/// every stream accounted for.
#[must_use]
pub fn failures(s: &Summary, tolerance_pct: f64) -> Vec<String> {
    let mut out = Vec::new();
    let b = &s.baseline;
    if !b.quiet || !s.cold.quiet {
        out.push("the gateway was not quiet before the first round (see --settle-s)".into());
    }
    for (i, r) in s.rounds.iter().enumerate() {
        let n = i + 1;
        round_failures(n, b, r, tolerance_pct, &mut out);
        let rss = r.after.stats.rss_kb;
        // One-sided: memory given back below the baseline is no leak.
        let rss_over = rss > b.stats.rss_kb && !within(b.stats.rss_kb, rss, tolerance_pct);
        if s.malloc == Malloc::Jemalloc && rss_over {
            out.push(format!(
                "round {n}: RSS {} after vs {} baseline (at most +{tolerance_pct} %)",
                mib(rss),
                mib(b.stats.rss_kb)
            ));
        }
    }
    if s.log.errors != 0 {
        out.push(format!("the gateway logged {} ERROR lines", s.log.errors));
    }
    if let Err(e) = &s.stop_took {
        out.push(e.clone());
    }
    out
}

fn round_failures(n: usize, b: &Settled, r: &Round, tolerance_pct: f64, out: &mut Vec<String>) {
    let a = &r.after;
    if !within(b.stats.fds, a.stats.fds, tolerance_pct) {
        out.push(format!(
            "round {n}: {} descriptors after vs {} baseline (±{tolerance_pct} %)",
            a.stats.fds, b.stats.fds
        ));
    }
    if a.in_flight != 0.0 {
        out.push(format!("round {n}: in-flight gauge {} after", a.in_flight));
    }
    if !a.quiet {
        out.push(format!(
            "round {n}: the gateway did not get quiet within --settle-s"
        ));
    }
    if a.streams_open != 0 || a.upstream_connections != 0 {
        out.push(format!(
            "round {n}: upstream still holds {} streams and {} connections",
            a.streams_open, a.upstream_connections
        ));
    }
    let (c, q) = (&r.streams, &r.sequential.counts);
    if c.failed != 0 || q.failed != 0 {
        out.push(format!(
            "round {n}: {} streams and {} sequential requests failed",
            c.failed, q.failed
        ));
    }
    if c.aborted != r.planned_aborts {
        out.push(format!(
            "round {n}: {} clients disconnected, {} planned",
            c.aborted, r.planned_aborts
        ));
    }
    if r.upstream_cancelled != c.aborted || r.upstream_finished != c.completed {
        out.push(format!(
            "round {n}: upstream cancelled {} streams for {} disconnected clients, finished {} for {} completed",
            r.upstream_cancelled, c.aborted, r.upstream_finished, c.completed
        ));
    }
}
