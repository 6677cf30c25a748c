//! [`Logged`]: a [`LanguageModel`] decorator that times calls, counts tokens, records errors,
//! and feeds the request log, the model-call log line, the LLM log and the metrics.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use duo_core::{Error, EventStream, Feature, Generation, LanguageModel, ModelFamily, ModelRequest};

use crate::call::{CallShared, CallTracker, LoggedStream};
use crate::handle::RequestLogHandle;
use crate::llm_log::{LlmContext, LlmLogger};
use crate::metrics::{Label, Metrics, ModelLabels};

/// What a model call is for, as logged and as metric labels.
///
/// Metric labels stay bounded: a feature that is not a known [`Feature`] id and a family that is
/// not a known [`ModelFamily`] are labelled `other` (logs keep the value as given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallLabels {
    /// The Duo feature id (e.g. `code_completions`).
    pub feature: String,
    /// The model family key (e.g. `codestral`).
    pub family: String,
}

impl CallLabels {
    /// Labels for `feature` served by a model of `family`.
    pub fn new(feature: impl Into<String>, family: impl Into<String>) -> Self {
        Self {
            feature: feature.into(),
            family: family.into(),
        }
    }
}

/// Wraps a model so every call is timed, counted and logged. Streams are passed through event
/// by event (nothing is buffered) and accounted when they end, fail or are dropped.
pub struct Logged<M> {
    inner: M,
    shared: Arc<CallShared>,
}

impl<M: LanguageModel> Logged<M> {
    /// Decorates `model` for one request (`handle`) or for none.
    pub fn new(
        model: M,
        handle: Option<RequestLogHandle>,
        metrics: Arc<Metrics>,
        labels: CallLabels,
    ) -> Self {
        let metric_labels = ModelLabels {
            model_engine: Label::from(model.provider()),
            model_family: Label::from(bounded_family(&labels.family).as_str()),
            feature: Label::from(bounded_feature(&labels.feature)),
        };
        let in_flight = metrics.in_flight(&metric_labels);
        let llm = handle.as_ref().and_then(|h| h.llm_logger().cloned());
        let shared = CallShared {
            provider: model.provider().to_owned(),
            model: model.model().to_owned(),
            metrics,
            handle,
            llm,
            labels,
            metric_labels,
            in_flight,
        };
        Self {
            inner: model,
            shared: Arc::new(shared),
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
        &self.inner
    }

    fn start(&self, request: &ModelRequest, streaming: bool) -> CallTracker {
        if let Some(llm) = &self.shared.llm {
            llm.log_prompt(&self.llm_context(), &request.prompt);
        }
        CallTracker::start(Arc::clone(&self.shared), streaming)
    }

    fn llm_context(&self) -> LlmContext<'_> {
        self.shared.llm_context()
    }
}

#[async_trait]
impl<M: LanguageModel> LanguageModel for Logged<M> {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    fn upstream(&self) -> &str {
        self.inner.upstream()
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let mut call = self.start(request, true);
        match self.inner.generate_stream(request).await {
            Ok(stream) => Ok(Box::pin(LoggedStream::new(stream, call))),
            Err(e) => {
                call.failed(&e);
                Err(e)
            }
        }
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let mut call = self.start(request, false);
        let result = self.inner.generate(request).await;
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
        self.inner.probe().await
    }
}

fn bounded_family(family: &str) -> String {
    let parsed = ModelFamily::parse(family);
    if parsed.is_known() {
        parsed.key().to_owned()
    } else {
        "other".to_owned()
    }
}

fn bounded_feature(feature: &str) -> &str {
    if Feature::from_str(feature).is_ok() {
        feature
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(bounded_family("Codestral"), "codestral");
        assert_eq!(bounded_family("my-own-model-9000"), "other");
        assert_eq!(bounded_feature("code_completions"), "code_completions");
        assert_eq!(bounded_feature("anything at all"), "other");
    }
}
