//! The load generator: v4 code-suggestion requests (`POST /v4/code/suggestions`), streamed ones
//! read event by event and checked to end with `stream_end`, or dropped mid-stream on purpose.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::BoxError;

/// The route every soak request goes to.
pub const ROUTE: &str = "/v4/code/suggestions";

/// A code completion for a self-hosted model `model` at `endpoint`, streamed or not.
#[must_use]
pub fn completion_body(endpoint: &str, model: &str, stream: bool) -> Value {
    json!({
        "prompt_components": [{"type": "code_editor_completion",
            "payload": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ",
                        "content_below_cursor": "\n", "language_identifier": "python",
                        "stream": stream}}],
        "model_metadata": {"provider": "openai", "name": "codestral", "endpoint": endpoint,
                           "api_key": "soak-key", "identifier": format!("custom_openai/{model}")}
    })
}

/// How one streamed request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// Read to the end: `stream_start`, content chunks, `stream_end`, the expected text.
    Completed,
    /// Dropped by us after the planned number of content chunks.
    Aborted,
    /// Anything else, described.
    Failed(String),
}

/// Splits the v4 SSE body (`event: NAME\r\ndata: JSON\r\n\r\n`) into events as bytes arrive.
#[derive(Debug, Default)]
struct SseReader {
    buffer: Vec<u8>,
    events: usize,
    content_events: usize,
    text: String,
    ended: bool,
}

impl SseReader {
    /// Takes `bytes`; returns an error for a malformed event or one after `stream_end`.
    fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.buffer.extend_from_slice(bytes);
        while let Some(at) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let frame: Vec<u8> = self.buffer.drain(..at + 4).collect();
            let frame = std::str::from_utf8(&frame[..at]).map_err(|e| e.to_string())?;
            self.event(frame)?;
        }
        Ok(())
    }

    fn event(&mut self, frame: &str) -> Result<(), String> {
        let bad = || format!("malformed event {frame:?}");
        let (name, data) = frame.split_once("\r\n").ok_or_else(bad)?;
        let name = name.strip_prefix("event: ").ok_or_else(bad)?;
        let data = data.strip_prefix("data: ").ok_or_else(bad)?;
        if self.ended {
            return Err(format!("event {name} after stream_end"));
        }
        match (self.events, name) {
            (0, "stream_start") => {}
            (0, _) => return Err(format!("first event {name}, not stream_start")),
            (_, "content_chunk") => {
                let value: Value = serde_json::from_str(data).map_err(|e| e.to_string())?;
                let text = value
                    .pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .ok_or_else(bad)?;
                self.text.push_str(text);
                self.content_events += 1;
            }
            (_, "stream_end") if data == "null" => self.ended = true,
            _ => return Err(format!("unexpected event {name}")),
        }
        self.events += 1;
        Ok(())
    }
}

/// Sends one streamed request and reads it: to the end, checking it finished properly with
/// `expect` as its text, or, with `abort_after: Some(k)`, until `k` content chunks arrived, then
/// drops the connection.
pub async fn stream_once(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    abort_after: Option<usize>,
    expect: &str,
) -> StreamEnd {
    let response = match client.post(url).json(body).send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => return StreamEnd::Failed(format!("status {}", r.status())),
        Err(e) => return StreamEnd::Failed(format!("request: {e}")),
    };
    let mut reader = SseReader::default();
    let mut body = response.bytes_stream();
    loop {
        if abort_after.is_some_and(|k| reader.events > 0 && reader.content_events >= k) {
            return StreamEnd::Aborted;
        }
        match body.next().await {
            Some(Ok(bytes)) => {
                if let Err(e) = reader.feed(&bytes) {
                    return StreamEnd::Failed(e);
                }
            }
            Some(Err(e)) => return StreamEnd::Failed(format!("body: {e}")),
            None => break,
        }
    }
    if !reader.buffer.is_empty() || !reader.ended {
        return StreamEnd::Failed(format!(
            "ended without stream_end after {} content chunks",
            reader.content_events
        ));
    }
    if abort_after.is_some() {
        return StreamEnd::Failed("ended before the planned disconnect".into());
    }
    if reader.text != expect {
        return StreamEnd::Failed(format!("text {:?}, expected {expect:?}", reader.text));
    }
    StreamEnd::Completed
}

/// Sends one non-streamed request; returns the suggestion's text.
///
/// # Errors
/// A failed request, a status other than 200, or a body without `choices[0].text`.
pub async fn json_once(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> Result<String, BoxError> {
    let response = client.post(url).json(body).send().await?;
    let status = response.status();
    let value: Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("status {status}: {value}").into());
    }
    value
        .pointer("/choices/0/text")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no choices[0].text in {value}").into())
}

