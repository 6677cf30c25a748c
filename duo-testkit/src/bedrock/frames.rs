//! `application/vnd.amazon.eventstream` frames of a ConverseStream body, written with AWS's own
//! encoder (`aws-smithy-eventstream`), so prelude and message CRC32s are right by construction.
//!
//! A frame is: total length (u32) · headers length (u32) · prelude CRC32 · headers · payload ·
//! message CRC32 (over everything before it). Event frames carry the string headers
//! `:event-type` (`messageStart`, `contentBlockStart`, `contentBlockDelta`, `contentBlockStop`,
//! `messageStop`, `metadata`), `:content-type: application/json` and `:message-type: event`,
//! in that order, and a JSON payload with Bedrock's padding field `p`.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use serde_json::json;

use super::errors::StreamException;
use super::script::{Answer, ToolUse};

/// An encoding failure (only for headers or payloads beyond the format's limits).
pub type EncodeError = aws_smithy_eventstream::error::Error;

/// Padding Bedrock adds to each event (field `p`) so that sizes do not reveal the text.
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";

fn string_header(name: &'static str, value: &str) -> Header {
    Header::new(name, HeaderValue::String(value.to_owned().into()))
}

fn encode(message: &Message) -> Result<Bytes, EncodeError> {
    let mut out = Vec::with_capacity(message.payload().len() + 128);
    write_message_to(message, &mut out)?;
    Ok(out.into())
}

/// An event frame: `:event-type`, `:content-type: application/json`, `:message-type: event`.
///
/// # Errors
/// When the frame exceeds the format's limits.
pub fn event_frame(event_type: &str, payload: &serde_json::Value) -> Result<Bytes, EncodeError> {
    let message = Message::new(payload.to_string())
        .add_header(string_header(":event-type", event_type))
        .add_header(string_header(":content-type", "application/json"))
        .add_header(string_header(":message-type", "event"));
    encode(&message)
}

/// An exception frame: `:exception-type`, `:content-type`, `:message-type: exception`.
///
/// # Errors
/// When the frame exceeds the format's limits.
pub fn exception_frame(exception: &StreamException) -> Result<Bytes, EncodeError> {
    let mut payload = json!({ "message": exception.message });
    if let Some(status) = exception.original_status {
        payload["originalStatusCode"] = json!(status);
        payload["originalMessage"] = json!(exception.message);
    }
    let message = Message::new(payload.to_string())
        .add_header(string_header(":exception-type", &exception.exception_type))
        .add_header(string_header(":content-type", "application/json"))
        .add_header(string_header(":message-type", "exception"));
    encode(&message)
}

/// A `contentBlockDelta` frame carrying `text`.
///
/// # Errors
/// When the frame exceeds the format's limits.
pub fn delta_frame(text: &str) -> Result<Bytes, EncodeError> {
    event_frame(
        "contentBlockDelta",
        &json!({ "contentBlockIndex": 0, "delta": { "text": text }, "p": PADDING }),
    )
}

/// A `contentBlockStart` frame opening tool use block `index`:
/// `{"contentBlockIndex":index,"start":{"toolUse":{"name":…,"toolUseId":…}}}`.
///
/// # Errors
/// When the frame exceeds the format's limits.
pub fn tool_start_frame(index: usize, tool: &ToolUse) -> Result<Bytes, EncodeError> {
    event_frame(
        "contentBlockStart",
        &json!({
            "contentBlockIndex": index,
            "start": { "toolUse": { "toolUseId": tool.tool_use_id, "name": tool.name } },
            "p": PADDING,
        }),
    )
}

/// A `contentBlockDelta` frame carrying `input`, a piece of a tool use's input JSON text:
/// `{"contentBlockIndex":index,"delta":{"toolUse":{"input":…}}}`.
///
/// # Errors
/// When the frame exceeds the format's limits.
pub fn tool_delta_frame(index: usize, input: &str) -> Result<Bytes, EncodeError> {
    event_frame(
        "contentBlockDelta",
        &json!({ "contentBlockIndex": index, "delta": { "toolUse": { "input": input } }, "p": PADDING }),
    )
}

/// A `contentBlockStop` frame closing block `index`.
///
/// # Errors
/// When the frame exceeds the format's limits.
pub fn block_stop_frame(index: usize) -> Result<Bytes, EncodeError> {
    event_frame(
        "contentBlockStop",
        &json!({ "contentBlockIndex": index, "p": PADDING }),
    )
}

/// `text` in at most `n` pieces of about equal length, at character boundaries (one empty
/// piece for an empty text).
fn split_pieces(text: &str, n: usize) -> Vec<&str> {
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let n = n.clamp(1, starts.len().max(1));
    (0..n)
        .map(|i| {
            let start = starts.get(i * starts.len() / n).copied().unwrap_or(0);
            let end = starts
                .get((i + 1) * starts.len() / n)
                .copied()
                .unwrap_or(text.len());
            &text[start..end]
        })
        .collect()
}

