//! What a run measured, and the markdown it prints: one table of the gateway's rows against the
//! baseline (direct) and the floor (nginx) with the targets beside the ratios, a table of the
//! absolute figures, the RSS block, and every error or warning seen.

use std::fmt::Write as _;

use super::memory::Readings;
use super::plan::Server;
use super::stream_probe::StreamTimes;
use super::wrk::Outcome;

/// One route and variant's figures.
#[derive(Debug, Clone)]
pub struct Row {
    /// Its label.
    pub label: String,
    /// Who served it.
    pub server: Server,
    /// Set when the baseline and floor are measured on another route.
    pub note: Option<String>,
    /// Why it was not measured, if it was not.
    pub skipped: Option<String>,
    /// `-t1 -c1`.
    pub c1: Option<Outcome>,
    /// `-t1 -c32`.
    pub c32: Option<Outcome>,
    /// `-t2 -c256`.
    pub c256: Option<Outcome>,
    /// CPU time of the serving process(es) per request during the c=32 run, in µs.
    pub cpu_us: Option<f64>,
    /// The streaming probe.
    pub stream: Option<StreamTimes>,
}

/// Memory of one process (or nginx's master and workers), in KiB.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// Right after start (healthy or accepting), before any request.
    pub idle_kb: u64,
    /// The open-streams test, when it ran.
    pub streams: Option<Readings>,
}

/// Everything a run measured.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Rows: direct first, then nginx if any, then the gateway's.
    pub rows: Vec<Row>,
    /// Content chunks per streamed answer.
    pub chunks: usize,
    /// The gateway with auth on.
    pub gateway_auth: Memory,
    /// The gateway with auth bypassed.
    pub gateway_bypass: Memory,
    /// nginx, when there is one.
    pub nginx: Option<Memory>,
    /// Errors and warnings: wrk errors, failed streams, logged warnings and errors, …
    pub problems: Vec<String>,
    /// What the run was (settings, versions, paths).
    pub notes: Vec<String>,
}

/// Target ratios, as the issue states them.
const P50_MAX_RATIO: f64 = 1.5;
const RPS_MIN_RATIO: f64 = 0.8;
const TTFB_MAX_OVER_FLOOR_US: f64 = 50.0;
const PER_CHUNK_MAX_US: f64 = 5.0;
const RSS_IDLE_MAX_MIB: f64 = 30.0;
const RSS_STREAMS_MAX_MIB: f64 = 100.0;
/// "Back to idle": within this share above the reading before the streams.
const RSS_BACK_TOLERANCE: f64 = 0.10;

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}

#[allow(clippy::cast_precision_loss)] // microsecond counts far below 2^52
fn median(h: &hdrhistogram::Histogram<u64>) -> f64 {
    h.value_at_quantile(0.5) as f64
}

#[allow(clippy::cast_precision_loss)]
fn p99(h: &hdrhistogram::Histogram<u64>) -> f64 {
    h.value_at_quantile(0.99) as f64
}

#[allow(clippy::cast_precision_loss)]
fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn dash() -> String {
    "—".to_owned()
}

/// The baseline's and the floor's rows.
fn reference(r: &Results) -> (Option<&Row>, Option<&Row>) {
    let find = |s: Server| {
        r.rows
            .iter()
            .find(|row| row.server == s && row.skipped.is_none())
    };
    (find(Server::StandIn), find(Server::Nginx))
}

/// `row`'s value minus the baseline's, when both were measured.
fn added(row: &Row, base: Option<&Row>, pick: fn(&Outcome) -> f64) -> Option<f64> {
    Some(pick(row.c1.as_ref()?) - pick(base?.c1.as_ref()?))
}

/// Streaming over the baseline: (first chunk added, per-chunk added = whole stream added /
/// chunks, per-chunk added after the first chunk = (whole − first) added / (chunks − 1)), from
/// medians.
fn stream_added(row: &Row, base: Option<&Row>, chunks: usize) -> Option<(f64, f64, f64)> {
    let (s, b) = (row.stream.as_ref()?, base?.stream.as_ref()?);
    #[allow(clippy::cast_precision_loss)]
    let (n, rest) = (chunks.max(1) as f64, chunks.saturating_sub(1).max(1) as f64);
    let first = median(&s.first) - median(&b.first);
    let total = median(&s.total) - median(&b.total);
    Some((first, total / n, (total - first) / rest))
}

fn rps(o: Option<&Outcome>) -> String {
    o.map_or_else(dash, |o| format!("{:.0}", o.per_second()))
}

