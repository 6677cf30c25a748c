//! The soak benchmark: the release `duo-gateway` as a child process in front of a slow fake
//! vLLM upstream ([`duo_testkit::openai::FakeOpenAi`], in this process), first many concurrent
//! streams with random client disconnects, then many sequential requests; then the gateway's
//! descriptors, memory and in-flight gauge must be back where they were when idle, and the
//! upstream must hold no stream for a client that left. See `benches/README.md`, "Soak".

pub mod gateway;
pub mod load;
mod measure;
pub mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use duo_testkit::openai::{FakeOpenAi, Reply};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::BoxError;
use crate::procfs;
use gateway::{GatewayProcess, GatewaySettings};
use measure::{sample_peaks, settle, wait_upstream_streams_closed};
use report::{Round, Summary};

/// The upstream model that streams slowly.
const SLOW_MODEL: &str = "soak-slow";
/// The upstream model that streams without delay.
const FAST_MODEL: &str = "soak-fast";

/// The soak's parameters (`soak --help`).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    about = "Soak the duo-gateway binary: concurrent streams with random disconnects, \
                   then sequential requests; descriptors, memory and in-flight gauge must return \
                   to the idle baseline."
)]
pub struct Options {
    /// Streams at once in the concurrent phase.
    #[arg(long, default_value_t = 1000)]
    pub concurrent: usize,
    /// Requests one after the other in the sequential phase (half streamed, half not).
    #[arg(long, default_value_t = 50_000)]
    pub sequential: u64,
    /// Rounds of both phases, each judged against the baseline.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// The gateway's allocator: `jemalloc` preloaded with freed pages returned at once, so that
    /// RSS follows the live heap and is judged; or `system` (glibc, as shipped), which keeps
    /// freed pages: RSS is then reported, not judged (see benches/README.md).
    #[arg(long, value_enum, default_value_t = Malloc::Jemalloc)]
    pub malloc: Malloc,
    /// `libjemalloc.so.2` to preload (default: searched in the usual library directories).
    #[arg(long)]
    pub jemalloc_lib: Option<PathBuf>,
    /// Content chunks of each upstream stream.
    #[arg(long, default_value_t = 40)]
    pub chunks: usize,
    /// Milliseconds between two chunks of a slow stream.
    #[arg(long, default_value_t = 100)]
    pub chunk_ms: u64,
    /// Percentage of concurrent clients that disconnect mid-stream.
    #[arg(long, default_value_t = 30)]
    pub abort_pct: u32,
    /// Seed of the disconnect plan (default: from the clock; printed either way).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The duo-gateway binary (default: next to this one).
    #[arg(long)]
    pub gateway: Option<PathBuf>,
    /// Allowed distance of descriptors after a round from the baseline, and of RSS above it, in
    /// percent.
    #[arg(long, default_value_t = 10.0)]
    pub tolerance_pct: f64,
    /// Longest wait for quiescence before measuring, in seconds.
    #[arg(long, default_value_t = 30)]
    pub settle_s: u64,
    /// The gateway's `providers.http.pool_idle_timeout`, in seconds.
    #[arg(long, default_value_t = 3)]
    pub pool_idle_s: u64,
    /// An extra environment variable for the gateway only, `KEY=VALUE` (repeatable), e.g.
    /// `MALLOC_ARENA_MAX=1` or an `LD_PRELOAD`ed allocator or heap profiler.
    #[arg(long, value_name = "KEY=VALUE")]
    pub gateway_env: Vec<String>,
    /// Keep the gateway's log (it is deleted after a passing run).
    #[arg(long)]
    pub keep_log: bool,
}

/// The gateway's allocator during the soak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Malloc {
    /// jemalloc through `LD_PRELOAD`, `dirty_decay_ms:0,muzzy_decay_ms:0`.
    Jemalloc,
    /// The C library's malloc, as the binary ships.
    System,
}

/// Where Debian, Fedora and Alpine put `libjemalloc.so.2`.
const JEMALLOC_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
];

