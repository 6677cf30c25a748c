//! One run: start every process, check every target once, measure (wrk at c=1, 32, 256 with
//! CPU sampled around c=32; the streaming probe; memory with open streams), stop, collect.

use std::path::{Path, PathBuf};
use std::time::Duration;

use duo_testkit::oidc::FakeOidc;
use reqwest::header::HeaderMap;
use tokio::runtime::Runtime;

use super::gateway::{self, Auth, Variant};
use super::memory::{self, Subject};
use super::nginx::Nginx;
use super::plan::{self, Bases, Server, Target};
use super::report::{Memory, Results, Row};
use super::stand_in::{FIRST_PIECE, StandIn, StandInArgs};
use super::wrk::{self, C1, C32, C256, Load, Outcome};
use super::{Options, stream_probe};
use crate::soak::gateway::GatewayProcess;
use crate::{BoxError, procfs};

/// Milliseconds between two chunks of the slow stand-in: its streams stay open for the memory
/// test (20 chunks: a minute).
const SLOW_CHUNK_MS: u64 = 3000;

/// A runtime of its own (the OIDC issuer's), shut down without blocking when dropped, so that
/// it may be dropped inside the harness's runtime.
struct Background(Option<Runtime>);

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// The running processes.
struct Processes<'a> {
    stand_in: &'a StandIn,
    nginx: Option<&'a Nginx>,
    auth: &'a GatewayProcess,
    bypass: &'a GatewayProcess,
}

impl Processes<'_> {
    /// CPU ticks of what serves `server`.
    fn cpu_ticks(&self, server: Server) -> Result<u64, BoxError> {
        let pid = |p: u32| procfs::cpu_ticks(&p.to_string()).map_err(BoxError::from);
        match server {
            Server::StandIn => pid(self.stand_in.pid()),
            Server::Nginx => self.nginx.ok_or("no nginx")?.cpu_ticks(),
            Server::GatewayAuth => pid(self.auth.pid()),
            Server::GatewayBypass => pid(self.bypass.pid()),
        }
    }
}

