//! Memory under open streams: `n` concurrent streamed requests to a slow stand-in held open
//! through a proxy, its resident memory read while they are all open, then again a few seconds
//! after the harness closed them all.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::BoxError;
use crate::soak::gateway::GatewayProcess;

/// What is measured, and how its in-flight count is read.
pub enum Subject<'a> {
    /// The gateway: its RSS, and its `model_inferences_in_flight` gauge.
    Gateway(&'a GatewayProcess),
    /// nginx: master and workers' RSS summed; no gauge (the harness's own count is used).
    Nginx(&'a super::nginx::Nginx),
}

impl Subject<'_> {
    fn rss_kb(&self) -> Result<u64, BoxError> {
        match self {
            Self::Gateway(g) => Ok(g.stats()?.rss_kb),
            Self::Nginx(n) => n.rss_kb(),
        }
    }

    async fn in_flight(&self) -> Option<f64> {
        match self {
            Self::Gateway(g) => g.in_flight().await.ok(),
            Self::Nginx(_) => None,
        }
    }
}

/// The memory readings of one subject, in KiB.
#[derive(Debug, Clone, Default)]
pub struct Readings {
    /// Streams asked for.
    pub wanted: usize,
    /// Before the streams were opened.
    pub before_kb: u64,
    /// The highest of a few readings while the streams were open.
    pub open_kb: u64,
    /// After they were all closed and the settle time passed.
    pub after_kb: u64,
    /// Streams whose response headers had arrived when `open_kb` was read.
    pub opened: usize,
    /// The gateway's in-flight gauge then (`None` for nginx).
    pub in_flight: Option<f64>,
    /// Streams that failed before being closed by the harness, and the first reason.
    pub failed: usize,
    /// The first failure.
    pub first_failure: Option<String>,
    /// How long until every stream had its headers (or the wait gave up).
    pub open_took: Duration,
}

/// Sends one streamed request and reads it (counting it in `opened` once its headers arrived)
/// until it ends or the task is aborted; returns why it ended (every end is a failure: the
/// harness closes the streams by aborting their tasks).
async fn hold(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    headers: &HeaderMap,
    opened: &AtomicUsize,
) -> String {
    let response = match client
        .post(url)
        .headers(headers.clone())
        .json(body)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => return format!("status {}", r.status()),
        Err(e) => return format!("request: {e}"),
    };
    opened.fetch_add(1, Ordering::SeqCst);
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        if let Err(e) = piece {
            return format!("body: {e}");
        }
    }
    "the stream ended before the harness closed it".to_owned()
}

/// Opens `n` streams of `body` (with `headers`) to `url` at once, measures `subject` while they
/// are open, closes them all, waits until the gauge says 0 (at most 30 s) and then `settle`,
/// and measures again.
///
/// # Errors
/// When memory cannot be read or the client cannot be built.
pub async fn open_streams(
    subject: &Subject<'_>,
    url: &str,
    body: &Value,
    headers: &HeaderMap,
    n: usize,
    settle: Duration,
) -> Result<Readings, BoxError> {
    let before_kb = subject.rss_kb()?;
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(600))
        .build()?;
    let opened = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new((0usize, None::<String>)));
    let shared = Arc::new((url.to_owned(), body.clone(), headers.clone()));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, shared) = (client.clone(), Arc::clone(&shared));
            let (opened, failures) = (Arc::clone(&opened), Arc::clone(&failures));
            tokio::spawn(async move {
                let (url, body, headers) = &*shared;
                let why = hold(&client, url, body, headers, &opened).await;
                let mut f = failures
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                f.0 += 1;
                f.1.get_or_insert(why);
            })
        })
        .collect();
    let start = Instant::now();
    let open_deadline = start + Duration::from_secs(30);
    loop {
        let all_open = opened.load(Ordering::SeqCst) >= n;
        let gauge_ok = subject
            .in_flight()
            .await
            .is_none_or(|g| g >= 0.99 * n as f64);
        if (all_open && gauge_ok) || Instant::now() > open_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open_took = start.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut open_kb = 0;
    for _ in 0..5 {
        open_kb = open_kb.max(subject.rss_kb()?);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let opened_now = opened.load(Ordering::SeqCst);
    let in_flight = subject.in_flight().await;
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    drop(client);
    let closing = Instant::now();
    while closing.elapsed() < Duration::from_secs(30) {
        match subject.in_flight().await {
            Some(g) if g > 0.0 => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => break,
        }
    }
    tokio::time::sleep(settle).await;
    let after_kb = subject.rss_kb()?;
    let (failed, first_failure) = failures
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Ok(Readings {
        wanted: n,
        before_kb,
        open_kb,
        after_kb,
        opened: opened_now,
        in_flight,
        failed,
        first_failure,
        open_took,
    })
}
