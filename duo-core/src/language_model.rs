//! [`LanguageModel`]: the one async trait every provider implements.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{Error, EventStream, Generation, ModelRequest};

/// A model that answers prompts, once or as a stream.
///
/// Object-safe, `Send + Sync`, used as `Arc<dyn LanguageModel>`. Implementations are bound to one
/// endpoint (URL, model, key) and are cheap to share; decorators (retries, logging) wrap one.
///
/// A successful stream ends with exactly one [`StreamEvent::Finish`](crate::StreamEvent::Finish);
/// a stream that ends without it was cut short and consumers must treat it as an error.
#[async_trait]
pub trait LanguageModel: Send + Sync {
    /// The provider's name for logs and metrics (e.g. `openai_compatible`, `bedrock`).
    fn provider(&self) -> &str;

    /// The model id sent upstream (served name, Bedrock model id, Azure deployment).
    fn model(&self) -> &str;

    /// Where the model lives, for error messages (e.g. `vLLM at http://vllm:8000/v1`).
    fn upstream(&self) -> &str;

    /// Starts a streamed answer. Errors before the first event (connection, status) are returned
    /// here; errors after it arrive as the stream's items.
    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error>;

    /// Answers once. The default collects [`generate_stream`](Self::generate_stream); providers
    /// with a cheaper non-streaming call override it.
    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let stream = self.generate_stream(request).await?;
        Generation::collect(stream, self.upstream()).await
    }

    /// Checks that the model answers, for readiness probes. The default asks for one token;
    /// providers with a cheaper probe (e.g. `GET /v1/models`) override it.
    async fn probe(&self) -> Result<(), Error> {
        let request = ModelRequest::new(crate::Prompt::Text("ping".into())).with_params(
            crate::GenerationParams {
                max_tokens: Some(1),
                ..crate::GenerationParams::default()
            },
        );
        self.generate(&request).await.map(|_| ())
    }
}

#[async_trait]
impl<M: LanguageModel + ?Sized> LanguageModel for Arc<M> {
    fn provider(&self) -> &str {
        (**self).provider()
    }

    fn model(&self) -> &str {
        (**self).model()
    }

    fn upstream(&self) -> &str {
        (**self).upstream()
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        (**self).generate_stream(request).await
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        (**self).generate(request).await
    }

    async fn probe(&self) -> Result<(), Error> {
        (**self).probe().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FinishReason, Prompt, StreamEvent, Usage};
    use futures::stream;
    use std::sync::Mutex;

    /// Replays fixed events and records the prompts it was given.
    struct Scripted {
        events: Vec<Result<StreamEvent, Error>>,
        seen: Mutex<Vec<ModelRequest>>,
    }

    #[async_trait]
    impl LanguageModel for Scripted {
        fn provider(&self) -> &str {
            "scripted"
        }
        fn model(&self) -> &str {
            "m"
        }
        fn upstream(&self) -> &str {
            "scripted model"
        }
        async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
            self.seen.lock().unwrap().push(request.clone());
            Ok(Box::pin(stream::iter(self.events.clone())))
        }
    }

    #[test]
    fn default_generate_collects_the_stream_through_a_trait_object() {
        let model: Arc<dyn LanguageModel> = Arc::new(Scripted {
            events: vec![
                Ok(StreamEvent::Delta("hel".into())),
                Ok(StreamEvent::Delta("lo".into())),
                Ok(StreamEvent::Finish {
                    reason: FinishReason::Stop,
                    usage: Some(Usage {
                        input_tokens: 1,
                        output_tokens: 2,
                    }),
                }),
            ],
            seen: Mutex::new(Vec::new()),
        });
        let g = futures::executor::block_on(
            model.generate(&ModelRequest::new(Prompt::Text("hi".into()))),
        )
        .unwrap();
        assert_eq!(g.text, "hello");
        assert_eq!(model.provider(), "scripted");
        assert_eq!(model.model(), "m");
    }

    #[test]
    fn default_probe_asks_for_one_token_and_fails_on_truncation() {
        let model = Arc::new(Scripted {
            events: vec![Ok(StreamEvent::Delta("x".into()))],
            seen: Mutex::new(Vec::new()),
        });
        let err = futures::executor::block_on(model.probe()).unwrap_err();
        assert_eq!(err.kind(), "broken_stream");
        let seen = model.seen.lock().unwrap();
        assert_eq!(seen[0].params.max_tokens, Some(1));
    }
}