fn rps_ratio(
    row: &Row,
    floor: Option<&Row>,
    pick: fn(&Row) -> Option<&Outcome>,
    target: bool,
) -> String {
    let floor = match (row.server, floor) {
        (Server::StandIn, _) => return dash(),
        (Server::Nginx, _) => return "floor".into(),
        (_, None) => return "no floor".into(),
        (_, Some(floor)) => floor,
    };
    match (pick(row), pick(floor)) {
        (Some(o), Some(f)) if f.per_second() > 0.0 => {
            let ratio = o.per_second() / f.per_second();
            if target {
                format!("{ratio:.2} {}", mark(ratio >= RPS_MIN_RATIO))
            } else {
                format!("{ratio:.2}")
            }
        }
        _ => dash(),
    }
}

fn errors(row: &Row) -> String {
    let e = |o: Option<&Outcome>| o.map_or_else(dash, |o| o.errors.total().to_string());
    let all = [&row.c1, &row.c32, &row.c256];
    let total: u64 = all
        .iter()
        .filter_map(|o| o.as_ref())
        .map(|o| o.errors.total())
        .sum();
    let failed = row.stream.as_ref().map_or(0, |s| s.failed);
    let mut text = format!(
        "{} / {} / {}",
        e(row.c1.as_ref()),
        e(row.c32.as_ref()),
        e(row.c256.as_ref())
    );
    if failed > 0 {
        let _ = write!(text, ", {failed} streams failed");
    }
    format!("{text} {}", mark(total == 0 && failed == 0))
}

/// One row of the main table.
fn main_row(r: &Results, row: &Row) -> String {
    let (base, floor) = reference(r);
    let label = if row.note.is_some() {
        format!("{} †", row.label)
    } else {
        row.label.clone()
    };
    if let Some(why) = &row.skipped {
        return format!("| {label} | not measured: {why} |||||||||||\n");
    }
    let p50 = row
        .c1
        .as_ref()
        .map_or_else(dash, |o| format!("{:.0}", o.p50));
    let is_base = row.server == Server::StandIn;
    let (mut add50, mut ratio50, mut tail) = (dash(), dash(), dash());
    let (mut ttfb, mut chunk) = (dash(), dash());
    if !is_base {
        let a = added(row, base, |o| o.p50);
        add50 = a.map_or_else(dash, |v| format!("{v:.0}"));
        let tails = [
            |o: &Outcome| o.p90,
            |o: &Outcome| o.p99,
            |o: &Outcome| o.p999,
        ]
        .map(|f| added(row, base, f).map_or_else(dash, |v| format!("{v:.0}")));
        tail = tails.join(" / ");
        let floor_add = floor.and_then(|f| added(f, base, |o| o.p50));
        ratio50 = match (row.server, a, floor_add) {
            (Server::Nginx, ..) => "floor".into(),
            (_, _, None) if floor.is_none() => "no floor".into(),
            (_, Some(a), Some(f)) if f > 0.0 => {
                format!("{:.2} {}", a / f, mark(a / f <= P50_MAX_RATIO))
            }
            _ => dash(),
        };
        let floor_stream = floor.and_then(|f| stream_added(f, base, r.chunks));
        if let Some((first, per, after)) = stream_added(row, base, r.chunks) {
            ttfb = match (row.server, floor_stream) {
                (Server::Nginx, _) | (_, None) => format!("{first:.0}"),
                (_, Some((f, ..))) => {
                    format!("{first:.0} {}", mark(first <= f + TTFB_MAX_OVER_FLOOR_US))
                }
            };
            chunk = if row.server == Server::Nginx {
                format!("{per:.1} ({after:.1})")
            } else {
                format!("{per:.1} {} ({after:.1})", mark(per <= PER_CHUNK_MAX_US))
            };
        }
    }
    let cpu = row.cpu_us.map_or_else(dash, |c| format!("{c:.1}"));
    format!(
        "| {label} | {p50} | {add50} | {ratio50} | {tail} | {} | {} | {} | {} | {ttfb} | {chunk} | {cpu} | {} |\n",
        rps(row.c32.as_ref()),
        rps_ratio(row, floor, |r| r.c32.as_ref(), true),
        rps(row.c256.as_ref()),
        rps_ratio(row, floor, |r| r.c256.as_ref(), false),
        errors(row),
    )
}

/// The absolute figures of one row.
fn absolute_row(row: &Row) -> String {
    let lat = row.c1.as_ref().map_or_else(dash, |o| {
        format!("{:.0} / {:.0} / {:.0} / {:.0}", o.p50, o.p90, o.p99, o.p999)
    });
    let stream = |f: fn(&StreamTimes) -> &hdrhistogram::Histogram<u64>| {
        row.stream
            .as_ref()
            .map_or_else(dash, |s| format!("{:.0} / {:.0}", median(f(s)), p99(f(s))))
    };
    let failed = row.stream.as_ref().map_or_else(dash, |s| {
        let n = s.first.len();
        format!("{} of {}", s.failed, n + s.failed)
    });
    format!(
        "| {} | {lat} | {} | {} | {} | {} | {failed} |\n",
        row.label,
        rps(row.c32.as_ref()),
        rps(row.c256.as_ref()),
        stream(|s| &s.first),
        stream(|s| &s.total),
    )
}

