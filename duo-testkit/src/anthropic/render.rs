//! Renders a [`Reply`] as the bytes Anthropic's Messages API would send.

use bytes::Bytes;
use serde_json::Value;

use super::reply::{Block, Fault, Kind, Message, Reply};
use super::wire::{error_body, error_object, obj, s, split_chunks};

/// The content type of a streamed answer.
pub(crate) const SSE_CONTENT_TYPE: &str = "text/event-stream; charset=utf-8";

/// What the fake needs to know about the request to shape its answer.
#[derive(Debug, Clone)]
pub(crate) struct Ask<'a> {
    /// The request body (`Value::Null` when it was not JSON).
    pub body: &'a Value,
    /// The `model` to echo.
    pub model: &'a str,
    /// The `msg_…` id of the answer.
    pub message_id: &'a str,
    /// The `req_…` id of the answer, in error bodies.
    pub request_id: &'a str,
}

/// One write of the response body, or the order to drop the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Bytes(Bytes),
    Abort,
}

/// A response ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub status: u16,
    pub content_type: String,
    pub pieces: Vec<Piece>,
}

impl Rendered {
    /// A one-piece JSON response.
    pub(crate) fn json(status: u16, body: String) -> Self {
        Self {
            status,
            content_type: "application/json".into(),
            pieces: vec![Piece::Bytes(Bytes::from(body))],
        }
    }
}

pub(crate) fn render(reply: &Reply, ask: &Ask<'_>) -> Rendered {
    match &reply.kind {
        Kind::Error {
            status,
            error_type,
            message,
        } => Rendered::json(*status, error_body(error_type, message, ask.request_id)),
        Kind::Raw {
            status,
            content_type,
            pieces,
        } => Rendered {
            status: *status,
            content_type: content_type.clone(),
            pieces: pieces.iter().cloned().map(Piece::Bytes).collect(),
        },
        Kind::Message(m) if ask.body.get("stream").and_then(Value::as_bool) == Some(true) => {
            Rendered {
                status: 200,
                content_type: SSE_CONTENT_TYPE.into(),
                pieces: stream(m, ask),
            }
        }
        Kind::Message(m) => Rendered::json(200, full_message(m, ask)),
    }
}

/// Each block with its input JSON (empty for text) and the pieces it streams as deltas: its
/// text, or its input's JSON.
fn blocks_with_deltas(m: &Message) -> Vec<(&Block, String, Vec<String>)> {
    m.blocks
        .iter()
        .map(|block| {
            let (json, deltas) = match block {
                Block::Text(t) => (String::new(), owned(split_chunks(t, m.chunks))),
                Block::ToolUse { input, .. } => {
                    let json = input.to_string();
                    let deltas = owned(split_chunks(&json, m.chunks));
                    (json, deltas)
                }
            };
            (block, json, deltas)
        })
        .collect()
}

fn owned(pieces: Vec<&str>) -> Vec<String> {
    pieces.into_iter().map(str::to_owned).collect()
}

/// `(input_tokens, output_tokens)` reported for `m`.
fn usage(m: &Message, body: &Value, deltas: usize) -> (u32, u32) {
    m.usage.unwrap_or_else(|| {
        (
            prompt_words(body),
            u32::try_from(deltas).unwrap_or(u32::MAX),
        )
    })
}

/// Words of the request's `system` and `messages` text: the fake's stand-in for a token count.
fn prompt_words(body: &Value) -> u32 {
    fn words(content: Option<&Value>) -> usize {
        match content {
            Some(Value::String(s)) => s.split_whitespace().count(),
            Some(Value::Array(blocks)) => blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .map(|t| t.split_whitespace().count())
                .sum(),
            _ => 0,
        }
    }
    let mut total = words(body.get("system"));
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        total += messages
            .iter()
            .map(|m| words(m.get("content")))
            .sum::<usize>();
    }
    u32::try_from(total).unwrap_or(u32::MAX)
}

fn usage_object(input: u32, output: u32) -> String {
    obj(&[
        ("input_tokens", &input.to_string()),
        ("output_tokens", &output.to_string()),
    ])
}

