//! [`CallTracker`]: one model call from start to end, and [`LoggedStream`], the stream wrapper
//! that drives it event by event.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use duo_core::{Error, EventStream, FinishReason, LanguageModel, StreamEvent, Usage};
use futures::Stream;

use crate::handle::RequestLogHandle;
use crate::llm_log::{LlmContext, LlmLogger};
use crate::metrics::{CallRecord, Metrics, ModelSeries};
use crate::names;

/// The target of the model-call lines.
pub const MODEL_TARGET: &str = "duo::model";

/// What every call of one decorated model shares: the model itself, where to report, the
/// family of the endpoint it was built for, and an LLM logger that applies to every call.
pub(crate) struct CallShared<M> {
    pub(crate) model: M,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) family: Cow<'static, str>,
    pub(crate) llm: Option<LlmLogger>,
}

/// What a call is for, as logged and as metric labels.
///
/// Metric labels stay bounded: a feature that is not a known [`duo_core::Feature`] id and a
/// family that is not a known [`duo_core::ModelFamily`] are labelled `other` (logs keep the value
/// as given).
#[derive(Clone, Debug)]
pub(crate) struct CallLabels {
    /// The Duo feature id (e.g. `code_completions`).
    pub(crate) feature: Cow<'static, str>,
    /// The model family key (e.g. `codestral`).
    pub(crate) family: Cow<'static, str>,
}

/// One call's request: its log record (from the request scope), labels and metric series.
pub(crate) struct CallScope {
    pub(crate) handle: Option<RequestLogHandle>,
    pub(crate) llm: Option<LlmLogger>,
    pub(crate) labels: CallLabels,
    pub(crate) series: Arc<ModelSeries>,
}

impl CallScope {
    /// The scope of a call starting now: the request of [`crate::current_request`], the feature
    /// and family it recorded (`other` and the endpoint's family when it recorded none).
    pub(crate) fn current<M: LanguageModel>(shared: &CallShared<M>) -> Self {
        let handle = crate::scope::current_request();
        let (feature, family) = match &handle {
            Some(h) => {
                let record = h.recorded();
                (record.feature.clone(), record.model_family.clone())
            }
            None => (None, None),
        };
        let labels = CallLabels {
            feature: feature.unwrap_or(Cow::Borrowed("other")),
            family: family.unwrap_or_else(|| shared.family.clone()),
        };
        let series = shared.metrics.model_series(
            shared.model.provider(),
            names::bounded_family(&labels.family),
            names::bounded_feature(&labels.feature),
        );
        let llm = shared
            .llm
            .clone()
            .or_else(|| handle.as_ref().and_then(|h| h.llm_logger().cloned()));
        Self {
            handle,
            llm,
            labels,
            series,
        }
    }

    pub(crate) fn llm_context<'a, M: LanguageModel>(
        &'a self,
        shared: &'a CallShared<M>,
    ) -> LlmContext<'a> {
        LlmContext {
            correlation_id: self.handle.as_ref().map(RequestLogHandle::correlation_id),
            feature: &self.labels.feature,
            model_engine: shared.model.provider(),
            model_name: shared.model.model(),
        }
    }
}

