//! [`Reply`]: what the fake answers to one request, built step by step.

use std::time::Duration;

use bytes::Bytes;

/// One scripted answer of [`FakeOpenAi`](super::FakeOpenAi).
///
/// An answer ([`Reply::answer`], [`Reply::tool_call`]) is rendered in the shape the request
/// asks for: JSON when the request body has no `"stream": true`, SSE otherwise; `text` choices
/// on `/completions`, `message`/`delta` choices on `/chat/completions`; vLLM/OpenAI or Azure
/// flavour by route; a model list on `GET /v1/models`. Errors and raw bodies are sent as given.
///
/// A tool-call answer works with every answer modifier: [`chunks`](Self::chunks) splits the
/// text and each call's `arguments`, [`usage`](Self::usage) and
/// [`finish_reason`](Self::finish_reason) set what they say, and the stream faults
/// ([`cut_after`](Self::cut_after), [`end_after`](Self::end_after),
/// [`bad_json_at`](Self::bad_json_at)) count the text chunks, each call's opening chunk and
/// its argument pieces alike, in the order they are sent. On `/completions`, which has no
/// tools, only its text is sent.
///
/// ```
/// use std::time::Duration;
/// use duo_testkit::openai::Reply;
///
/// let streamed = Reply::answer("hello world").chunks(3).chunk_delay(Duration::from_millis(5));
/// let broken = Reply::answer("hello world").chunks(4).cut_after(2);
/// let limited = Reply::status(429).retry_after("1");
/// let tools = Reply::tool_call("call_1", "get_weather", r#"{"city":"Paris"}"#)
///     .and_tool_call("call_2", "get_time", r#"{"tz":"CET"}"#)
///     .with_text("Let me check.");
/// # let _ = (streamed, broken, limited, tools);
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) kind: ReplyKind,
    pub(crate) first_byte_delay: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) enum ReplyKind {
    Answer(Answer),
    /// An error status; `body` `None` renders the flavour's standard error body.
    Error {
        status: u16,
        body: Option<String>,
    },
    Raw {
        status: u16,
        content_type: String,
        pieces: Vec<Bytes>,
    },
}

/// A successful answer and the faults to inject into its stream.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The answer text (before the tool calls, if any).
    pub text: String,
    /// Function calls the answer makes, in order (`index` 0, 1, … when streamed).
    pub tool_calls: Vec<ToolCall>,
    pub chunks: usize,
    /// `None`: `tool_calls` when the answer calls a tool, `stop` otherwise.
    pub finish_reason: Option<String>,
    pub usage: Option<(u32, u32)>,
    pub fault: Option<StreamFault>,
    pub keep_alive: bool,
    pub crlf: bool,
}

impl Answer {
    /// The `finish_reason` sent.
    pub(crate) fn finish_reason(&self) -> &str {
        match &self.finish_reason {
            Some(reason) => reason,
            None if !self.tool_calls.is_empty() => "tool_calls",
            None => "stop",
        }
    }
}

/// One function call of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolCall {
    /// The call's id (`call_…`), which the client echoes as the `tool` message's `tool_call_id`.
    pub id: String,
    pub name: String,
    /// The arguments as JSON text, sent as they are (a string, as OpenAI sends them).
    pub arguments: String,
}

/// How a streamed answer goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamFault {
    /// Abort the connection after this many content chunks.
    Cut(usize),
    /// End the body cleanly after this many content chunks, without finish or `[DONE]`.
    End(usize),
    /// Replace content chunk `n` (0-based) with invalid JSON.
    BadJson(usize),
}

