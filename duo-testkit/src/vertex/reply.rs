//! [`Reply`]: what the fake answers to one Gemini request, built step by step.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

/// One scripted Gemini answer of [`FakeVertex`](super::FakeVertex).
///
/// Content ([`Reply::text`], [`Reply::function_call`], [`Reply::blocked`],
/// [`Reply::prompt_blocked`]) is rendered in the shape the request asked for: one
/// `GenerateContentResponse` for `:generateContent`, SSE `data:` events for
/// `:streamGenerateContent?alt=sse`, a JSON array of responses for `:streamGenerateContent`
/// without it. The stream faults ([`stream_error_after`](Self::stream_error_after),
/// [`cut_after`](Self::cut_after), [`abort_after`](Self::abort_after)) only touch streams.
/// Errors ([`Reply::status`], [`Reply::error`]) and raw bodies ([`Reply::raw_sse`],
/// [`Reply::raw`]) are sent as they are, whatever was asked.
///
/// ```
/// use std::time::Duration;
/// use duo_testkit::vertex::Reply;
/// use serde_json::json;
///
/// let streamed = Reply::text("Hello there").chunks(["Hel", "lo ", "there"]).usage(7, 3);
/// let calls = Reply::function_call("get_weather", json!({"city": "Paris"}))
///     .and_function_call("get_time", json!({"tz": "CET"}));
/// let truncated = Reply::text("never finished").finish_reason("MAX_TOKENS").cut_after(1);
/// let slow = Reply::text("a b c").split_into(3).delay_before_each(Duration::from_millis(5));
/// let limited = Reply::status(429).message("Quota exceeded.");
/// # let _ = (streamed, calls, truncated, slow, limited);
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) kind: Kind,
    /// Waited before each piece of the body (each streamed chunk, or the one JSON body).
    pub(crate) delay: Duration,
    pub(crate) headers: Vec<(String, String)>,
}

/// What a [`Reply`] is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Content(Content),
    /// `{"error":{"code":…,"message":…,"status":…}}` with status `code`.
    Error(GoogleError),
    /// A body sent as it is.
    Raw {
        status: u16,
        content_type: String,
        pieces: Vec<Bytes>,
    },
}

/// A Google API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GoogleError {
    pub code: u16,
    pub status: String,
    pub message: String,
}

impl GoogleError {
    /// The error Google sends with HTTP status `code`, in its words.
    pub(crate) fn standard(code: u16) -> Self {
        let (status, message) = match code {
            400 => ("INVALID_ARGUMENT", "Request contains an invalid argument."),
            401 => ("UNAUTHENTICATED", super::server::UNAUTHENTICATED_MESSAGE),
            403 => (
                "PERMISSION_DENIED",
                "Permission 'aiplatform.endpoints.predict' denied on resource (or it may not exist).",
            ),
            404 => ("NOT_FOUND", "Requested entity was not found."),
            409 => ("ABORTED", "The operation was aborted."),
            429 => (
                "RESOURCE_EXHAUSTED",
                "Resource exhausted. Please try again later. Please refer to \
                 https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
            ),
            499 => ("CANCELLED", "The operation was cancelled."),
            500 => ("INTERNAL", "Internal error encountered."),
            501 => (
                "UNIMPLEMENTED",
                "Operation is not implemented, or supported, or enabled.",
            ),
            503 => ("UNAVAILABLE", "The service is currently unavailable."),
            504 => (
                "DEADLINE_EXCEEDED",
                "Deadline expired before operation could complete.",
            ),
            _ => ("UNKNOWN", "Unknown error."),
        };
        Self {
            code,
            status: status.into(),
            message: message.into(),
        }
    }
}

/// A successful answer and the faults to inject into its stream.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    /// The text part, if any (before the function calls).
    pub text: Option<String>,
    pub chunking: Chunking,
    /// `(name, args)` of each function call part.
    pub calls: Vec<(String, Value)>,
    pub finish_reason: String,
    /// `(promptTokenCount, candidatesTokenCount)`; `None`: words of the prompt, chunks sent.
    pub usage: Option<(u32, u32)>,
    pub safety_ratings: Option<Value>,
    /// `promptFeedback.blockReason`: the prompt was blocked, no candidate is sent.
    pub block_reason: Option<String>,
    pub fault: Option<Fault>,
}