/// One process's memory row.
fn memory_row(name: &str, m: &Memory, judge: bool) -> String {
    let idle = mib(m.idle_kb);
    let Some(s) = &m.streams else {
        let verdict = if judge {
            format!(
                "idle ≤ {RSS_IDLE_MAX_MIB} {}",
                mark(idle <= RSS_IDLE_MAX_MIB)
            )
        } else {
            String::new()
        };
        return format!("| {name} | {idle:.1} | — | — | — | {verdict} |\n");
    };
    let gauge = s
        .in_flight
        .map_or(String::new(), |g| format!(", gauge {g:.0}"));
    let open = format!(
        "{:.1} ({} of {} open{gauge})",
        mib(s.open_kb),
        s.opened,
        s.wanted
    );
    let back = s.after_kb as f64 <= s.before_kb as f64 * (1.0 + RSS_BACK_TOLERANCE);
    let verdict = if judge {
        format!(
            "idle ≤ {RSS_IDLE_MAX_MIB} {}; open ≤ {RSS_STREAMS_MAX_MIB} {}; back {}",
            mark(idle <= RSS_IDLE_MAX_MIB),
            mark(mib(s.open_kb) <= RSS_STREAMS_MAX_MIB),
            mark(back)
        )
    } else {
        String::new()
    };
    format!(
        "| {name} | {idle:.1} | {:.1} | {open} | {:.1} | {verdict} |\n",
        mib(s.before_kb),
        mib(s.after_kb)
    )
}

/// The report, markdown.
#[must_use]
pub fn markdown(r: &Results) -> String {
    let mut out = String::new();
    out.push_str("| route / variant | c=1 p50 (µs) | added p50 (µs) | × floor's added p50 | added p90 / p99 / p99.9 (µs) | req/s c=32 | × floor | req/s c=256 | × floor | stream first chunk added (µs) | per-chunk added (after the first) (µs) | CPU per request, c=32 (µs) | wrk errors c=1 / c=32 / c=256 |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for row in &r.rows {
        out.push_str(&main_row(r, row));
    }
    let notes: Vec<&str> = r
        .rows
        .iter()
        .filter_map(|row| row.note.as_deref())
        .collect();
    if let Some(note) = notes.first() {
        let _ = writeln!(out, "\n† {note}.");
    }
    let _ = writeln!(
        out,
        "\nTargets (✓ met, ✗ not): added p50 ≤ {P50_MAX_RATIO}× the floor's added p50; req/s at c=32 ≥ {RPS_MIN_RATIO}× the floor's; \
         stream first chunk added ≤ the floor's + {TTFB_MAX_OVER_FLOOR_US} µs; per-chunk added ≤ {PER_CHUNK_MAX_US} µs; \
         RSS ≤ {RSS_IDLE_MAX_MIB} MiB idle and ≤ {RSS_STREAMS_MAX_MIB} MiB with the streams open, and back (≤ +{:.0} % over the reading before the streams) after; no errors. \
         \"Added\" is over direct; per-chunk added = (whole-stream median − direct's) / {} chunks, in parentheses the same for the time after the first chunk, over the other chunks; CPU is user + system of the serving process(es) (nginx: master + workers).",
        RSS_BACK_TOLERANCE * 100.0,
        r.chunks
    );
    out.push_str("\nAbsolute figures:\n\n| route / variant | c=1 p50 / p90 / p99 / p99.9 (µs) | req/s c=32 | req/s c=256 | first chunk p50 / p99 (µs) | whole stream p50 / p99 (µs) | streamed requests failed |\n|---|---|---|---|---|---|---|\n");
    for row in r.rows.iter().filter(|row| row.skipped.is_none()) {
        out.push_str(&absolute_row(row));
    }
    out.push_str("\nRSS (MiB):\n\n| process | idle after start | before the streams | streams open | 5 s after they closed | targets |\n|---|---|---|---|---|---|\n");
    out.push_str(&memory_row("gateway, auth on", &r.gateway_auth, true));
    out.push_str(&memory_row(
        "gateway, auth bypassed",
        &r.gateway_bypass,
        true,
    ));
    if let Some(n) = &r.nginx {
        out.push_str(&memory_row("nginx (master + 2 workers)", n, false));
    }
    out.push_str("\nErrors and warnings:\n\n");
    if r.problems.is_empty() {
        out.push_str("- none (no wrk errors or non-2xx, no failed stream, no warning or error in the gateway logs, nothing in nginx's error log)\n");
    }
    for p in &r.problems {
        let _ = writeln!(out, "- {p}");
    }
    out.push_str("\nRun:\n\n");
    for n in &r.notes {
        let _ = writeln!(out, "- {n}");
    }
    out
}
