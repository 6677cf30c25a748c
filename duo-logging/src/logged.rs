//! [`Logged`]: a [`LanguageModel`] decorator that times calls, counts tokens, records errors,
//! and feeds the request log, the model-call log line, the LLM log and the metrics.

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use duo_core::{Error, EventStream, Generation, LanguageModel, ModelRequest};

use crate::call::{CallShared, CallTracker, LoggedStream};
use crate::handle::RequestLogHandle;
use crate::llm_log::LlmLogger;
use crate::metrics::Metrics;
use crate::names;

/// What a model call is for, as logged and as metric labels.
///
/// Metric labels stay bounded: a feature that is not a known [`duo_core::Feature`] id and a family that is
/// not a known [`duo_core::ModelFamily`] are labelled `other` (logs keep the value as given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallLabels {
    /// The Duo feature id (e.g. `code_completions`).
    pub feature: Cow<'static, str>,
    /// The model family key (e.g. `codestral`).
    pub family: Cow<'static, str>,
}

impl CallLabels {
    /// Labels for `feature` served by a model of `family` (known ids and keys are not copied).
    pub fn new(feature: impl AsRef<str>, family: impl AsRef<str>) -> Self {
        Self {
            feature: names::feature(feature.as_ref()),
            family: names::family(family.as_ref()),
        }
    }
}

/// Wraps a model so every call is timed, counted and logged. Streams are passed through event
/// by event (nothing is buffered) and accounted when they end, fail or are dropped.
pub struct Logged<M> {
    shared: Arc<CallShared<M>>,
}

impl<M: LanguageModel + 'static> Logged<M> {
    /// Decorates `model` for one request (`handle`) or for none.
    pub fn new(
        model: M,
        handle: Option<RequestLogHandle>,
        metrics: Arc<Metrics>,
        labels: CallLabels,
    ) -> Self {
        let series = metrics.model_series(
            model.provider(),
            names::bounded_family(&labels.family),
            names::bounded_feature(&labels.feature),
        );
        let llm = handle.as_ref().and_then(|h| h.llm_logger().cloned());
        Self {
            shared: Arc::new(CallShared {
                model,
                metrics,
                handle,
                llm,
                labels,
                series,
            }),
        }
    }

    /// Logs prompts and answers with `llm` whatever the request says (for calls made outside a
    /// request, or when the LLM log is on globally).
    #[must_use]
    pub fn with_llm_log(mut self, llm: LlmLogger) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.llm = Some(llm);
        }
        self
    }

    /// The decorated model.
    pub fn inner(&self) -> &M {
        &self.shared.model
    }

    fn start(&self, request: &ModelRequest, streaming: bool) -> CallTracker<M> {
        if let Some(llm) = &self.shared.llm {
            llm.log_prompt(&self.shared.llm_context(), &request.prompt);
        }
        CallTracker::start(Arc::clone(&self.shared), streaming)
    }
}

#[async_trait]
impl<M: LanguageModel + 'static> LanguageModel for Logged<M> {
    fn provider(&self) -> &str {
        self.shared.model.provider()
    }

    fn model(&self) -> &str {
        self.shared.model.model()
    }

    fn upstream(&self) -> &str {
        self.shared.model.upstream()
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let mut call = self.start(request, true);
        match self.shared.model.generate_stream(request).await {
            Ok(stream) => Ok(Box::pin(LoggedStream::new(stream, call))),
            Err(e) => {
                call.failed(&e);
                Err(e)
            }
        }
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let mut call = self.start(request, false);
        let result = self.shared.model.generate(request).await;
        match &result {
            Ok(g) => {
                call.collect_answer(&g.text);
                call.finished(&g.finish_reason, g.usage);
            }
            Err(e) => call.failed(e),
        }
        result
    }

    async fn probe(&self) -> Result<(), Error> {
        self.shared.model.probe().await
    }
}
