//! Renders a Gemini [`Reply`] as the bytes Vertex AI would send: one `GenerateContentResponse`,
//! SSE `data:` events, or a JSON array of responses.

use bytes::Bytes;
use serde_json::{Value, json};

use super::reply::{Chunking, Content, Fault, GoogleError, Kind, Reply};
use crate::anthropic::render::{Piece, Rendered};
use crate::anthropic::wire::{obj, s, split_chunks};

/// The content type of Vertex's JSON answers.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";
/// The content type of an `alt=sse` stream.
pub(crate) const SSE_CONTENT_TYPE: &str = "text/event-stream";
/// The `createTime` of every answer: fixed, so bodies are predictable byte for byte.
pub(crate) const CREATE_TIME: &str = "2025-01-01T00:00:00.000000Z";

/// The shape the request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `:generateContent`: one response.
    Json,
    /// `:streamGenerateContent?alt=sse`: `data: <response>\r\n\r\n` events.
    Sse,
    /// `:streamGenerateContent` without `alt=sse`: a JSON array of responses.
    JsonArray,
}

/// What the fake needs to know about the request to shape its answer.
#[derive(Debug, Clone)]
pub(crate) struct Ask<'a> {
    /// The request body (`Value::Null` when it was not JSON).
    pub body: &'a Value,
    /// The model id of the URL, echoed as `modelVersion`.
    pub model: &'a str,
    pub response_id: &'a str,
}

/// `{"error":{"code":…,"message":…,"status":…}}`, pretty-printed as Google's front end writes
/// it.
pub(crate) fn error_body(error: &GoogleError) -> String {
    let mut text = serde_json::to_string_pretty(&error_value(error)).unwrap_or_default();
    text.push('\n');
    text
}

fn error_value(error: &GoogleError) -> Value {
    json!({"error": {"code": error.code, "message": error.message, "status": error.status}})
}

/// An error answer.
pub(crate) fn error_response(error: &GoogleError) -> Rendered {
    one(error.code, JSON_CONTENT_TYPE, error_body(error))
}

fn one(status: u16, content_type: &str, body: String) -> Rendered {
    Rendered {
        status,
        content_type: content_type.into(),
        pieces: vec![Piece::Bytes(Bytes::from(body))],
    }
}

pub(crate) fn render(reply: &Reply, mode: Mode, ask: &Ask<'_>) -> Rendered {
    match &reply.kind {
        Kind::Error(error) => error_response(error),
        Kind::Raw {
            status,
            content_type,
            pieces,
        } => Rendered {
            status: *status,
            content_type: content_type.clone(),
            pieces: pieces.iter().cloned().map(Piece::Bytes).collect(),
        },
        Kind::Content(c) if mode == Mode::Json => one(200, JSON_CONTENT_TYPE, whole(c, ask)),
        Kind::Content(c) => Rendered {
            status: 200,
            content_type: if mode == Mode::Sse {
                SSE_CONTENT_TYPE
            } else {
                JSON_CONTENT_TYPE
            }
            .into(),
            pieces: stream(c, mode, ask),
        },
    }
}

/// The parts of each streamed chunk: one text part per text piece, then one chunk of all
/// function calls; one empty chunk when there is neither.
fn chunk_parts(c: &Content) -> Vec<Vec<String>> {
    let mut chunks: Vec<Vec<String>> = Vec::new();
    if let Some(text) = &c.text {
        let pieces: Vec<&str> = match &c.chunking {
            Chunking::Even(n) => split_chunks(text, *n),
            Chunking::Pieces(pieces) => pieces.iter().map(String::as_str).collect(),
        };
        chunks.extend(pieces.into_iter().map(|t| vec![text_part(t)]));
    }
    if !c.calls.is_empty() {
        chunks.push(call_parts(c));
    }
    if chunks.is_empty() || c.block_reason.is_some() {
        chunks = vec![Vec::new()];
    }
    chunks
}

fn text_part(text: &str) -> String {
    obj(&[("text", &s(text))])
}

