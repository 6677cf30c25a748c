//! The model's event stream → the NDJSON body of `/v2/chat/agent`.
//!
//! Each upstream chunk (reasoning already stripped by the model's decorator, see
//! `AppState::model`) goes through the [`ReactParser`]; the events it completes are written as JSON lines right away. When the model
//! finishes, the parser's last events and a `usage` line close the body. A failure after the
//! response started becomes an `error` line and the body then ends normally: that line is how
//! the client learns of it (GitLab reads it and may retry when `retryable` is true).

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use duo_core::{Error, EventStream, StreamEvent, Usage};
use futures::{Stream, StreamExt};

use super::react_parser::ReactParser;
use super::wire::{AgentEvent, UsageCounts};

/// The content type of the answer.
pub const NDJSON: &str = "application/x-ndjson; charset=utf-8";

/// The answer's body as a response: `application/x-ndjson; charset=utf-8`.
pub fn response(upstream: EventStream, usage_key: String) -> Response {
    let body = Body::from_stream(lines(upstream, usage_key));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

struct Pump {
    upstream: EventStream,
    parser: ReactParser,
    usage_key: String,
    done: bool,
}

/// The NDJSON lines for `upstream`, one write per upstream chunk that completes an event.
pub fn lines(
    upstream: EventStream,
    usage_key: String,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let pump = Pump {
        upstream,
        parser: ReactParser::new(),
        usage_key,
        done: false,
    };
    futures::stream::unfold(pump, |mut pump| async move {
        while !pump.done {
            let events = match pump.upstream.next().await {
                Some(Ok(StreamEvent::Delta(text))) => pump.delta(&text),
                Some(Ok(StreamEvent::Finish { reason, usage })) => {
                    pump.done = true;
                    pump.finish(reason.as_str(), usage)
                }
                Some(Ok(_)) => Vec::new(),
                Some(Err(error)) => {
                    pump.done = true;
                    vec![error_event(&error)]
                }
                None => {
                    pump.done = true;
                    vec![AgentEvent::Error {
                        message: "The model's answer ended before it was complete.".into(),
                        retryable: true,
                    }]
                }
            };
            if !events.is_empty() {
                let mut out = Vec::with_capacity(128);
                for event in &events {
                    event.write_line(&mut out);
                }
                return Some((Ok(Bytes::from(out)), pump));
            }
        }
        None
    })
}

impl Pump {
    fn delta(&mut self, text: &str) -> Vec<AgentEvent> {
        self.parser.push(text)
    }

    fn finish(&mut self, reason: &str, usage: Option<Usage>) -> Vec<AgentEvent> {
        let mut events = self.parser.finish(Some(reason));
        if let Some(usage) = usage {
            events.push(AgentEvent::Usage {
                usage: BTreeMap::from([(
                    std::mem::take(&mut self.usage_key),
                    UsageCounts {
                        input_tokens: usage.input_tokens,
                        output_tokens: usage.output_tokens,
                    },
                )]),
            });
        }
        events
    }
}

/// The `error` line for a failure after the answer started; details go to the log only.
fn error_event(error: &Error) -> AgentEvent {
    tracing::warn!(error = %error, kind = error.kind(), "chat model failed mid-stream");
    let message = match error {
        Error::RateLimited { .. } => crate::error::TOO_MANY_REQUESTS,
        Error::Timeout { .. } => "The model did not answer in time.",
        Error::BrokenStream { .. } => "The model's answer was cut short.",
        Error::Protocol { .. } => "The model sent a malformed answer.",
        Error::ContentFiltered { .. } => "The model's content filter stopped the answer.",
        _ => crate::error::INFERENCE_FAILED,
    };
    AgentEvent::Error {
        message: message.to_owned(),
        retryable: error.is_retryable(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo_core::FinishReason;
    use serde_json::{Value, json};

    fn collect(events: Vec<Result<StreamEvent, Error>>, strip: bool) -> Vec<Value> {
        let mut upstream: EventStream = Box::pin(futures::stream::iter(events));
        if strip {
            upstream = duo_core::reasoning::strip_reasoning(upstream);
        }
        let chunks: Vec<Bytes> = futures::executor::block_on(
            lines(upstream, "m".into())
                .map(|r| r.unwrap_or_default())
                .collect(),
        );
        let body: Vec<u8> = chunks.concat();
        let text = String::from_utf8(body).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'));
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn delta(s: &str) -> Result<StreamEvent, Error> {
        Ok(StreamEvent::Delta(s.into()))
    }

    #[test]
    fn a_finished_answer_closes_with_usage() {
        let lines = collect(
            vec![
                delta("<think>hmm</think>Final Answer: Hi"),
                delta(" there"),
                Ok(StreamEvent::Finish {
                    reason: FinishReason::Stop,
                    usage: Some(Usage {
                        input_tokens: 9,
                        output_tokens: 4,
                    }),
                }),
            ],
            true,
        );
        assert_eq!(
            lines,
            vec![
                json!({"type": "final_answer_delta", "data": {"text": "Hi"}}),
                json!({"type": "final_answer_delta", "data": {"text": " there"}}),
                json!({"type": "final_answer_delta", "data": {"text": "", "finish_reason": "stop"}}),
                json!({"type": "usage", "data": {"usage": {"m": {"input_tokens": 9, "output_tokens": 4}}}}),
            ]
        );
    }

    #[test]
    fn failures_become_one_error_line_and_the_body_ends() {
        let lines = collect(
            vec![
                delta("Final Answer: par"),
                Err(Error::BrokenStream {
                    upstream: "vLLM at http://secret-host/v1".into(),
                    message: "reset".into(),
                }),
                delta("never sent"),
            ],
            false,
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1],
            json!({"type": "error", "data": {"message": "The model's answer was cut short.", "retryable": true}})
        );
        let lines = collect(vec![delta("Thought: x")], false);
        assert_eq!(
            lines[0]["type"], "error",
            "a stream without finish is an error"
        );
        let lines = collect(
            vec![Err(Error::UpstreamAuth {
                upstream: "u".into(),
                status: 401,
                message: "no".into(),
            })],
            false,
        );
        assert_eq!(
            lines,
            vec![
                json!({"type": "error", "data": {"message": "Inference failed", "retryable": false}})
            ]
        );
    }
}