/// The environment that puts the gateway on `options.malloc`.
fn malloc_env(options: &Options) -> Result<Vec<(String, String)>, BoxError> {
    if options.malloc == Malloc::System {
        return Ok(Vec::new());
    }
    let lib = match &options.jemalloc_lib {
        Some(path) => path.clone(),
        None => JEMALLOC_DIRS
            .iter()
            .map(|dir| std::path::Path::new(dir).join("libjemalloc.so.2"))
            .find(|p| p.is_file())
            .ok_or("no libjemalloc.so.2 found (apt-get install libjemalloc2, or pass --jemalloc-lib, or --malloc system)")?,
    };
    Ok(vec![
        ("LD_PRELOAD".into(), lib.display().to_string()),
        (
            "MALLOC_CONF".into(),
            "dirty_decay_ms:0,muzzy_decay_ms:0".into(),
        ),
    ])
}

/// The text the upstream answers: `chunks` pieces of six characters.
fn answer_text(chunks: usize) -> String {
    (0..chunks)
        .map(|i| format!("v{:04} ", i % 10_000))
        .collect()
}

/// The gateway binary: `--gateway`, or `duo-gateway` next to this executable.
fn gateway_binary(options: &Options) -> Result<PathBuf, BoxError> {
    if let Some(path) = &options.gateway {
        return Ok(path.clone());
    }
    let me = std::env::current_exe()?;
    let path = me.with_file_name("duo-gateway");
    if !path.is_file() {
        return Err(format!(
            "no duo-gateway next to {} (build it: cargo build --release -p duo-gateway, or pass --gateway)",
            me.display()
        )
        .into());
    }
    Ok(path)
}

/// Everything a round needs.
struct Soak<'a> {
    options: &'a Options,
    gw: &'a GatewayProcess,
    upstream: &'a Arc<FakeOpenAi>,
    url: &'a str,
    slow_body: &'a serde_json::Value,
    text: &'a str,
    sequential: load::SequentialPlan<'a>,
}

impl Soak<'_> {
    /// One round: the concurrent phase with `plans`, the sequential phase, then quiet.
    async fn round(&self, plans: &[Option<usize>]) -> Result<Round, BoxError> {
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = tokio::spawn(sample_peaks(
            self.gw.pid(),
            Arc::clone(self.upstream),
            Arc::clone(&stop),
        ));
        let before = self.upstream.stream_stats();
        let client = reqwest::Client::new();
        let phase = Instant::now();
        let limit = stream_limit(self.options);
        let streams =
            load::concurrent(&client, self.url, self.slow_body, plans, self.text, limit).await;
        let concurrent_wall = phase.elapsed();
        drop(client);
        let cancel_wait = wait_upstream_streams_closed(self.upstream, self.options).await;
        let after_streams = self.upstream.stream_stats();
        let client = reqwest::Client::new();
        let n = self.options.sequential;
        let sequential = load::sequential(&client, &self.sequential, n).await?;
        drop(client);
        stop.store(true, Ordering::Relaxed);
        let peaks = sampler.await?;
        Ok(Round {
            planned_aborts: plans.iter().filter(|p| p.is_some()).count(),
            streams,
            concurrent_wall,
            upstream_finished: after_streams.finished - before.finished,
            upstream_cancelled: after_streams.cancelled - before.cancelled,
            cancel_wait,
            sequential,
            peaks,
            after: settle(self.gw, self.upstream, self.options).await?,
        })
    }

    /// The streams of `plan` at once, then 400 sequential requests: any failure is an error.
    /// Before a measure, so that one-time allocations land first and the allocator has had
    /// the same churn as after a round's sequential phase.
    async fn warm_up(&self, plan: &[Option<usize>]) -> Result<(), BoxError> {
        let client = reqwest::Client::new();
        let limit = stream_limit(self.options);
        let counts =
            load::concurrent(&client, self.url, self.slow_body, plan, self.text, limit).await;
        if counts.failed > 0 {
            return Err(format!("warm-up streams failed: {:?}", counts.failures).into());
        }
        let seq = load::sequential(&client, &self.sequential, 400).await?;
        if seq.counts.failed > 0 {
            return Err(format!("warm-up requests failed: {:?}", seq.counts.failures).into());
        }
        Ok(())
    }
}