/// The complete frame sequence of a streamed `answer`, without faults: `messageStart`; the
/// text block (a `contentBlockDelta` per chunk, `contentBlockStop`) unless a tool-use answer
/// has no text; per tool use `contentBlockStart`, a `contentBlockDelta` per input piece,
/// `contentBlockStop`; `messageStop`, `metadata` (with `trace.guardrail` when the answer carries
/// a [`guardrail_trace`](Answer::guardrail_trace)).
///
/// # Errors
/// When a frame exceeds the format's limits.
pub fn answer_frames(answer: &Answer) -> Result<Vec<Bytes>, EncodeError> {
    let mut frames = Vec::with_capacity(
        answer.chunks.len() + answer.tool_uses.len() * (answer.input_pieces + 2) + 4,
    );
    frames.push(event_frame(
        "messageStart",
        &json!({ "role": "assistant", "p": PADDING }),
    )?);
    let mut index = 0;
    if answer.has_text_block() {
        for chunk in &answer.chunks {
            frames.push(delta_frame(chunk)?);
        }
        frames.push(block_stop_frame(index)?);
        index += 1;
    }
    for tool in &answer.tool_uses {
        frames.push(tool_start_frame(index, tool)?);
        for piece in split_pieces(&tool.input_json(), answer.input_pieces) {
            frames.push(tool_delta_frame(index, piece)?);
        }
        frames.push(block_stop_frame(index)?);
        index += 1;
    }
    frames.push(event_frame(
        "messageStop",
        &json!({ "stopReason": answer.stop_reason, "p": PADDING }),
    )?);
    let mut metadata = json!({
        "usage": {
            "inputTokens": answer.input_tokens,
            "outputTokens": answer.output_tokens,
            "totalTokens": answer.input_tokens.saturating_add(answer.output_tokens),
        },
        "metrics": { "latencyMs": 42 },
        "p": PADDING,
    });
    if let Some(guardrail) = &answer.guardrail_trace {
        metadata["trace"] = json!({ "guardrail": guardrail });
    }
    frames.push(event_frame("metadata", &metadata)?);
    Ok(frames)
}

/// `frame` with one bit of its trailing message CRC flipped.
#[must_use]
pub fn corrupt_crc(frame: &Bytes) -> Bytes {
    let mut bytes = frame.to_vec();
    if let Some(last) = bytes.last_mut() {
        *last ^= 0x01;
    }
    bytes.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::read_message_from;

    #[test]
    fn frames_round_trip_through_the_aws_decoder() {
        let frame = delta_frame("héllo").unwrap();
        let message = read_message_from(frame.clone()).unwrap();
        let payload: serde_json::Value = serde_json::from_slice(message.payload()).unwrap();
        assert_eq!(payload["delta"]["text"], "héllo");
        let names: Vec<&str> = message
            .headers()
            .iter()
            .map(|h| h.name().as_str())
            .collect();
        assert_eq!(names, [":event-type", ":content-type", ":message-type"]);
        // total length in the prelude matches the frame
        assert_eq!(
            u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize,
            frame.len()
        );
    }

    #[test]
    fn a_corrupted_crc_is_rejected_by_the_decoder() {
        let frame = corrupt_crc(&delta_frame("x").unwrap());
        let err = read_message_from(frame).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }

    #[test]
    fn answer_frames_are_in_bedrock_order() {
        let frames = answer_frames(&Answer::chunks(["a", "b"])).unwrap();
        let types: Vec<String> = frames
            .into_iter()
            .map(|f| {
                let m = read_message_from(f).unwrap();
                m.headers()[0]
                    .value()
                    .as_string()
                    .unwrap()
                    .as_str()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            types,
            [
                "messageStart",
                "contentBlockDelta",
                "contentBlockDelta",
                "contentBlockStop",
                "messageStop",
                "metadata"
            ]
        );
    }

    #[test]
    fn split_pieces_keeps_all_text_and_char_boundaries() {
        assert_eq!(split_pieces(r#"{"a":1}"#, 3), [r#"{""#, r#"a""#, ":1}"]);
        assert_eq!(split_pieces("héé", 2).concat(), "héé");
        assert_eq!(split_pieces("{}", 5), ["{", "}"]);
        assert_eq!(split_pieces("", 3), [""]);
    }

    #[test]
    fn exception_frames_carry_the_exception_type() {
        let frame = exception_frame(&StreamException::model_stream_error()).unwrap();
        let m = read_message_from(frame).unwrap();
        assert_eq!(
            m.headers()[0].value().as_string().unwrap().as_str(),
            "modelStreamErrorException"
        );
        assert_eq!(
            m.headers()[2].value().as_string().unwrap().as_str(),
            "exception"
        );
        let payload: serde_json::Value = serde_json::from_slice(m.payload()).unwrap();
        assert_eq!(payload["originalStatusCode"], 500);
    }
}