fn call_parts(c: &Content) -> Vec<String> {
    c.calls
        .iter()
        .map(|(name, args)| {
            let call = obj(&[("name", &s(name)), ("args", &args.to_string())]);
            obj(&[("functionCall", &call)])
        })
        .collect()
}

/// `usageMetadata` for `c`, `chunks` having been sent.
fn usage(c: &Content, body: &Value, chunks: usize) -> String {
    let (prompt, candidates) = c.usage.unwrap_or_else(|| {
        (
            prompt_words(body),
            u32::try_from(chunks).unwrap_or(u32::MAX),
        )
    });
    if c.block_reason.is_some() {
        let prompt = prompt.to_string();
        return obj(&[("promptTokenCount", &prompt), ("totalTokenCount", &prompt)]);
    }
    obj(&[
        ("promptTokenCount", &prompt.to_string()),
        ("candidatesTokenCount", &candidates.to_string()),
        ("totalTokenCount", &(prompt + candidates).to_string()),
    ])
}

/// Words of the request's text parts (`contents` and `systemInstruction`): the fake's stand-in
/// for a token count.
fn prompt_words(body: &Value) -> u32 {
    fn words(content: &Value) -> usize {
        content
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .map(|t| t.split_whitespace().count())
            .sum()
    }
    let system = body
        .get("systemInstruction")
        .or_else(|| body.get("system_instruction"))
        .map_or(0, words);
    let contents: usize = body
        .get("contents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(words)
        .sum();
    u32::try_from(system + contents).unwrap_or(u32::MAX)
}

/// One candidate: `content` (when it has parts), `finishReason` and `safetyRatings` (when
/// finishing), `index` (in whole answers).
fn candidate(c: &Content, parts: &[String], finishing: bool, index: bool) -> String {
    let content = obj(&[
        ("role", r#""model""#),
        ("parts", &format!("[{}]", parts.join(","))),
    ]);
    let finish = s(&c.finish_reason);
    let ratings = c.safety_ratings.as_ref().map(Value::to_string);
    let mut fields: Vec<(&str, &str)> = Vec::new();
    if !parts.is_empty() {
        fields.push(("content", &content));
    }
    if finishing {
        fields.push(("finishReason", &finish));
        if let Some(ratings) = &ratings {
            fields.push(("safetyRatings", ratings));
        }
    }
    if index {
        fields.push(("index", "0"));
    }
    obj(&fields)
}

/// A `GenerateContentResponse` around `candidate` (`None`: the prompt was blocked).
fn response(c: &Content, ask: &Ask<'_>, candidate: Option<&str>, usage: Option<&str>) -> String {
    let candidates = candidate.map(|one| format!("[{one}]"));
    let feedback = c
        .block_reason
        .as_deref()
        .map(|reason| obj(&[("blockReason", &s(reason))]));
    let (model, created, id) = (s(ask.model), s(CREATE_TIME), s(ask.response_id));
    let mut fields: Vec<(&str, &str)> = Vec::new();
    if let Some(candidates) = &candidates {
        fields.push(("candidates", candidates));
    }
    if let Some(feedback) = &feedback {
        fields.push(("promptFeedback", feedback));
    }
    if let Some(usage) = usage {
        fields.push(("usageMetadata", usage));
    }
    fields.extend([
        ("modelVersion", model.as_str()),
        ("createTime", created.as_str()),
        ("responseId", id.as_str()),
    ]);
    obj(&fields)
}

fn whole(c: &Content, ask: &Ask<'_>) -> String {
    let chunks = chunk_parts(c).len();
    let usage = usage(c, ask.body, chunks);
    if c.block_reason.is_some() {
        return response(c, ask, None, Some(&usage));
    }
    let mut parts: Vec<String> = c.text.iter().map(|t| text_part(t)).collect();
    parts.extend(call_parts(c));
    let one = candidate(c, &parts, true, true);
    response(c, ask, Some(&one), Some(&usage))
}

/// Frames the responses of a stream: SSE events, or the elements of one JSON array.
struct Framing {
    mode: Mode,
    pieces: Vec<Piece>,
}

impl Framing {
    fn push(&mut self, json: &str, last: bool) {
        let text = match self.mode {
            Mode::Sse => format!("data: {json}\r\n\r\n"),
            _ => {
                let open = if self.pieces.is_empty() { "[" } else { ",\r\n" };
                let close = if last { "]" } else { "" };
                format!("{open}{json}{close}")
            }
        };
        self.pieces.push(Piece::Bytes(Bytes::from(text)));
    }
}

fn stream(c: &Content, mode: Mode, ask: &Ask<'_>) -> Vec<Piece> {
    let chunks = chunk_parts(c);
    let total = chunks.len();
    let fault_at = c.fault.as_ref().map(|f| f.after().min(total));
    let mut out = Framing {
        mode,
        pieces: Vec::new(),
    };
    for (i, parts) in chunks.iter().enumerate() {
        if fault_at == Some(i) {
            break;
        }
        let finishing = i + 1 == total && fault_at.is_none();
        let usage = finishing.then(|| usage(c, ask.body, total));
        let json = if c.block_reason.is_some() {
            response(c, ask, None, usage.as_deref())
        } else {
            let one = candidate(c, parts, finishing, false);
            response(c, ask, Some(&one), usage.as_deref())
        };
        out.push(&json, finishing);
    }
    match &c.fault {
        Some(Fault::Error { error, .. }) => out.push(&error_value(error).to_string(), true),
        Some(Fault::Abort { .. }) => out.pieces.push(Piece::Abort),
        Some(Fault::Cut { .. }) | None => {}
    }
    out.pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                Piece::Abort => "<abort>".into(),
            })
            .collect()
    }

    fn ask(body: &Value) -> Ask<'_> {
        Ask {
            body,
            model: "gemini-x",
            response_id: "r1",
        }
    }

    #[test]
    fn json_arrays_frame_chunks_and_faults() {
        let body = json!({"contents": [{"role": "user", "parts": [{"text": "one two"}]}]});
        let r = render(
            &Reply::text("ab").chunks(["a", "b"]),
            Mode::JsonArray,
            &ask(&body),
        );
        let all = text(&r.pieces);
        let parsed: Value = serde_json::from_str(&all).unwrap();
        assert_eq!(parsed.as_array().unwrap().len(), 2);
        assert_eq!(parsed[1]["usageMetadata"]["promptTokenCount"], 2);
        assert_eq!(parsed[1]["candidates"][0]["finishReason"], "STOP");
        assert!(parsed[0]["candidates"][0].get("finishReason").is_none());

        let cut = render(
            &Reply::text("ab").chunks(["a", "b"]).cut_after(1),
            Mode::JsonArray,
            &ask(&body),
        );
        assert!(!text(&cut.pieces).ends_with(']'));
        let failed = render(
            &Reply::text("ab").chunks(["a", "b"]).stream_error(1, 503),
            Mode::JsonArray,
            &ask(&body),
        );
        let parsed: Value = serde_json::from_str(&text(&failed.pieces)).unwrap();
        assert_eq!(parsed[1]["error"]["status"], "UNAVAILABLE");
        let aborted = render(&Reply::text("ab").abort_after(9), Mode::Sse, &ask(&body));
        assert_eq!(aborted.pieces.last(), Some(&Piece::Abort));
    }

    #[test]
    fn blocked_prompts_and_candidates_carry_no_content() {
        let body = json!({});
        let r = render(
            &Reply::prompt_blocked("PROHIBITED_CONTENT"),
            Mode::Json,
            &ask(&body),
        );
        assert_eq!(
            text(&r.pieces),
            r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":0,"totalTokenCount":0},"modelVersion":"gemini-x","createTime":"2025-01-01T00:00:00.000000Z","responseId":"r1"}"#
        );
        let ratings = json!([{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH"}]);
        let r = render(
            &Reply::blocked("SAFETY").safety_ratings(ratings.clone()),
            Mode::Sse,
            &ask(&body),
        );
        let all = text(&r.pieces);
        let data: Value =
            serde_json::from_str(all.strip_prefix("data: ").unwrap().trim_end()).unwrap();
        assert_eq!(
            data["candidates"][0],
            json!({"finishReason": "SAFETY", "safetyRatings": ratings})
        );
    }
}
