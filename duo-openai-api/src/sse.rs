//! Streaming answers as OpenAI frames them: `data: <chunk JSON>\n\n` events, ending with
//! `data: [DONE]\n\n`.
//!
//! Chat: a first chunk with `delta.role: "assistant"`, one chunk per text delta and per piece of
//! a tool call (`delta.tool_calls: [{index, id, type, function: {name, arguments}}]`, the id,
//! type and name on a call's first piece), a chunk with an empty delta and the `finish_reason`, then (with `stream_options.include_usage`) a chunk with
//! empty `choices` and the `usage` — every other chunk then carries `"usage": null`. Text
//! completions: the same without the role chunk, `text` instead of `delta`.
//!
//! An upstream failure (or an upstream stream that ends without finishing) ends the body with an
//! error, so hyper aborts the connection: no `[DONE]`, and the client sees a truncated stream,
//! never a short answer presented as complete.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use duo_core::{Error, EventStream, FinishReason, StreamEvent, ToolCallDelta, Usage};
use futures::{Stream, StreamExt};
use serde::Serialize;

use crate::wire::{self, ChatCompletionChunk, ChunkChoice, Delta, TextChoice, TextCompletion};
use duo_core::StreamAborted;

/// The terminating event.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// Which object the stream's chunks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `chat.completion.chunk`.
    Chat,
    /// `text_completion`.
    Text,
}

/// What every chunk of one stream repeats, and how to frame it.
#[derive(Debug)]
pub(crate) struct Framer {
    /// `chatcmpl-…` / `cmpl-…`.
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    /// The model's name as the client sent it.
    pub model: String,
    /// Chat or text chunks.
    pub kind: Kind,
    /// Whether the client asked for the usage chunk.
    pub include_usage: bool,
}

impl Framer {
    fn usage_field(&self) -> Option<Option<wire::Usage>> {
        self.include_usage.then_some(None)
    }

    /// The first chunk of a chat stream (`delta: {"role": "assistant", "content": ""}`).
    pub(crate) fn role_chunk(&self) -> Bytes {
        self.chat(
            Delta {
                role: Some("assistant"),
                content: Some(""),
                tool_calls: Vec::new(),
            },
            None,
        )
    }

    /// A chat chunk carrying a piece of a tool call.
    pub(crate) fn tool_call(&self, delta: &ToolCallDelta) -> Bytes {
        self.chat(
            Delta {
                tool_calls: vec![crate::tools::delta_out(delta)],
                ..Delta::default()
            },
            None,
        )
    }

    /// A chunk carrying `text`.
    pub(crate) fn delta(&self, text: &str) -> Bytes {
        match self.kind {
            Kind::Chat => self.chat(
                Delta {
                    content: Some(text),
                    ..Delta::default()
                },
                None,
            ),
            Kind::Text => self.text(text, None),
        }
    }

    /// The end of the stream: the finish chunk, the usage chunk if asked for, and `[DONE]`, in
    /// one buffer (one write).
    pub(crate) fn finish(&self, reason: &FinishReason, usage: Option<Usage>) -> Bytes {
        let mut out = Vec::with_capacity(512);
        let reason = Some(reason.as_str());
        match self.kind {
            Kind::Chat => self.write_chat(&mut out, Delta::default(), reason),
            Kind::Text => self.write_text(&mut out, "", reason),
        }
        if self.include_usage {
            let usage = Some(usage.map(wire::Usage::from));
            match self.kind {
                Kind::Chat => self.write_event(
                    &mut out,
                    &ChatCompletionChunk {
                        id: &self.id,
                        object: "chat.completion.chunk",
                        created: self.created,
                        model: &self.model,
                        choices: &[],
                        usage,
                    },
                ),
                Kind::Text => self.write_event(
                    &mut out,
                    &TextCompletion {
                        id: &self.id,
                        object: "text_completion",
                        created: self.created,
                        model: &self.model,
                        choices: &[],
                        usage,
                    },
                ),
            }
        }
        out.extend_from_slice(DONE);
        Bytes::from(out)
    }

