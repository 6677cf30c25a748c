//! Gemini's stream (`:streamGenerateContent?alt=sse`): every `data:` event is a whole
//! `GenerateContentResponse` chunk, read by [`GeminiEvents`] on the shared decoder.

use std::error::Error as StdError;
use std::sync::Arc;

use bytes::Bytes;
use duo_core::{Error, EventStream, FinishReason, StreamEvent, ToolCallDelta, Usage};
use eventsource_stream::Event;
use futures::Stream;

use super::gemini_wire::{GenerateResponse, UsageMetadata};
use super::google_error;
use crate::http::excerpt;
use crate::sse::{SseProtocol, Step};

/// Decodes a Gemini stream (`:streamGenerateContent?alt=sse`) into model events: a
/// [`StreamEvent::Delta`] per text part of candidate 0 (thoughts skipped), a whole
/// [`StreamEvent::ToolCall`] per `functionCall` part (numbered 0, 1, … across the answer; Gemini
/// gives no id, so one is made up: `call_<n>`), then one [`StreamEvent::Finish`] once a
/// `finishReason` arrived (`STOP` → stop, or tool calls when calls were made; `MAX_TOKENS` →
/// length; `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY` and
/// a blocked prompt → content filter) with the last `usageMetadata` (thinking tokens counted as
/// output). An `error` object in a chunk is the error its code stands for; a body that ends
/// before a `finishReason` is a truncated answer ([`Error::BrokenStream`]). Events larger than
/// `max_event_bytes` are refused unread.
pub fn decode_gemini_sse<S, E>(body: S, upstream: Arc<str>, max_event_bytes: usize) -> EventStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: StdError + Send + Sync + 'static,
{
    crate::sse::decode(body, upstream, max_event_bytes, GeminiEvents::default())
}

/// What the chunks said so far.
#[derive(Debug, Default)]
pub(crate) struct GeminiEvents {
    usage: Option<UsageMetadata>,
    stop: Option<FinishReason>,
    /// How many calls were yielded (the next call's ordinal).
    calls: u32,
}

/// The events of one chunk (candidate 0): text parts as deltas (thoughts skipped), calls as
/// whole tool-call pieces; `calls` numbers the calls across the answer.
pub(crate) fn chunk_events(chunk: &mut GenerateResponse, calls: &mut u32) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    let Some(candidate) = chunk.candidates.iter_mut().find(|c| c.index == 0) else {
        return events;
    };
    for part in candidate
        .content
        .take()
        .map(|c| c.parts)
        .unwrap_or_default()
    {
        if let Some(call) = part.function_call {
            let id = call
                .id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| format!("call_{calls}"));
            let arguments = call
                .args
                .map_or_else(|| "{}".to_owned(), |args| args.to_string());
            events.push(StreamEvent::ToolCall(ToolCallDelta::whole(
                *calls,
                duo_core::ToolCall::new(id, call.name, arguments),
            )));
            *calls += 1;
        } else if let Some(text) = part.text
            && !part.thought
            && !text.is_empty()
        {
            events.push(StreamEvent::Delta(text));
        }
    }
    events
}

/// A finish reason as Gemini spells it; calls made turn a natural stop into tool calls.
pub(crate) fn finish_reason(reason: &str, made_calls: bool) -> FinishReason {
    match reason {
        "STOP" if made_calls => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            FinishReason::ContentFilter
        }
        other => FinishReason::Other(other.to_ascii_lowercase()),
    }
}

/// Gemini's usage as duo's (thinking tokens count as output).
pub(crate) fn usage(u: UsageMetadata) -> Usage {
    Usage {
        input_tokens: u.prompt_token_count,
        output_tokens: u
            .candidates_token_count
            .saturating_add(u.thoughts_token_count),
    }
}

impl SseProtocol for GeminiEvents {
    const TRUNCATED: &'static str = "the stream ended before the model finished (no finishReason)";

    fn on_event(&mut self, event: &Event, upstream: &str) -> Result<Step, Error> {
        let data = event.data.trim();
        let mut chunk: GenerateResponse =
            serde_json::from_str(data).map_err(|e| Error::Protocol {
                upstream: upstream.to_owned(),
                message: format!("bad JSON in a stream chunk ({e}): {}", excerpt(data, 200)),
            })?;
        if let Some(error) = chunk.error.take() {
            return Err(google_error(upstream, &error, None));
        }
        if chunk.usage_metadata.is_some() {
            self.usage = chunk.usage_metadata;
        }
        if let Some(reason) = chunk
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_deref())
        {
            // the prompt was refused: no candidate follows
            tracing::debug!(reason, "Gemini blocked the prompt");
            self.stop = Some(FinishReason::ContentFilter);
            return Ok(Step::Done);
        }
        let reason = chunk
            .candidates
            .iter()
            .find(|c| c.index == 0)
            .and_then(|c| c.finish_reason.clone());
        let events = chunk_events(&mut chunk, &mut self.calls);
        if let Some(reason) = reason {
            self.stop = Some(finish_reason(&reason, self.calls > 0));
        }
        Ok(match (events.is_empty(), self.stop.is_some()) {
            (true, true) => Step::Done,
            (true, false) => Step::Nothing,
            // the last chunk usually carries text and the finish reason: its pieces, then the end
            (false, true) => Step::Last(events),
            (false, false) => Step::Events(events),
        })
    }

    fn complete(&self) -> bool {
        self.stop.is_some()
    }

    fn finish(&mut self) -> StreamEvent {
        StreamEvent::Finish {
            reason: self.stop.take().unwrap_or_default(),
            usage: self.usage.map(usage),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn decode(body: &str) -> Vec<Result<StreamEvent, Error>> {
        let body = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(body.to_owned()))]);
        futures::executor::block_on(
            decode_gemini_sse(body, "Vertex AI at http://h".into(), 1 << 20).collect(),
        )
    }

    fn chunk(json: &str) -> String {
        format!("data: {json}\r\n\r\n")
    }

    #[test]
    fn the_chunk_with_the_finish_reason_ends_the_answer_after_its_text() {
        let body = [
            chunk(r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"def "}]},"index":0}]}"#),
            chunk(r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"thinking","thought":true},{"text":"add"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"thoughtsTokenCount":5}}"#),
            chunk(r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"never shown"}]},"index":0}]}"#),
        ]
        .concat();
        assert_eq!(
            decode(&body),
            vec![
                Ok(StreamEvent::Delta("def ".into())),
                Ok(StreamEvent::Delta("add".into())),
                Ok(StreamEvent::Finish {
                    reason: FinishReason::Stop,
                    usage: Some(Usage {
                        input_tokens: 4,
                        output_tokens: 7
                    }),
                }),
            ]
        );
    }

    #[test]
    fn a_cut_stream_an_error_chunk_and_a_safety_stop_are_told_apart() {
        let cut = chunk(
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"half"}]},"index":0}]}"#,
        );
        let events = decode(&cut);
        assert_eq!(events[0], Ok(StreamEvent::Delta("half".into())));
        assert_eq!(events[1].as_ref().unwrap_err().kind(), "broken_stream");
        let error = chunk(
            r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
        );
        let err = decode(&error).remove(0).unwrap_err();
        assert!(
            err.to_string()
                .contains("UNAVAILABLE: The model is overloaded."),
            "{err}"
        );
        let safety = chunk(r#"{"candidates":[{"finishReason":"SAFETY","index":0}]}"#);
        assert!(matches!(
            decode(&safety).remove(0),
            Ok(StreamEvent::Finish {
                reason: FinishReason::ContentFilter,
                ..
            })
        ));
    }
}