/// Counts of a phase's streams, with the first few failures.
#[derive(Debug, Default, Clone)]
pub struct StreamCounts {
    /// Read to the end and checked.
    pub completed: usize,
    /// Dropped on purpose.
    pub aborted: usize,
    /// Failed.
    pub failed: usize,
    /// The first few failures.
    pub failures: Vec<String>,
}

impl StreamCounts {
    fn add(&mut self, end: StreamEnd) {
        match end {
            StreamEnd::Completed => self.completed += 1,
            StreamEnd::Aborted => self.aborted += 1,
            StreamEnd::Failed(why) => {
                self.failed += 1;
                if self.failures.len() < 5 {
                    self.failures.push(why);
                }
            }
        }
    }
}

/// Runs one stream per entry of `plans` at once (each `Some(k)` drops after `k` content
/// chunks), every one bounded by `limit`.
pub async fn concurrent(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    plans: &[Option<usize>],
    expect: &str,
    limit: Duration,
) -> StreamCounts {
    let shared = Arc::new((url.to_owned(), body.clone(), expect.to_owned()));
    let tasks: Vec<_> = plans
        .iter()
        .map(|&plan| {
            let (client, shared) = (client.clone(), Arc::clone(&shared));
            tokio::spawn(async move {
                let (url, body, expect) = &*shared;
                let run = stream_once(&client, url, body, plan, expect);
                tokio::time::timeout(limit, run)
                    .await
                    .unwrap_or_else(|_| StreamEnd::Failed(format!("not done within {limit:?}")))
            })
        })
        .collect();
    let mut counts = StreamCounts::default();
    for task in tasks {
        counts.add(
            task.await
                .unwrap_or_else(|e| StreamEnd::Failed(format!("task: {e}"))),
        );
    }
    counts
}

/// The sequential phase's outcome: latency of each kind of request, in microseconds.
#[derive(Debug)]
pub struct Sequential {
    /// Non-streamed requests.
    pub json: Histogram<u64>,
    /// Streamed requests (read to `stream_end`).
    pub stream: Histogram<u64>,
    /// Failures of either kind.
    pub counts: StreamCounts,
    /// How long the phase took.
    pub wall: Duration,
}

/// What the sequential phase sends and expects.
#[derive(Debug, Clone)]
pub struct SequentialPlan<'a> {
    /// The route's URL.
    pub url: &'a str,
    /// A non-streamed request.
    pub json_body: &'a Value,
    /// Its expected text.
    pub json_expect: &'a str,
    /// A streamed request (to a fast model).
    pub stream_body: &'a Value,
    /// Its expected text.
    pub stream_expect: &'a str,
}

/// Sends `n` requests one after the other on one kept-alive connection, alternating a
/// non-streamed request and a streamed one.
///
/// # Errors
/// Only when a histogram cannot be made.
pub async fn sequential(
    client: &reqwest::Client,
    plan: &SequentialPlan<'_>,
    n: u64,
) -> Result<Sequential, BoxError> {
    let mut json = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut stream = json.clone();
    let mut counts = StreamCounts::default();
    let phase = Instant::now();
    for i in 0..n {
        let start = Instant::now();
        let (end, histogram) = if i % 2 == 0 {
            let end = match json_once(client, plan.url, plan.json_body).await {
                Ok(text) if text == plan.json_expect => StreamEnd::Completed,
                Ok(text) => StreamEnd::Failed(format!("json text {text:?}")),
                Err(e) => StreamEnd::Failed(e.to_string()),
            };
            (end, &mut json)
        } else {
            let end = stream_once(client, plan.url, plan.stream_body, None, plan.stream_expect);
            (end.await, &mut stream)
        };
        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        histogram.saturating_record(micros);
        counts.add(end);
    }
    Ok(Sequential {
        json,
        stream,
        counts,
        wall: phase.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::SseReader;

    #[test]
    fn the_reader_checks_framing_and_order() {
        let mut r = SseReader::default();
        let body = "event: stream_start\r\ndata: {\"metadata\":{}}\r\n\r\n\
            event: content_chunk\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"ab\"},\"index\":0}]}\r\n\r\n\
            event: stream_end\r\ndata: null\r\n\r\n";
        for piece in body.as_bytes().chunks(7) {
            assert_eq!(r.feed(piece), Ok(()));
        }
        assert!(r.ended && r.buffer.is_empty());
        assert_eq!((r.text.as_str(), r.content_events), ("ab", 1));
        assert!(r.feed(b"event: content_chunk\r\ndata: {}\r\n\r\n").is_err());
        let mut r = SseReader::default();
        assert!(r.feed(b"event: content_chunk\r\ndata: {}\r\n\r\n").is_err());
    }
}