/// How the text is split into streamed chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chunking {
    /// About equal pieces, at most this many.
    Even(usize),
    /// Exactly these pieces.
    Pieces(Vec<String>),
}

/// How a stream goes wrong after `after` chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A `data:` event (or array element) holding `{"error":{…}}`, then the body ends.
    Error { after: usize, error: GoogleError },
    /// The body ends cleanly, without `finishReason`.
    Cut { after: usize },
    /// The connection is dropped.
    Abort { after: usize },
}

impl Fault {
    /// After how many chunks the fault strikes.
    pub(crate) fn after(&self) -> usize {
        match self {
            Self::Error { after, .. } | Self::Cut { after } | Self::Abort { after } => *after,
        }
    }
}

impl Reply {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    fn content(text: Option<String>, calls: Vec<(String, Value)>, finish: &str) -> Self {
        Self::new(Kind::Content(Content {
            text,
            chunking: Chunking::Even(3),
            calls,
            finish_reason: finish.into(),
            usage: None,
            safety_ratings: None,
            block_reason: None,
            fault: None,
        }))
    }

    /// A model answer of one text part (`finishReason` `STOP`; streamed in up to 3 chunks of
    /// about equal length unless [`chunks`](Self::chunks) or [`split_into`](Self::split_into)
    /// say otherwise).
    pub fn text(text: impl Into<String>) -> Self {
        Self::content(Some(text.into()), Vec::new(), "STOP")
    }

    /// A model answer calling function `name` with `args`: a part
    /// `{"functionCall":{"name":…,"args":…}}`, whole in one chunk when streamed (Gemini sends no
    /// argument deltas), `finishReason` `STOP`.
    pub fn function_call(name: impl Into<String>, args: Value) -> Self {
        Self::content(None, vec![(name.into(), args)], "STOP")
    }

    /// A candidate without content, its `finishReason` `reason` (e.g. `SAFETY`, `RECITATION`,
    /// `PROHIBITED_CONTENT`, `BLOCKLIST`, `SPII`).
    pub fn blocked(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::content(None, Vec::new(), &reason)
    }

    /// A blocked prompt: no candidates, `promptFeedback: {"blockReason": reason}` (e.g.
    /// `PROHIBITED_CONTENT`, `SAFETY`, `BLOCKLIST`).
    pub fn prompt_blocked(reason: impl Into<String>) -> Self {
        let mut reply = Self::content(None, Vec::new(), "");
        if let Some(c) = reply.content_mut() {
            c.block_reason = Some(reason.into());
        }
        reply
    }