/// Sends `target`'s non-streamed request once: it must answer 2xx with the stand-in's text.
async fn check(client: &reqwest::Client, target: &Target) -> Result<(), String> {
    let mut request = client
        .post(&target.request.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(target.request.body.clone());
    for (name, value) in &target.request.headers {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("body: {e}"))?;
    let short: String = text.chars().take(300).collect();
    if !status.is_success() {
        return Err(format!("status {status}: {short}"));
    }
    if !text.contains(FIRST_PIECE) {
        return Err(format!("an answer without the stand-in's text: {short}"));
    }
    Ok(())
}

/// Runs wrk on a blocking thread.
async fn wrk_run(
    options: &Options,
    dir: &Path,
    target: &Target,
    load: Load,
    seconds: u64,
    tag: &str,
) -> Result<Outcome, BoxError> {
    let (bin, dir) = (options.wrk.clone(), dir.to_owned());
    let (request, name) = (target.request.clone(), format!("{}-{tag}", target.name));
    tokio::task::spawn_blocking(move || wrk::run(&bin, &dir, &name, &request, load, seconds))
        .await?
}

/// The gateway binary: `--gateway`, or `duo-gateway` next to this executable.
fn gateway_binary(options: &Options, me: &Path) -> Result<PathBuf, BoxError> {
    let path = options
        .gateway
        .clone()
        .unwrap_or_else(|| me.with_file_name("duo-gateway"));
    if !path.is_file() {
        return Err(format!(
            "no gateway binary at {} (run `cargo build --release -p duo-gateway`, or pass --gateway PATH)",
            path.display()
        )
        .into());
    }
    Ok(path)
}

/// Runs the whole harness and returns what it measured.
///
/// # Errors
/// When a process cannot be started or a measurement cannot run at all (errors of requests
/// are counted and reported, not returned).
#[allow(clippy::too_many_lines)] // one sequence of steps, each a call
pub async fn run(options: &Options) -> Result<Results, BoxError> {
    let (seconds, warm_s, stream_requests, streams) = options.effective();
    let me = std::env::current_exe()?;
    let gateway_bin = gateway_binary(options, &me)?;
    std::process::Command::new(&options.wrk)
        .arg("-v")
        .output()
        .map_err(|e| {
            format!(
                "cannot run {} (apt-get install wrk): {e}",
                options.wrk.display()
            )
        })?;
    let mut results = Results {
        chunks: options.chunks,
        ..Results::default()
    };
    let has_nginx = options.nginx.is_file();
    if !has_nginx {
        println!("nginx not installed (apt-get install nginx-light): no floor");
        results
            .notes
            .push("nginx not installed: no floor, absolute figures only".into());
    }
    let nofile = procfs::raise_nofile(u64::try_from(streams)?.saturating_mul(4) + 4096)?;
    let tmp = tempfile::Builder::new().prefix("duo-harness-").tempdir()?;
    let dir = tmp.path().to_owned();

    let args = |chunk_delay_ms| StandInArgs {
        chunks: options.chunks,
        chunk_delay_ms,
        exit_on_stdin_eof: true,
    };
    let stand_in = StandIn::start(&me, &["stand-in"], &args(0))?;
    let slow = StandIn::start(&me, &["stand-in"], &args(SLOW_CHUNK_MS))?;
    let nginx = if has_nginx {
        Some(Nginx::start(
            &options.nginx,
            &dir,
            stand_in.addr,
            slow.addr,
        )?)
    } else {
        None
    };
    if let Some(n) = &nginx {
        results.nginx = Some(Memory {
            idle_kb: n.rss_kb()?,
            streams: None,
        });
    }
    let oidc_rt = Background(Some(crate::runtime("oidc", 1)?));
    let oidc = match &oidc_rt.0 {
        Some(rt) => rt.spawn(FakeOidc::start()).await?,
        None => return Err("no OIDC runtime".into()),
    };
    let token = oidc.token(&["complete_code"]);
    let auth_on = Variant {
        name: "auth-on",
        auth: Auth::Oidc(oidc.url()),
    };
    let bypassed = Variant {
        name: "auth-bypassed",
        auth: Auth::Bypassed,
    };
    let (gw_auth, log_auth) = gateway::start(&gateway_bin, &dir, &stand_in.url, &auth_on).await?;
    results.gateway_auth.idle_kb = gw_auth.stats()?.rss_kb;
    let (gw_bypass, log_bypass) =
        gateway::start(&gateway_bin, &dir, &stand_in.url, &bypassed).await?;
    results.gateway_bypass.idle_kb = gw_bypass.stats()?.rss_kb;
    let procs = Processes {
        stand_in: &stand_in,
        nginx: nginx.as_ref(),
        auth: &gw_auth,
        bypass: &gw_bypass,
    };
    let bases = Bases {
        stand_in_v1: &stand_in.url,
        nginx: nginx.as_ref().map(|n| n.base.as_str()),
        gateway_auth: &gw_auth.base,
        gateway_bypass: &gw_bypass.base,
    };
    let targets = plan::targets(&bases, &token, options.chunks)?;
    eprintln!(
        "harness: stand-in {} (pid {}), nginx {}, gateways {} (auth on, pid {}) and {} (bypassed, pid {}); open-file limit {nofile}; files in {}",
        stand_in.url,
        stand_in.pid(),
        nginx.as_ref().map_or("none", |n| n.base.as_str()),
        gw_auth.base,
        gw_auth.pid(),
        gw_bypass.base,
        gw_bypass.pid(),
        dir.display()
    );

    let client = reqwest::Client::new();
    for t in &targets {
        let skipped = check(&client, t).await.err();
        if let Some(why) = &skipped {
            results
                .problems
                .push(format!("{}: not measured: {why}", t.label));
        }
        results.rows.push(Row {
            label: t.label.clone(),
            server: t.server,
            note: t.note.clone(),
            skipped,
            c1: None,
            c32: None,
            c256: None,
            cpu_us: None,
            stream: None,
        });
    }
    drop(client);
    let live: Vec<usize> = (0..targets.len())
        .filter(|&i| results.rows[i].skipped.is_none())
        .collect();
    if warm_s > 0 {
        for &i in &live {
            wrk_run(options, &dir, &targets[i], C32, warm_s, "warm-up").await?;
        }
    }
    let ticks_per_s = procfs::clock_ticks_per_second();
    for (load, tag) in [(C1, "c1"), (C32, "c32"), (C256, "c256")] {
        for &i in &live {
            let (t, row) = (&targets[i], &mut results.rows[i]);
            let before = procs.cpu_ticks(t.server)?;
            let outcome = wrk_run(options, &dir, t, load, seconds, tag).await?;
            let after = procs.cpu_ticks(t.server)?;
            eprintln!(
                "  {tag:>4} {:<13} {:>8.0} req/s  p50 {:>6.0} µs  p99 {:>6.0} µs  errors {}",
                t.name,
                outcome.per_second(),
                outcome.p50,
                outcome.p99,
                outcome.errors.total()
            );
            if outcome.errors.total() > 0 {
                results.problems.push(format!(
                    "{} at {tag}: wrk errors: {}",
                    t.label, outcome.errors
                ));
            }
            match tag {
                "c1" => row.c1 = Some(outcome),
                "c32" => {
                    #[allow(clippy::cast_precision_loss)] // tick and request counts far below 2^52
                    let per = (after.saturating_sub(before)) as f64 * 1e6
                        / ticks_per_s as f64
                        / outcome.requests.max(1) as f64;
                    row.cpu_us = Some(per);
                    row.c32 = Some(outcome);
                }
                _ => row.c256 = Some(outcome),
            }
        }
    }

    for &i in &live {
        let (t, row) = (&targets[i], &mut results.rows[i]);
        match stream_probe::probe(&t.stream, stream_requests).await {
            Ok(times) => {
                if let Some(why) = &times.first_failure {
                    results.problems.push(format!(
                        "{} streamed: {} failed, first: {why}",
                        t.label, times.failed
                    ));
                }
                eprintln!(
                    "  stream {:<13} first chunk p50 {} µs, whole p50 {} µs",
                    t.name,
                    times.first.value_at_quantile(0.5),
                    times.total.value_at_quantile(0.5)
                );
                row.stream = Some(times);
            }
            Err(e) => results
                .problems
                .push(format!("{} streamed: not measured: {e}", t.label)),
        }
    }

    let settle = Duration::from_secs(5);
    let gw_readings = memory::open_streams(
        &Subject::Gateway(&gw_auth),
        &format!("{}/v2/code/completions", gw_auth.base),
        &plan::code_completion_body(&slow.url, true),
        &plan::gitlab_headers(&token),
        streams,
        settle,
    )
    .await?;
    note_stream_failures(&mut results.problems, "gateway (auth on)", &gw_readings);
    results.gateway_auth.streams = Some(gw_readings);
    if let (Some(n), Some(memory)) = (&nginx, results.nginx.as_mut()) {
        let readings = memory::open_streams(
            &Subject::Nginx(n),
            &format!("{}/slow/v1/chat/completions", n.base),
            &plan::chat_body(true),
            &HeaderMap::new(),
            streams,
            settle,
        )
        .await?;
        note_stream_failures(&mut results.problems, "nginx", &readings);
        memory.streams = Some(readings);
        for line in n.logged_problems() {
            results.problems.push(format!("nginx logged: {line}"));
        }
    }

    for (name, gw, log) in [
        ("auth on", gw_auth, log_auth),
        ("auth bypassed", gw_bypass, log_bypass),
    ] {
        match gw.stop(Duration::from_secs(10)).await {
            Ok(took) => results.notes.push(format!(
                "gateway ({name}) stopped on SIGTERM in {} ms",
                took.as_millis()
            )),
            Err(e) => results.problems.push(format!("gateway ({name}): {e}")),
        }
        let scan = gateway::scan_log(&log)?;
        for ((level, message), count) in &scan.problems {
            results.problems.push(format!(
                "gateway ({name}) logged {count} × {level}: {message}"
            ));
        }
        results
            .notes
            .push(format!("gateway ({name}) log: {} lines", scan.lines));
    }
    drop(oidc);
    results.notes.push(format!(
        "{seconds} s per wrk run ({warm_s} s warm-up per target), {stream_requests} streamed requests per probe, {streams} open streams, {} chunks per stream; gateway {}",
        options.chunks,
        gateway_bin.display()
    ));
    if options.keep {
        results
            .notes
            .push(format!("files kept in {}", tmp.keep().display()));
    }
    Ok(results)
}

/// Adds the memory test's failed streams, if any, to `problems`.
fn note_stream_failures(problems: &mut Vec<String>, who: &str, r: &memory::Readings) {
    if r.failed > 0 || r.opened < r.wanted {
        problems.push(format!(
            "{who}: {} of {} streams opened, {} failed before the harness closed them (first: {})",
            r.opened,
            r.wanted,
            r.failed,
            r.first_failure.as_deref().unwrap_or("-")
        ));
    }
}