/// How a call ended.
enum Outcome<'a> {
    Finished(&'a FinishReason, Option<Usage>),
    Failed(&'a Error),
    /// The stream ended without a `Finish` event.
    Truncated,
    /// The caller dropped the call or the stream before its end.
    Cancelled,
}

/// One model call in progress. Ends exactly once: by [`finished`](Self::finished),
/// [`failed`](Self::failed), or on drop (as cancelled).
pub(crate) struct CallTracker<M: LanguageModel> {
    shared: Arc<CallShared<M>>,
    scope: CallScope,
    started: Instant,
    first_token: Option<Duration>,
    streaming: bool,
    done: bool,
    /// The answer so far, only while the LLM log is on.
    answer: Option<String>,
    answer_complete: bool,
}

impl<M: LanguageModel> CallTracker<M> {
    pub(crate) fn start(shared: Arc<CallShared<M>>, scope: CallScope, streaming: bool) -> Self {
        scope.series.in_flight.inc();
        let answer = scope.llm.as_ref().map(|_| String::new());
        Self {
            shared,
            scope,
            started: Instant::now(),
            first_token: None,
            streaming,
            done: false,
            answer,
            answer_complete: true,
        }
    }

    /// Notes a piece of text: the first one sets the time to first token.
    pub(crate) fn delta(&mut self, text: &str) {
        if self.first_token.is_none() && !text.is_empty() {
            self.first_token = Some(self.started.elapsed());
        }
        self.collect_answer(text);
    }

    /// Keeps the answer for the LLM log (when it is on), up to what the cap needs.
    pub(crate) fn collect_answer(&mut self, text: &str) {
        if let (Some(answer), Some(llm)) = (&mut self.answer, &self.scope.llm) {
            let room = llm.collect_limit_bytes().saturating_sub(answer.len());
            if text.len() <= room {
                answer.push_str(text);
            } else {
                let mut cut = room;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                answer.push_str(&text[..cut]);
                self.answer_complete = false;
            }
        }
    }

    pub(crate) fn finished(&mut self, reason: &FinishReason, usage: Option<Usage>) {
        self.end(&Outcome::Finished(reason, usage));
    }

    pub(crate) fn failed(&mut self, error: &Error) {
        self.end(&Outcome::Failed(error));
    }

    fn truncated(&mut self) {
        self.end(&Outcome::Truncated);
    }

    fn end(&mut self, outcome: &Outcome<'_>) {
        if self.done {
            return;
        }
        self.done = true;
        let s = &*self.shared;
        let scope = &self.scope;
        scope.series.in_flight.dec();
        let duration = self.started.elapsed();
        let (reason, usage, error_type, error) = match outcome {
            Outcome::Finished(reason, usage) => (Some(reason.as_str()), *usage, None, None),
            Outcome::Failed(e) => (None, None, Some(e.kind()), Some(*e)),
            Outcome::Truncated => (None, None, Some("broken_stream"), None),
            Outcome::Cancelled => (None, None, None, None),
        };
        let tokens = usage.map(|u| (u.input_tokens, u.output_tokens));
        s.metrics.record_call(
            &scope.series,
            &CallRecord {
                streaming: self.streaming,
                duration,
                first_token: self.first_token,
                tokens,
                error_type,
            },
        );
        // Redacted with the request's rules; without a request only the kind is logged.
        let error_message = match (error, &scope.handle) {
            (Some(e), Some(h)) => {
                let message = h.redact(&e.to_string());
                h.set_redacted_error(e.kind().into(), message.clone());
                Some(message)
            }
            (None, Some(h)) if matches!(outcome, Outcome::Truncated) => {
                h.set_error(
                    "broken_stream",
                    "the stream ended before the model finished",
                );
                None
            }
            _ => None,
        };
        if let Some(h) = &scope.handle {
            h.add_model_call(s.model.provider(), duration, tokens);
        }
        let cancelled = matches!(outcome, Outcome::Cancelled);
        macro_rules! model_line {
            ($level:expr) => {
                tracing::event!(
                    target: MODEL_TARGET,
                    parent: None,
                    $level,
                    correlation_id = scope.handle.as_ref().map(RequestLogHandle::correlation_id),
                    duration_s = duration.as_secs_f64(),
                    first_token_duration_s = self.first_token.map(|d| d.as_secs_f64()),
                    model_engine = s.model.provider(),
                    model_name = s.model.model(),
                    model_family = &*scope.labels.family,
                    feature = &*scope.labels.feature,
                    streaming = self.streaming,
                    error = error_type.is_some(),
                    error_type,
                    error_message = error_message.as_deref(),
                    finish_reason = reason,
                    input_tokens = tokens.map(|t| t.0),
                    output_tokens = tokens.map(|t| t.1),
                    total_tokens = usage.map(|u| u.total_tokens()),
                    stream_cancelled = cancelled,
                    "Request to LLM complete"
                )
            };
        }
        if error_type.is_some() {
            model_line!(tracing::Level::WARN);
        } else {
            model_line!(tracing::Level::INFO);
        }
        if let (Some(llm), Some(answer)) = (&scope.llm, self.answer.take()) {
            let complete = self.answer_complete && !cancelled && error_type.is_none();
            llm.log_answer(&scope.llm_context(s), &answer, complete, reason);
        }
    }
}

impl<M: LanguageModel> Drop for CallTracker<M> {
    fn drop(&mut self) {
        if !self.done {
            self.end(&Outcome::Cancelled);
        }
    }
}

/// A model stream that reports to a [`CallTracker`] as its events pass through.
pub(crate) struct LoggedStream<M: LanguageModel> {
    inner: EventStream,
    call: CallTracker<M>,
}

impl<M: LanguageModel> LoggedStream<M> {
    pub(crate) fn new(inner: EventStream, call: CallTracker<M>) -> Self {
        Self { inner, call }
    }
}

impl<M: LanguageModel> Stream for LoggedStream<M> {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let polled = this.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(StreamEvent::Delta(text)))) => this.call.delta(text),
            Poll::Ready(Some(Ok(StreamEvent::Finish { reason, usage }))) => {
                this.call.finished(reason, *usage);
            }
            Poll::Ready(Some(Err(e))) => this.call.failed(e),
            Poll::Ready(None) => this.call.truncated(),
            Poll::Ready(Some(Ok(_))) | Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