/// The message object around `content`.
fn message_object(ask: &Ask<'_>, content: &str, stop: (&str, &str), usage: &str) -> String {
    obj(&[
        ("id", &s(ask.message_id)),
        ("type", r#""message""#),
        ("role", r#""assistant""#),
        ("model", &s(ask.model)),
        ("content", content),
        ("stop_reason", stop.0),
        ("stop_sequence", stop.1),
        ("usage", usage),
    ])
}

fn stop_sequence(m: &Message) -> String {
    m.stop_sequence.as_deref().map_or_else(|| "null".into(), s)
}

fn full_message(m: &Message, ask: &Ask<'_>) -> String {
    let blocks = blocks_with_deltas(m);
    let deltas = blocks.iter().map(|(_, _, d)| d.len()).sum();
    let content: Vec<String> = blocks
        .iter()
        .map(|(block, json, _)| match block {
            Block::Text(text) => obj(&[("type", r#""text""#), ("text", &s(text))]),
            Block::ToolUse { id, name, .. } => obj(&[
                ("type", r#""tool_use""#),
                ("id", &s(id)),
                ("name", &s(name)),
                ("input", json),
            ]),
        })
        .collect();
    let (input, output) = usage(m, ask.body, deltas);
    let content = format!("[{}]", content.join(","));
    let stop = (s(m.stop_reason()), stop_sequence(m));
    message_object(
        ask,
        &content,
        (&stop.0, &stop.1),
        &usage_object(input, output),
    )
}

/// One SSE event.
fn event(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The body pieces of a stream being built: piece `i` carries delta `i` (with the events
/// before it), so a chunk delay separates deltas as a slow model would.
#[derive(Default)]
struct Pieces {
    done: Vec<Piece>,
    current: String,
    deltas: usize,
}

impl Pieces {
    fn push(&mut self, event: &str) {
        self.current.push_str(event);
    }

    fn delta(&mut self, event: &str) {
        if self.deltas > 0 {
            self.flush();
        }
        self.deltas += 1;
        self.push(event);
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            let text = std::mem::take(&mut self.current);
            self.done.push(Piece::Bytes(Bytes::from(text)));
        }
    }

    /// Ends the stream with `fault`.
    fn fail(mut self, fault: &Fault) -> Vec<Piece> {
        self.flush();
        match fault {
            Fault::Error {
                error_type,
                message,
                ..
            } => {
                let data = error_object(error_type, message, None);
                self.done
                    .push(Piece::Bytes(Bytes::from(event("error", &data))));
            }
            Fault::End { .. } => {}
            Fault::Abort { .. } => self.done.push(Piece::Abort),
        }
        self.done
    }

    fn finish(mut self) -> Vec<Piece> {
        self.flush();
        self.done
    }
}

fn stream(m: &Message, ask: &Ask<'_>) -> Vec<Piece> {
    let blocks = blocks_with_deltas(m);
    let total: usize = blocks.iter().map(|(_, _, d)| d.len()).sum();
    let (input, output) = usage(m, ask.body, total);
    let fault = m.fault.as_ref().map(|f| (f.after().min(total), f));
    let mut out = Pieces::default();

    let start = message_object(ask, "[]", ("null", "null"), &usage_object(input, 1));
    out.push(&event(
        "message_start",
        &obj(&[("type", r#""message_start""#), ("message", &start)]),
    ));
    for (index, (block, _, deltas)) in blocks.iter().enumerate() {
        let i = index.to_string();
        let content_block = match block {
            Block::Text(_) => obj(&[("type", r#""text""#), ("text", r#""""#)]),
            Block::ToolUse { id, name, .. } => obj(&[
                ("type", r#""tool_use""#),
                ("id", &s(id)),
                ("name", &s(name)),
                ("input", "{}"),
            ]),
        };
        let block_start = obj(&[
            ("type", r#""content_block_start""#),
            ("index", &i),
            ("content_block", &content_block),
        ]);
        out.push(&event("content_block_start", &block_start));
        if index == 0 {
            out.push(&event("ping", r#"{"type":"ping"}"#));
        }
        for text in deltas {
            if let Some((0, f)) = fault.filter(|_| out.deltas == 0) {
                return out.fail(f);
            }
            let delta = match block {
                Block::Text(_) => obj(&[("type", r#""text_delta""#), ("text", &s(text))]),
                Block::ToolUse { .. } => obj(&[
                    ("type", r#""input_json_delta""#),
                    ("partial_json", &s(text)),
                ]),
            };
            let data = obj(&[
                ("type", r#""content_block_delta""#),
                ("index", &i),
                ("delta", &delta),
            ]);
            out.delta(&event("content_block_delta", &data));
            if let Some((_, f)) = fault.filter(|(k, _)| *k == out.deltas) {
                return out.fail(f);
            }
        }
        let stop = obj(&[("type", r#""content_block_stop""#), ("index", &i)]);
        out.push(&event("content_block_stop", &stop));
    }
    let delta = obj(&[
        ("stop_reason", &s(m.stop_reason())),
        ("stop_sequence", &stop_sequence(m)),
    ]);
    let usage = obj(&[("output_tokens", &output.to_string())]);
    let message_delta = obj(&[
        ("type", r#""message_delta""#),
        ("delta", &delta),
        ("usage", &usage),
    ]);
    out.push(&event("message_delta", &message_delta));
    out.push(&event("message_stop", r#"{"type":"message_stop"}"#));
    out.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
            model: "claude-x",
            message_id: "msg_1",
            request_id: "req_1",
        }
    }

    #[test]
    fn one_piece_per_delta_and_faults_end_the_stream() {
        let body = json!({"stream": true});
        let r = render(&Reply::text("abcd").chunks(4), &ask(&body));
        assert_eq!(r.pieces.len(), 4);
        assert!(
            text(&r.pieces).ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
        );

        let cut = render(&Reply::text("abcd").chunks(4).cut_after(2), &ask(&body));
        assert_eq!(cut.pieces.len(), 2);
        assert!(!text(&cut.pieces).contains("content_block_stop"));

        let abort = render(&Reply::text("abcd").chunks(4).abort_after(9), &ask(&body));
        assert_eq!(abort.pieces.last(), Some(&Piece::Abort));
        assert_eq!(
            text(&abort.pieces).matches("content_block_delta\n").count(),
            4
        );

        let err = render(
            &Reply::text("ab")
                .chunks(2)
                .stream_error_after(0, "api_error", "boom"),
            &ask(&body),
        );
        let all = text(&err.pieces);
        assert!(!all.contains("content_block_delta"), "{all}");
        assert!(all.ends_with("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n"));
    }

    #[test]
    fn default_usage_counts_prompt_words_and_deltas() {
        let body = json!({"system": [{"type": "text", "text": "be brief"}],
            "messages": [{"role": "user", "content": "one two three"},
                         {"role": "user", "content": [{"type": "text", "text": "four"}]}]});
        let r = render(&Reply::text("hello").chunks(2), &ask(&body));
        assert!(text(&r.pieces).ends_with(r#""usage":{"input_tokens":6,"output_tokens":2}}"#));
    }
}