impl Reply {
    fn new(kind: ReplyKind) -> Self {
        Self {
            kind,
            first_byte_delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    /// A successful answer with `text` (one chunk when streamed, `finish_reason` `stop`).
    pub fn answer(text: impl Into<String>) -> Self {
        Self::new(ReplyKind::Answer(Answer {
            text: text.into(),
            tool_calls: Vec::new(),
            chunks: 1,
            finish_reason: None,
            usage: None,
            fault: None,
            keep_alive: false,
            crlf: false,
        }))
    }

    /// An answer calling function `name` with `arguments` (JSON text, sent as it is) under the
    /// call id `id`: no text, `finish_reason` `tool_calls`, and when streamed the arguments in
    /// [`TOOL_CALL_CHUNKS`](Self::TOOL_CALL_CHUNKS) pieces unless [`chunks`](Self::chunks) says
    /// otherwise.
    pub fn tool_call(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self::answer("")
            .chunks(Self::TOOL_CALL_CHUNKS)
            .and_tool_call(id, name, arguments)
    }

    /// How many pieces a [`Reply::tool_call`] streams each text and each call's arguments in.
    pub const TOOL_CALL_CHUNKS: usize = 3;

    /// Adds another function call after the answer's calls (parallel tool calls); on an answer
    /// without calls, its `finish_reason` becomes `tool_calls` unless set. Only for answers.
    #[must_use]
    pub fn and_tool_call(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        if let Some(a) = self.answer_mut() {
            a.tool_calls.push(ToolCall {
                id: id.into(),
                name: name.into(),
                arguments: arguments.into(),
            });
        }
        self
    }

    /// Sets the answer's text, sent before its tool calls (a tool-call answer has none by
    /// default). Only for answers.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        if let Some(a) = self.answer_mut() {
            a.text = text.into();
        }
        self
    }

    /// The same as [`Reply::answer`]: whether it streams is up to the request's `stream` flag.
    pub fn stream(text: impl Into<String>) -> Self {
        Self::answer(text)
    }

    /// An error `status` with the flavour's standard error body (OpenAI's
    /// `{"error": {"message", "type", "param", "code"}}`, Azure's `{"error": {"code", "message"}}`).
    pub fn status(status: u16) -> Self {
        Self::new(ReplyKind::Error { status, body: None })
    }

    /// An error `status` with exactly `body` (served as `application/json`).
    pub fn error(status: u16, body: impl Into<String>) -> Self {
        Self::new(ReplyKind::Error {
            status,
            body: Some(body.into()),
        })
    }

    /// Azure's answer to a prompt its content filter refused: 400 with `"code": "content_filter"`
    /// and an `innererror` naming the category (`violence`, severity `medium`).
    pub fn content_filter() -> Self {
        Self::error(400, super::render::CONTENT_FILTER_BODY)
    }

    /// A body of raw pieces, written one after the other (with [`chunk_delay`](Self::chunk_delay)
    /// between them): for malformed SSE, split UTF-8 and other byte-level cases.
    pub fn raw(status: u16, content_type: impl Into<String>, pieces: Vec<Bytes>) -> Self {
        Self::new(ReplyKind::Raw {
            status,
            content_type: content_type.into(),
            pieces,
        })
    }

    /// [`Reply::raw`] with status 200 and `text/event-stream`, from string pieces.
    pub fn raw_sse<I, S>(pieces: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Vec<u8>>,
    {
        let pieces = pieces.into_iter().map(|p| Bytes::from(p.into())).collect();
        Self::raw(200, "text/event-stream; charset=utf-8", pieces)
    }

    fn answer_mut(&mut self) -> Option<&mut Answer> {
        match &mut self.kind {
            ReplyKind::Answer(a) => Some(a),
            _ => None,
        }
    }

    /// Splits the answer's text, and each tool call's `arguments`, into `n` chunks of about equal
    /// length in characters (at least 1; fewer when shorter). Only for answers.
    #[must_use]
    pub fn chunks(mut self, n: usize) -> Self {
        if let Some(a) = self.answer_mut() {
            a.chunks = n.max(1);
        }
        self
    }

    /// The `finish_reason` the answer ends with (default `stop`, or `tool_calls` when it calls a
    /// tool).
    #[must_use]
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        if let Some(a) = self.answer_mut() {
            a.finish_reason = Some(reason.into());
        }
        self
    }

    /// The usage reported (default: prompt tokens = words of the prompt, completion tokens =
    /// number of content chunks, tool-call chunks included).
    #[must_use]
    pub fn usage(mut self, prompt_tokens: u32, completion_tokens: u32) -> Self {
        if let Some(a) = self.answer_mut() {
            a.usage = Some((prompt_tokens, completion_tokens));
        }
        self
    }