    /// An error answer, status `code`, `{"error":{"code":code,"message":message,"status":status}}`.
    pub fn error(code: u16, status: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Kind::Error(GoogleError {
            code,
            status: status.into(),
            message: message.into(),
        }))
    }

    /// [`Reply::error`] with the status name and message Google uses for `code` (400
    /// `INVALID_ARGUMENT`, 401 `UNAUTHENTICATED`, 403 `PERMISSION_DENIED`, 404 `NOT_FOUND`, 409
    /// `ABORTED`, 429 `RESOURCE_EXHAUSTED`, 499 `CANCELLED`, 500 `INTERNAL`, 501
    /// `UNIMPLEMENTED`, 503 `UNAVAILABLE`, 504 `DEADLINE_EXCEEDED`, others `UNKNOWN`).
    pub fn status(code: u16) -> Self {
        Self::new(Kind::Error(GoogleError::standard(code)))
    }

    /// Sets the `message` of an error reply (or of the error a
    /// [`stream_error_after`](Self::stream_error_after) sends).
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        match &mut self.kind {
            Kind::Error(e) => e.message = message.into(),
            Kind::Content(Content {
                fault: Some(Fault::Error { error, .. }),
                ..
            }) => error.message = message.into(),
            _ => {}
        }
        self
    }

    /// A `200 text/event-stream` body of exactly `text`: for hand-written or malformed streams.
    pub fn raw_sse(text: impl Into<Bytes>) -> Self {
        Self::raw(200, "text/event-stream", [text.into()])
    }

    /// A body of exactly these pieces, with `status` and `content_type`, written one after the
    /// other ([`delay_before_each`](Self::delay_before_each) before each).
    pub fn raw(
        status: u16,
        content_type: impl Into<String>,
        pieces: impl IntoIterator<Item = impl Into<Bytes>>,
    ) -> Self {
        Self::new(Kind::Raw {
            status,
            content_type: content_type.into(),
            pieces: pieces.into_iter().map(Into::into).collect(),
        })
    }

    fn content_mut(&mut self) -> Option<&mut Content> {
        match &mut self.kind {
            Kind::Content(c) => Some(c),
            _ => None,
        }
    }

    /// Adds another function call after the others (parallel calls; all in one chunk when
    /// streamed). Only for content.
    #[must_use]
    pub fn and_function_call(mut self, name: impl Into<String>, args: Value) -> Self {
        if let Some(c) = self.content_mut() {
            c.calls.push((name.into(), args));
        }
        self
    }

    /// Sets the text part sent before the function calls. Only for content.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        if let Some(c) = self.content_mut() {
            c.text = Some(text.into());
        }
        self
    }

    /// Streams the text as exactly these chunks (the text becomes their concatenation). Only
    /// for content.
    #[must_use]
    pub fn chunks(mut self, pieces: impl IntoIterator<Item = impl Into<String>>) -> Self {
        if let Some(c) = self.content_mut() {
            let pieces: Vec<String> = pieces.into_iter().map(Into::into).collect();
            c.text = Some(pieces.concat());
            c.chunking = Chunking::Pieces(pieces);
        }
        self
    }

    /// Streams the text as `n` chunks of about equal length, split on char boundaries (at
    /// least 1; fewer when shorter). Only for content.
    #[must_use]
    pub fn split_into(mut self, n: usize) -> Self {
        if let Some(c) = self.content_mut() {
            c.chunking = Chunking::Even(n.max(1));
        }
        self
    }

    /// The `finishReason` sent (default `STOP`), e.g. `MAX_TOKENS`, `SAFETY`, `RECITATION`,
    /// `PROHIBITED_CONTENT`, `MALFORMED_FUNCTION_CALL`. Only for content.
    #[must_use]
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        if let Some(c) = self.content_mut() {
            c.finish_reason = reason.into();
        }
        self
    }

    /// The `usageMetadata` counts (default: prompt tokens = words of the request's text
    /// parts, candidate tokens = chunks sent). Only for content.
    #[must_use]
    pub fn usage(mut self, prompt_tokens: u32, candidates_tokens: u32) -> Self {
        if let Some(c) = self.content_mut() {
            c.usage = Some((prompt_tokens, candidates_tokens));
        }
        self
    }

    /// The candidate's `safetyRatings` (a JSON array), sent with the finishing chunk. Only for
    /// content.
    #[must_use]
    pub fn safety_ratings(mut self, ratings: Value) -> Self {
        if let Some(c) = self.content_mut() {
            c.safety_ratings = Some(ratings);
        }
        self
    }

    fn fault(mut self, fault: Fault) -> Self {
        if let Some(c) = self.content_mut() {
            c.fault = Some(fault);
        }
        self
    }

    /// After `n` chunks (0: before the first; past the last: after it, in place of the
    /// finish) the stream sends `{"error":{"code":500,"message":"Internal error
    /// encountered.","status":"INTERNAL"}}` as its next event and ends. Only for streams.
    #[must_use]
    pub fn stream_error_after(self, n: usize) -> Self {
        self.stream_error(n, 500)
    }

    /// [`stream_error_after`](Self::stream_error_after) with the standard error of `code` (see
    /// [`Reply::status`]).
    #[must_use]
    pub fn stream_error(self, n: usize, code: u16) -> Self {
        self.fault(Fault::Error {
            after: n,
            error: GoogleError::standard(code),
        })
    }

    /// After `n` chunks the body ends cleanly, no chunk having carried a `finishReason` or
    /// `usageMetadata` (a JSON-array stream lacks its closing `]`). Only for streams.
    #[must_use]
    pub fn cut_after(self, n: usize) -> Self {
        self.fault(Fault::Cut { after: n })
    }

    /// After `n` chunks the connection is dropped (the client sees a broken body). Only for
    /// streams.
    #[must_use]
    pub fn abort_after(self, n: usize) -> Self {
        self.fault(Fault::Abort { after: n })
    }

    /// Waits `delay` before each streamed chunk (the first included), or before the body of a
    /// JSON answer.
    #[must_use]
    pub fn delay_before_each(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}