    fn chat(&self, delta: Delta<'_>, finish: Option<&str>) -> Bytes {
        let mut out = Vec::with_capacity(256);
        self.write_chat(&mut out, delta, finish);
        Bytes::from(out)
    }

    fn text(&self, text: &str, finish: Option<&str>) -> Bytes {
        let mut out = Vec::with_capacity(256 + text.len());
        self.write_text(&mut out, text, finish);
        Bytes::from(out)
    }

    fn write_chat(&self, out: &mut Vec<u8>, delta: Delta<'_>, finish: Option<&str>) {
        let choices = [ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason: finish,
        }];
        self.write_event(
            out,
            &ChatCompletionChunk {
                id: &self.id,
                object: "chat.completion.chunk",
                created: self.created,
                model: &self.model,
                choices: &choices,
                usage: self.usage_field(),
            },
        );
    }

    fn write_text(&self, out: &mut Vec<u8>, text: &str, finish: Option<&str>) {
        let choices = [TextChoice {
            text,
            index: 0,
            logprobs: None,
            finish_reason: finish,
        }];
        self.write_event(
            out,
            &TextCompletion {
                id: &self.id,
                object: "text_completion",
                created: self.created,
                model: &self.model,
                choices: &choices,
                usage: self.usage_field(),
            },
        );
    }

    fn write_event(&self, out: &mut Vec<u8>, chunk: &impl Serialize) {
        out.extend_from_slice(b"data: ");
        // serializing these borrowed structs into a Vec cannot fail (no maps with non-string
        // keys, no failing Serialize impls); an empty event would still be valid SSE
        let _ = serde_json::to_writer(&mut *out, chunk);
        out.extend_from_slice(b"\n\n");
    }
}

/// The streamed response for `events`, framed by `framer`.
pub(crate) fn response(events: EventStream, framer: Framer, upstream: String) -> Response {
    let phase = match framer.kind {
        Kind::Chat => Phase::Start,
        Kind::Text => Phase::Streaming,
    };
    let body = SseBody {
        events,
        framer,
        upstream,
        phase,
        finish: None,
    };
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The role chunk is next (chat).
    Start,
    /// Passing deltas through.
    Streaming,
    /// Finished (or failed): nothing more.
    Done,
}

/// The body stream: model events in, SSE bytes out, one event per poll, nothing buffered.
struct SseBody {
    events: EventStream,
    framer: Framer,
    upstream: String,
    phase: Phase,
    /// The model's finish, held until its stream ends so the upstream connection is released.
    finish: Option<(FinishReason, Option<Usage>)>,
}