    /// Drops the connection (no terminating chunk, no `[DONE]`) after `k` content chunks.
    #[must_use]
    pub fn cut_after(mut self, k: usize) -> Self {
        if let Some(a) = self.answer_mut() {
            a.fault = Some(StreamFault::Cut(k));
        }
        self
    }

    /// Ends the body cleanly after `k` content chunks, without a finish reason or `[DONE]`.
    #[must_use]
    pub fn end_after(mut self, k: usize) -> Self {
        if let Some(a) = self.answer_mut() {
            a.fault = Some(StreamFault::End(k));
        }
        self
    }

    /// Sends content chunk `k` (0-based) as `data: ` followed by invalid JSON.
    #[must_use]
    pub fn bad_json_at(mut self, k: usize) -> Self {
        if let Some(a) = self.answer_mut() {
            a.fault = Some(StreamFault::BadJson(k));
        }
        self
    }

    /// Sends an SSE comment (`: keep-alive`) before every event, as proxies do.
    #[must_use]
    pub fn keep_alive_comments(mut self) -> Self {
        if let Some(a) = self.answer_mut() {
            a.keep_alive = true;
        }
        self
    }

    /// Ends SSE lines with `\r\n` instead of `\n`.
    #[must_use]
    pub fn crlf(mut self) -> Self {
        if let Some(a) = self.answer_mut() {
            a.crlf = true;
        }
        self
    }

    /// Waits `delay` before sending the status line and headers.
    #[must_use]
    pub fn first_byte_delay(mut self, delay: Duration) -> Self {
        self.first_byte_delay = delay;
        self
    }

    /// Waits `delay` between two streamed chunks (or raw pieces); not before the first.
    #[must_use]
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a `Retry-After` header (seconds or an HTTP date, as given).
    #[must_use]
    pub fn retry_after(self, value: impl Into<String>) -> Self {
        self.header("retry-after", value)
    }
}

/// Splits `text` into at most `n` pieces of about equal length, at character boundaries.
pub(crate) fn split_chunks(text: &str, n: usize) -> Vec<&str> {
    let chars: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let len = chars.len();
    if len == 0 {
        return vec![text];
    }
    let n = n.clamp(1, len);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for i in 1..=n {
        let end_char = i * len / n;
        let end = chars.get(end_char).copied().unwrap_or(text.len());
        out.push(&text[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_chunks_keeps_all_text_and_char_boundaries() {
        assert_eq!(split_chunks("hello world", 3), vec!["hel", "lo w", "orld"]);
        assert_eq!(split_chunks("héé", 2).concat(), "héé");
        assert_eq!(split_chunks("ab", 5), vec!["a", "b"]);
        assert_eq!(split_chunks("", 3), vec![""]);
    }

    fn answer(reply: Reply) -> Answer {
        match reply.kind {
            ReplyKind::Answer(a) => a,
            _ => panic!("not an answer"),
        }
    }

    #[test]
    fn tool_calls_finish_with_tool_calls_unless_told_otherwise() {
        let one = answer(Reply::tool_call("c1", "f", "{}"));
        assert_eq!(one.finish_reason(), "tool_calls");
        assert_eq!(one.text, "");
        assert_eq!(one.chunks, Reply::TOOL_CALL_CHUNKS);
        let two = answer(
            Reply::tool_call("c1", "f", "{}")
                .and_tool_call("c2", "g", "[]")
                .with_text("hi")
                .finish_reason("length"),
        );
        assert_eq!(two.finish_reason(), "length");
        assert_eq!((two.text.as_str(), two.tool_calls.len()), ("hi", 2));
        let added = answer(Reply::answer("x").and_tool_call("c1", "f", "{}"));
        assert_eq!(added.finish_reason(), "tool_calls");
        assert_eq!(answer(Reply::answer("x")).finish_reason(), "stop");
        assert!(matches!(
            Reply::status(500)
                .with_text("x")
                .and_tool_call("c", "f", "{}")
                .kind,
            ReplyKind::Error { .. }
        ));
    }
}
