//! [`Logged`]: a [`LanguageModel`] decorator that times calls, counts tokens, records errors,
//! and feeds the request log, the model-call log line, the LLM log and the metrics.

use std::sync::Arc;

use async_trait::async_trait;
use duo_core::{Error, EventStream, Generation, LanguageModel, ModelRequest};

use crate::call::{CallScope, CallShared, CallTracker, LoggedStream};
use crate::llm_log::LlmLogger;
use crate::metrics::Metrics;
use crate::names;

/// Wraps a model so every call is timed, counted and logged. Streams are passed through event
/// by event (nothing is buffered) and accounted when they end, fail or are dropped.
///
/// Decorate a client once, when it is built (e.g. as the provider registry's decorator): each
/// call takes its request from the request scope ([`crate::current_request`], set by
/// [`RequestLogLayer`](crate::RequestLogLayer) or [`crate::in_request`]) when it starts, and its
/// labels from what the request recorded (`set_feature`, `set_model_family`). A call outside any
/// request is measured with feature `other` and the family given here.
pub struct Logged<M> {
    shared: Arc<CallShared<M>>,
}

impl<M: LanguageModel + 'static> Logged<M> {
    /// Decorates `model`, a client for endpoints of model family `family`.
    pub fn new(model: M, metrics: Arc<Metrics>, family: impl AsRef<str>) -> Self {
        Self {
            shared: Arc::new(CallShared {
                model,
                metrics,
                family: names::family(family.as_ref()),
                llm: None,
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
        let scope = CallScope::current(&self.shared);
        if let Some(llm) = &scope.llm {
            llm.log_prompt(&scope.llm_context(&self.shared), &request.prompt);
        }
        CallTracker::start(Arc::clone(&self.shared), scope, streaming)
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