impl Stream for SseBody {
    type Item = Result<Bytes, StreamAborted>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Start => {
                    this.phase = Phase::Streaming;
                    return Poll::Ready(Some(Ok(this.framer.role_chunk())));
                }
                Phase::Streaming => {}
            }
            let event = ready!(this.events.poll_next_unpin(cx));
            match (event, this.finish.is_some()) {
                (Some(Ok(StreamEvent::Delta(text))), false) if !text.is_empty() => {
                    return Poll::Ready(Some(Ok(this.framer.delta(&text))));
                }
                (Some(Ok(StreamEvent::ToolCall(call))), false)
                    if this.framer.kind == Kind::Chat =>
                {
                    return Poll::Ready(Some(Ok(this.framer.tool_call(&call))));
                }
                (Some(Ok(StreamEvent::Finish { reason, usage })), false) => {
                    this.finish = Some((reason, usage));
                }
                // after the finish, the rest of the upstream stream is drained and ignored
                (Some(Ok(_)), _) => {}
                (Some(Err(e)), false) => {
                    this.phase = Phase::Done;
                    return Poll::Ready(Some(Err(StreamAborted(e))));
                }
                (Some(Err(_)) | None, true) => {
                    this.phase = Phase::Done;
                    let (reason, usage) = this.finish.take().unwrap_or_default();
                    return Poll::Ready(Some(Ok(this.framer.finish(&reason, usage))));
                }
                (None, false) => {
                    this.phase = Phase::Done;
                    return Poll::Ready(Some(Err(StreamAborted(Error::BrokenStream {
                        upstream: std::mem::take(&mut this.upstream),
                        message: "the stream ended before the model finished".into(),
                    }))));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn framer(kind: Kind, include_usage: bool) -> Framer {
        Framer {
            id: "chatcmpl-1".into(),
            created: 5,
            model: "m".into(),
            kind,
            include_usage,
        }
    }

    fn collect(
        kind: Kind,
        include_usage: bool,
        events: Vec<Result<StreamEvent, Error>>,
    ) -> (String, bool) {
        let body = SseBody {
            events: Box::pin(stream::iter(events)),
            framer: framer(kind, include_usage),
            upstream: "u".into(),
            phase: if kind == Kind::Chat {
                Phase::Start
            } else {
                Phase::Streaming
            },
            finish: None,
        };
        let items: Vec<_> = futures::executor::block_on(body.collect());
        let failed = items.iter().any(Result::is_err);
        let text = items
            .into_iter()
            .filter_map(Result::ok)
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
            .collect();
        (text, failed)
    }

    fn finish(usage: Option<Usage>) -> Result<StreamEvent, Error> {
        Ok(StreamEvent::Finish {
            reason: FinishReason::Stop,
            usage,
        })
    }

    #[test]
    fn chat_streams_are_framed_like_openai() {
        let usage = Usage {
            input_tokens: 2,
            output_tokens: 3,
        };
        let (text, failed) = collect(
            Kind::Chat,
            true,
            vec![
                Ok(StreamEvent::Delta("Hel".into())),
                Ok(StreamEvent::Delta(String::new())),
                Ok(StreamEvent::Delta("lo".into())),
                finish(Some(usage)),
            ],
        );
        assert!(!failed);
        let head = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":5,"model":"m","choices":"#;
        let expected = [
            format!("data: {head}[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"),
            format!("data: {head}[{{\"index\":0,\"delta\":{{\"content\":\"Hel\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"),
            format!("data: {head}[{{\"index\":0,\"delta\":{{\"content\":\"lo\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"),
            format!("data: {head}[{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":null}}\n\n"),
            format!("data: {head}[],\"usage\":{{\"prompt_tokens\":2,\"completion_tokens\":3,\"total_tokens\":5}}}}\n\n"),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        assert_eq!(text, expected);
    }

    #[test]
    fn without_include_usage_there_is_no_usage_field_or_chunk() {
        let (text, _) = collect(
            Kind::Text,
            false,
            vec![Ok(StreamEvent::Delta("x".into())), finish(None)],
        );
        assert!(!text.contains("usage"), "{text}");
        assert!(!text.contains("assistant"), "{text}");
        assert!(
            text.contains(
                r#""choices":[{"text":"x","index":0,"logprobs":null,"finish_reason":null}]"#
            ),
            "{text}"
        );
        assert!(
            text.ends_with("\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"),
            "{text}"
        );
    }

    #[test]
    fn failures_abort_without_done() {
        let cut = Error::BrokenStream {
            upstream: "u".into(),
            message: "reset".into(),
        };
        let (text, failed) = collect(
            Kind::Chat,
            false,
            vec![Ok(StreamEvent::Delta("a".into())), Err(cut)],
        );
        assert!(failed);
        assert!(text.contains("\"a\"") && !text.contains("[DONE]"), "{text}");
        let (text, failed) = collect(Kind::Text, false, vec![Ok(StreamEvent::Delta("a".into()))]);
        assert!(failed, "a stream without a finish is truncated");
        assert!(!text.contains("[DONE]"));
    }

    #[test]
    fn events_after_the_finish_are_ignored() {
        let late = Error::BrokenStream {
            upstream: "u".into(),
            message: "late".into(),
        };
        let (text, failed) = collect(
            Kind::Text,
            false,
            vec![
                finish(None),
                Ok(StreamEvent::Delta("late".into())),
                Err(late),
            ],
        );
        assert!(!failed);
        assert!(
            !text.contains("late") && text.ends_with("data: [DONE]\n\n"),
            "{text}"
        );
    }
}
