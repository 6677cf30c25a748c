//! [`WholeAnswer`]: a model asked for whole answers only, its answer handed on as a stream of
//! one piece (GitLab's `custom_models.disable_streaming`, for model servers or proxies in front
//! of them that cannot stream).

use async_trait::async_trait;
use futures::stream;

use crate::{
    Error, EventStream, Generation, LanguageModel, ModelRequest, StreamEvent, ToolCallDelta,
};

/// A model whose streamed calls are made as whole calls: [`generate_stream`] asks the inner
/// model's [`generate`] and yields the text as one [`StreamEvent::Delta`] (none when empty),
/// each tool call as one whole [`StreamEvent::ToolCall`], then the [`StreamEvent::Finish`] with its reason and usage. Errors come before the stream, as
/// a whole call's do.
///
/// [`generate_stream`]: LanguageModel::generate_stream
/// [`generate`]: LanguageModel::generate
#[derive(Debug, Clone)]
pub struct WholeAnswer<M>(pub M);

#[async_trait]
impl<M: LanguageModel> LanguageModel for WholeAnswer<M> {
    fn provider(&self) -> &str {
        self.0.provider()
    }

    fn model(&self) -> &str {
        self.0.model()
    }

    fn upstream(&self) -> &str {
        self.0.upstream()
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let Generation {
            text,
            tool_calls,
            finish_reason,
            usage,
        } = self.0.generate(request).await?;
        let delta = (!text.is_empty()).then_some(Ok(StreamEvent::Delta(text)));
        let calls = tool_calls
            .into_iter()
            .zip(0..)
            .map(|(call, index)| Ok(StreamEvent::ToolCall(ToolCallDelta::whole(index, call))));
        let finish = Ok(StreamEvent::Finish {
            reason: finish_reason,
            usage,
        });
        Ok(Box::pin(stream::iter(
            delta.into_iter().chain(calls).chain([finish]),
        )))
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        self.0.generate(request).await
    }

    async fn probe(&self) -> Result<(), Error> {
        self.0.probe().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::StreamExt;

    use super::*;
    use crate::{FinishReason, Prompt, ToolCall, Usage};

    /// Answers whole calls with `answer`; counts streamed calls (there must be none).
    struct WholeOnly {
        answer: Result<Generation, Error>,
        streamed: Mutex<usize>,
    }

    #[async_trait]
    impl LanguageModel for WholeOnly {
        fn provider(&self) -> &str {
            "whole"
        }
        fn model(&self) -> &str {
            "m"
        }
        fn upstream(&self) -> &str {
            "a whole-only model"
        }
        async fn generate_stream(&self, _: &ModelRequest) -> Result<EventStream, Error> {
            *self.streamed.lock().unwrap() += 1;
            Err(Error::InvalidRequest("streamed".into()))
        }
        async fn generate(&self, _: &ModelRequest) -> Result<Generation, Error> {
            self.answer.clone()
        }
    }

    fn ask(answer: Result<Generation, Error>) -> (Result<Vec<StreamEvent>, Error>, usize) {
        let model = WholeAnswer(WholeOnly {
            answer,
            streamed: Mutex::new(0),
        });
        let request = ModelRequest::new(Prompt::Text("def add(a, b):".into()));
        let events = futures::executor::block_on(async {
            let stream = model.generate_stream(&request).await?;
            Ok(stream.map(|e| e.unwrap()).collect::<Vec<_>>().await)
        });
        let streamed = *model.0.streamed.lock().unwrap();
        (events, streamed)
    }

    #[test]
    fn a_streamed_call_is_one_whole_call_yielded_as_one_delta_and_the_finish() {
        let usage = Some(Usage {
            input_tokens: 7,
            output_tokens: 3,
        });
        let (events, streamed) = ask(Ok(Generation {
            text: "return a + b".into(),
            finish_reason: FinishReason::Length,
            usage,
            ..Generation::default()
        }));
        assert_eq!(streamed, 0);
        assert_eq!(
            events.unwrap(),
            [
                StreamEvent::Delta("return a + b".into()),
                StreamEvent::Finish {
                    reason: FinishReason::Length,
                    usage
                }
            ]
        );
    }

    #[test]
    fn tool_calls_are_yielded_whole_after_the_text() {
        let calls = vec![
            ToolCall::new("c1", "read_file", "{\"path\":\"a.rs\"}"),
            ToolCall::new("c2", "list_dir", "{}"),
        ];
        let (events, _) = ask(Ok(Generation {
            tool_calls: calls.clone(),
            finish_reason: FinishReason::ToolCalls,
            ..Generation::default()
        }));
        assert_eq!(
            events.unwrap(),
            [
                StreamEvent::ToolCall(ToolCallDelta::whole(0, calls[0].clone())),
                StreamEvent::ToolCall(ToolCallDelta::whole(1, calls[1].clone())),
                StreamEvent::Finish {
                    reason: FinishReason::ToolCalls,
                    usage: None
                }
            ]
        );
    }

    #[test]
    fn an_empty_answer_is_only_the_finish_and_an_error_comes_before_the_stream() {
        let (events, _) = ask(Ok(Generation::default()));
        assert_eq!(
            events.unwrap(),
            [StreamEvent::Finish {
                reason: FinishReason::Stop,
                usage: None
            }]
        );
        let (events, _) = ask(Err(Error::Connect {
            upstream: "u".into(),
            message: "refused".into(),
        }));
        assert_eq!(events.unwrap_err().kind(), "connect");
    }
}