/// Runs the whole soak and returns what it measured.
///
/// # Errors
/// When the gateway cannot be started or a phase cannot run at all (failed requests are counted,
/// not errors).
pub async fn run(options: &Options) -> Result<Summary, BoxError> {
    let started = Instant::now();
    let seed = options.seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| {
            u64::try_from(d.as_nanos() % u128::from(u64::MAX)).unwrap_or(0)
        })
    });
    let want_fds = u64::try_from(options.concurrent)?.saturating_mul(4) + 1024;
    let nofile = procfs::raise_nofile(want_fds)?;
    let upstream = Arc::new(FakeOpenAi::start().await);
    upstream.record_requests(false);
    let text = answer_text(options.chunks);
    let slow = Reply::stream(text.clone())
        .chunks(options.chunks)
        .chunk_delay(Duration::from_millis(options.chunk_ms));
    upstream.set_model_default(SLOW_MODEL, slow);
    upstream.set_model_default(
        FAST_MODEL,
        Reply::stream(text.clone()).chunks(options.chunks),
    );

    let log = std::env::temp_dir().join(format!("duo-soak-gateway-{}.log", std::process::id()));
    let mut settings = GatewaySettings {
        binary: gateway_binary(options)?,
        max_connections: (options.concurrent * 2).max(256),
        pool_idle_s: options.pool_idle_s,
        log: log.clone(),
        env: malloc_env(options)?,
    };
    for kv in &options.gateway_env {
        let (k, v) = kv.split_once('=').ok_or("--gateway-env takes KEY=VALUE")?;
        settings.env.push((k.to_owned(), v.to_owned()));
    }
    let gw = GatewayProcess::start(&settings).await?;
    println!(
        "duo soak: gateway pid {} ({}), fastapi.max_connections {}, open-file limit {} (soak {nofile})",
        gw.pid(),
        settings.binary.display(),
        settings.max_connections,
        gw.open_file_limit()
    );
    println!(
        "upstream {} (FakeOpenAi): {} chunks every {} ms; {} round(s) of {} concurrent + {} sequential; seed {seed}",
        upstream.url(),
        options.chunks,
        options.chunk_ms,
        options.rounds,
        options.concurrent,
        options.sequential
    );
    let url = format!("{}{}", gw.base, load::ROUTE);
    let endpoint = upstream.url();
    let slow_body = load::completion_body(&endpoint, SLOW_MODEL, true);
    let fast_body = load::completion_body(&endpoint, FAST_MODEL, true);
    let json_body = load::completion_body(&endpoint, FAST_MODEL, false);
    let json_expect = load::json_once(&reqwest::Client::new(), &url, &json_body).await?;
    let soak = Soak {
        options,
        gw: &gw,
        upstream: &upstream,
        url: &url,
        slow_body: &slow_body,
        text: &text,
        sequential: load::SequentialPlan {
            url: &url,
            json_body: &json_body,
            json_expect: &json_expect,
            stream_body: &fast_body,
            stream_expect: &text,
        },
    };
    let mut small: Vec<Option<usize>> = vec![None; 16];
    small.extend([Some(0), Some(1), Some(3), Some(5)]);
    soak.warm_up(&small).await?;
    let cold = settle(&gw, &upstream, options).await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut plan = || -> Vec<Option<usize>> {
        (0..options.concurrent)
            .map(|_| {
                (rng.random_range(0..100) < options.abort_pct)
                    .then(|| rng.random_range(0..=options.chunks / 2))
            })
            .collect()
    };
    // One burst at full concurrency: what is sized by the peak (the span slab of the tracing
    // registry, the allocator's own metadata) is then part of the baseline.
    soak.warm_up(&plan()).await?;
    let baseline = settle(&gw, &upstream, options).await?;
    let mut rounds = Vec::new();
    for _ in 0..options.rounds.max(1) {
        rounds.push(soak.round(&plan()).await?);
    }
    let stop_took = gw.stop(Duration::from_secs(10)).await;
    Ok(Summary {
        seed,
        concurrent: options.concurrent,
        malloc: options.malloc,
        cold,
        baseline,
        rounds,
        upstream_peak_streams: upstream.stream_stats().peak_open,
        stop_took: stop_took.map_err(|e| e.to_string()),
        log: gateway::read_log(&log)?,
        log_path: log,
        wall: started.elapsed(),
    })
}

/// The longest a stream of the concurrent phase may take: its own length plus a minute.
fn stream_limit(options: &Options) -> Duration {
    let chunks = u64::try_from(options.chunks).unwrap_or(u64::MAX);
    Duration::from_millis(options.chunk_ms.saturating_mul(chunks)) + Duration::from_secs(60)
}
