//! The streaming probe: `n` streamed requests one after the other on one kept-alive connection,
//! timing for each the first chunk (until the body holds the answer's first piece) and the
//! whole stream (until the body ends; it must hold the last piece, and `data: [DONE]` when the
//! route speaks OpenAI SSE).

use std::time::{Duration, Instant};

use futures::StreamExt;
use hdrhistogram::Histogram;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::BoxError;

/// One streamed request and what its body must hold.
#[derive(Debug, Clone)]
pub struct StreamTarget {
    /// The URL.
    pub url: String,
    /// The JSON body (with `"stream": true`).
    pub body: Value,
    /// Its headers.
    pub headers: HeaderMap,
    /// The text that marks the first content chunk.
    pub first: String,
    /// The text the whole body must hold.
    pub last: String,
    /// Whether the body must end with `data: [DONE]` (OpenAI SSE).
    pub sse_done: bool,
}

/// The probe's timings, in µs, and its failures.
#[derive(Debug, Clone)]
pub struct StreamTimes {
    /// Time to the first content chunk.
    pub first: Histogram<u64>,
    /// Time to the end of the stream.
    pub total: Histogram<u64>,
    /// Requests that failed (not counted in the histograms).
    pub failed: u64,
    /// The first failure.
    pub first_failure: Option<String>,
}

/// Requests sent before measuring (connection set up, pools and caches warm).
const WARM_UP: u64 = 20;

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Whether `haystack` holds `needle`.
fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// One request: (time to first chunk, time to end).
async fn once(client: &reqwest::Client, t: &StreamTarget) -> Result<(Duration, Duration), String> {
    let start = Instant::now();
    let response = client
        .post(&t.url)
        .headers(t.headers.clone())
        .json(&t.body)
        .send()
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(format!(
            "status {status}: {}",
            text.chars().take(300).collect::<String>()
        ));
    }
    let mut body = response.bytes_stream();
    let mut seen: Vec<u8> = Vec::with_capacity(8 * 1024);
    let mut first = None;
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| format!("body: {e}"))?;
        // Search only what is new, plus a marker's length before it.
        let from = seen.len().saturating_sub(t.first.len());
        seen.extend_from_slice(&piece);
        if first.is_none() && holds(&seen[from..], t.first.as_bytes()) {
            first = Some(start.elapsed());
        }
    }
    let total = start.elapsed();
    let first = first.ok_or_else(|| format!("no {:?} in the body", t.first))?;
    if !holds(&seen, t.last.as_bytes()) {
        return Err(format!("no {:?} in the body", t.last));
    }
    if t.sse_done && !seen.trim_ascii_end().ends_with(b"data: [DONE]") {
        return Err("the body does not end with data: [DONE]".into());
    }
    Ok((first, total))
}

/// Sends 20 unmeasured requests (`WARM_UP`), then `n`, of `target` one after the other on one
/// connection.
///
/// # Errors
/// When the client or a histogram cannot be built, or every warm-up request failed (the
/// target is not serving: the first failure is the error).
pub async fn probe(target: &StreamTarget, n: u64) -> Result<StreamTimes, BoxError> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut warm_failures = Vec::new();
    for _ in 0..WARM_UP {
        if let Err(e) = once(&client, target).await {
            warm_failures.push(e);
        }
    }
    if u64::try_from(warm_failures.len()).unwrap_or(u64::MAX) == WARM_UP {
        let first = warm_failures.swap_remove(0);
        return Err(format!("streaming {}: {first}", target.url).into());
    }
    let mut times = StreamTimes {
        first: Histogram::new_with_bounds(1, 60_000_000, 3)?,
        total: Histogram::new_with_bounds(1, 60_000_000, 3)?,
        failed: 0,
        first_failure: None,
    };
    for _ in 0..n {
        match once(&client, target).await {
            Ok((first, total)) => {
                times.first.saturating_record(micros(first));
                times.total.saturating_record(micros(total));
            }
            Err(e) => {
                times.failed += 1;
                times.first_failure.get_or_insert(e);
            }
        }
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    #[test]
    fn holds_finds_a_marker_anywhere() {
        assert!(super::holds(b"data: p000 x", b"p000"));
        assert!(!super::holds(b"data: p00", b"p000"));
        assert!(!super::holds(b"abc", b""));
    }
}
