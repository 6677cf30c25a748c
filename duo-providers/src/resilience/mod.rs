//! [`Resilient`]: time limits and retries around any [`LanguageModel`], configured by
//! [`ResilienceConfig`].
//!
//! Retries use `backon`'s exponential backoff with jitter. The retried operation is "start the
//! stream and wait for its first event", so a retry can only happen before anything was handed
//! on: once the first event is out, errors go to the consumer as stream items.

mod timed;

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use duo_core::{
    Error, EventStream, Generation, LanguageModel, ModelRequest, StreamEvent, TimeoutPhase,
    async_trait,
};
use futures::{Future, StreamExt};
use serde::Deserialize;
use tokio::time::Instant;

use timed::Timed;

/// Time limits and retry policy. A zero duration turns that limit off.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `connect_timeout` | 5 s | establishing a connection (set on the HTTP client) |
/// | `first_byte_timeout` | 30 s | from the start of an attempt to the stream's first event |
/// | `idle_timeout` | 30 s | between two events of a stream |
/// | `total_timeout` | 120 s | the whole call, retries and backoff included; a request's `params.timeout` lowers it |
/// | `max_retries` | 2 | retries after the first attempt, for retryable errors before the first event |
/// | `base_backoff` | 200 ms | the first backoff; doubled each retry, plus up to 100 % jitter |
/// | `max_backoff` | 5 s | the largest backoff |
/// | `max_retry_after` | 10 s | the longest `Retry-After` waited for; a longer one is returned at once |
///
/// Durations deserialize from humantime strings (`"30s"`, `"200ms"`) or numbers of seconds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResilienceConfig {
    /// Establishing a connection (applied by the HTTP client the registry builds).
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub connect_timeout: Duration,
    /// From the start of a streamed attempt to its first event.
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub first_byte_timeout: Duration,
    /// Between two events of a stream.
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub idle_timeout: Duration,
    /// The whole call, including retries.
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub total_timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff.
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub base_backoff: Duration,
    /// The largest backoff.
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub max_backoff: Duration,
    /// The longest upstream `Retry-After` that is waited for before retrying.
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub max_retry_after: Duration,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(120),
            max_retries: 2,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

/// `Some(d)` unless `d` is zero (a turned-off limit).
fn limit(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

impl ResilienceConfig {
    /// The total limit of one call: the configured one, lowered by the request's `params.timeout`.
    #[must_use]
    pub fn total_for(&self, request: &ModelRequest) -> Option<Duration> {
        match (
            limit(self.total_timeout),
            request.params.timeout.and_then(limit),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.base_backoff)
            .with_max_delay(self.max_backoff.max(self.base_backoff))
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(usize::try_from(self.max_retries).unwrap_or(usize::MAX))
    }
}

/// Wraps a model with the time limits and retries of a [`ResilienceConfig`].
///
/// - `generate_stream`: each attempt must produce its first event within `first_byte_timeout`;
///   attempts that fail with a retryable error ([`Error::is_retryable`]) are retried after an
///   exponential backoff with jitter, or after the upstream's `Retry-After` when that is longer
///   (up to `max_retry_after`; a longer wait, or one past the deadline, returns the error). After
///   the first event there are no retries: the stream ends with [`Error::Timeout`] (`Idle`) when
///   no event arrives for `idle_timeout`, or (`Total`) when the call's deadline passes.
/// - `generate`: the same retries, the whole call limited by the total limit only (a
///   non-streamed answer's first byte comes when the whole answer is ready, so the first-byte
///   limit would cut long answers).
/// - `probe`: one attempt limited by `first_byte_timeout`.
#[derive(Debug, Clone)]
pub struct Resilient<M> {
    inner: M,
    config: ResilienceConfig,
    upstream: Arc<str>,
}

impl<M: LanguageModel> Resilient<M> {
    /// Wraps `inner`.
    pub fn new(inner: M, config: ResilienceConfig) -> Self {
        let upstream = inner.upstream().into();
        Self {
            inner,
            config,
            upstream,
        }
    }

    /// The wrapped model.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The policy in force.
    pub fn config(&self) -> &ResilienceConfig {
        &self.config
    }

    fn timeout_error(&self, phase: TimeoutPhase, after: Duration) -> Error {
        Error::Timeout {
            upstream: self.upstream.to_string(),
            phase,
            after,
        }
    }

    /// Runs `attempt` with the first-byte limit.
    async fn first_byte<T>(
        &self,
        attempt: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match limit(self.config.first_byte_timeout) {
            Some(d) => tokio::time::timeout(d, attempt)
                .await
                .unwrap_or_else(|_| Err(self.timeout_error(TimeoutPhase::FirstByte, d))),
            None => attempt.await,
        }
    }

    /// One streamed attempt: the stream and its first event.
    async fn open(&self, request: &ModelRequest) -> Result<(StreamEvent, EventStream), Error> {
        self.first_byte(async {
            let mut stream = self.inner.generate_stream(request).await?;
            match stream.next().await {
                Some(Ok(event)) => Ok((event, stream)),
                Some(Err(e)) => Err(e),
                None => Err(Error::BrokenStream {
                    upstream: self.upstream.to_string(),
                    message: "the stream ended before its first event".into(),
                }),
            }
        })
        .await
    }

    /// How long to wait before the next attempt, or `None` to give up with `err`.
    fn next_wait(
        &self,
        err: &Error,
        backoff: Option<Duration>,
        deadline: Option<Instant>,
    ) -> Option<Duration> {
        let mut wait = backoff?;
        if let Some(asked) = err.retry_after() {
            if asked > self.config.max_retry_after {
                return None;
            }
            wait = wait.max(asked);
        }
        if deadline.is_some_and(|d| Instant::now().checked_add(wait).is_none_or(|at| at >= d)) {
            return None;
        }
        Some(wait)
    }

    /// Runs `attempt` with retries, all within `deadline`.
    async fn with_retries<T, F, Fut>(&self, attempt: F, total: Option<Duration>) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        // `checked_add`: a `ResilienceConfig` built in code may hold any duration; one too
        // large for a deadline means none
        let deadline = total.and_then(|t| Instant::now().checked_add(t));
        let retrying = attempt
            .retry(self.config.backoff().build())
            .sleep(tokio::time::sleep)
            .when(Error::is_retryable)
            .adjust(|err, backoff| self.next_wait(err, backoff, deadline))
            .notify(|err, wait| {
                tracing::debug!(upstream = %self.upstream, error = %err, ?wait, "retrying the model call");
            });
        match (deadline, total) {
            (Some(deadline), Some(total)) => tokio::time::timeout_at(deadline, retrying)
                .await
                .unwrap_or_else(|_| Err(self.timeout_error(TimeoutPhase::Total, total))),
            _ => retrying.await,
        }
    }
}

#[async_trait]
impl<M: LanguageModel> LanguageModel for Resilient<M> {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    fn upstream(&self) -> &str {
        &self.upstream
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let total = self.config.total_for(request);
        let started = Instant::now();
        let (first, rest) = self.with_retries(|| self.open(request), total).await?;
        Ok(Box::pin(Timed::new(
            first,
            rest,
            limit(self.config.idle_timeout),
            total.and_then(|t| started.checked_add(t).map(|at| (t, at))),
            Arc::clone(&self.upstream),
        )))
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let total = self.config.total_for(request);
        self.with_retries(|| self.inner.generate(request), total)
            .await
    }

    async fn probe(&self) -> Result<(), Error> {
        self.first_byte(self.inner.probe()).await
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
