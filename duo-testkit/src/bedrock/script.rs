//! What [`FakeBedrock`](super::FakeBedrock) answers: scripted replies, errors and stream faults.

use std::time::Duration;

use serde_json::Value;

use super::errors::{ErrorReply, StreamException};

/// One scripted reply to one request (Converse or ConverseStream).
#[derive(Debug, Clone)]
pub enum Reply {
    /// A model answer: JSON for Converse, event-stream frames for ConverseStream.
    Answer(Answer),
    /// An HTTP error as Bedrock sends it (status, `x-amzn-ErrorType`, JSON body).
    Error(ErrorReply),
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Self {
        Self::Answer(answer)
    }
}

impl From<ErrorReply> for Reply {
    fn from(error: ErrorReply) -> Self {
        Self::Error(error)
    }
}

/// How a streamed answer ends early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Send the first `k` frames, then end the body cleanly (a truncated but well-formed stream).
    AfterFrames(usize),
    /// Send the first `k` frames and half of frame `k`, then end the body cleanly.
    MidFrame(usize),
    /// Send the first `k` frames, then abort the connection (no chunked-encoding terminator).
    Abort(usize),
}

/// A model answer and the faults to inject while sending it.
///
/// A streamed answer is the frame sequence Bedrock sends: `messageStart`, one
/// `contentBlockDelta` per chunk, `contentBlockStop`, `messageStop`, `metadata`. An answer
/// calling tools ([`Answer::tool_use`], [`and_tool_use`](Self::and_tool_use)) has, between
/// the text block (only when it has text, [`with_text`](Self::with_text)) and `messageStop`,
/// one block per tool use: `contentBlockStart`, one `contentBlockDelta` per piece of the
/// input's JSON text ([`with_input_pieces`](Self::with_input_pieces)), `contentBlockStop`.
/// Frame indices (for [`Cut`], [`corrupt_crc_of_frame`](Self::corrupt_crc_of_frame) and
/// [`exception_after_frames`](Self::exception_after_frames)) count from 0 in that order.
///
/// ```
/// use duo_testkit::bedrock::Answer;
/// use serde_json::json;
///
/// let tools = Answer::tool_use("tooluse_1", "get_weather", json!({"city": "Paris"}))
///     .and_tool_use("tooluse_2", "get_time", json!({}))
///     .with_text("Let me check.")
///     .with_usage(20, 12);
/// # let _ = tools;
/// ```
#[derive(Debug, Clone)]
pub struct Answer {
    /// The answer's text pieces: one `contentBlockDelta` frame each (joined for Converse).
    pub chunks: Vec<String>,
    /// The tools the answer calls, after its text (content blocks 1, 2, … after a text block,
    /// else 0, 1, …).
    pub tool_uses: Vec<ToolUse>,
    /// In how many `contentBlockDelta` frames each tool use's input JSON is streamed (at least
    /// 1; fewer when the JSON text is shorter).
    pub input_pieces: usize,
    /// Bedrock's `stopReason` (`end_turn`, `tool_use`, `max_tokens`, `stop_sequence`,
    /// `guardrail_intervened`, `content_filtered`, …).
    pub stop_reason: String,
    /// `usage.inputTokens`.
    pub input_tokens: u32,
    /// `usage.outputTokens`.
    pub output_tokens: u32,
    /// Wait this long before sending the response headers.
    pub first_byte_delay: Duration,
    /// Wait this long before each frame of a stream.
    pub frame_delay: Duration,
    /// End the stream early (ConverseStream); truncate the JSON body (Converse).
    pub cut: Option<Cut>,
    /// Flip a bit of this frame's message CRC.
    pub corrupt_frame: Option<usize>,
    /// After this many frames, send this exception frame and end the stream.
    pub exception: Option<(usize, StreamException)>,
    /// The guardrail assessment sent as `trace.guardrail` (Converse: in the answer; ConverseStream:
    /// in the `metadata` event), only to a request whose `guardrailConfig` has `trace` enabled
    /// (`enabled` or `enabled_full`), as Bedrock does.
    pub guardrail_trace: Option<Value>,
}

impl Answer {
    /// An answer sent as one chunk.
    pub fn text(text: impl Into<String>) -> Self {
        Self::chunks([text.into()])
    }

    /// An answer sent as these chunks, one `contentBlockDelta` each.
    pub fn chunks<I, S>(chunks: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            chunks: chunks.into_iter().map(Into::into).collect(),
            tool_uses: Vec::new(),
            input_pieces: Self::INPUT_PIECES,
            stop_reason: "end_turn".into(),
            input_tokens: 11,
            output_tokens: 7,
            first_byte_delay: Duration::ZERO,
            frame_delay: Duration::ZERO,
            cut: None,
            corrupt_frame: None,
            exception: None,
            guardrail_trace: None,
        }
    }

    /// The key of [`default_guardrail_assessment`](Self::default_guardrail_assessment)'s
    /// `inputAssessment` (Bedrock keys assessments by the guardrail's id).
    pub const GUARDRAIL_ID: &'static str = "fakeguardrail1";

    /// What Bedrock answers when a guardrail intervenes: 200, the guardrail's blocked-input
    /// message as the text (`text`), `stopReason` `guardrail_intervened`, and (to a request
    /// with `trace` enabled) [`default_guardrail_assessment`](Self::default_guardrail_assessment)
    /// as `trace.guardrail`.
    pub fn guardrail_intervened(text: impl Into<String>) -> Self {
        Self::text(text)
            .with_stop_reason("guardrail_intervened")
            .with_guardrail_trace(Self::default_guardrail_assessment())
    }

    /// A `GuardrailTraceAssessment`: the input blocked by a denied topic.
    ///
    /// ```text
    /// {"actionReason":"Guardrail blocked.","modelOutput":[],
    ///  "inputAssessment":{"fakeguardrail1":{"topicPolicy":{"topics":[
    ///    {"name":"Investment advice","type":"DENY","action":"BLOCKED","detected":true}]}}}}
    /// ```
    #[must_use]
    pub fn default_guardrail_assessment() -> Value {
        serde_json::json!({
            "actionReason": "Guardrail blocked.",
            "modelOutput": [],
            "inputAssessment": {
                Self::GUARDRAIL_ID: {
                    "topicPolicy": {
                        "topics": [{
                            "name": "Investment advice",
                            "type": "DENY",
                            "action": "BLOCKED",
                            "detected": true,
                        }],
                    },
                },
            },
        })
    }

    /// Sets the `trace.guardrail` assessment sent to requests with `trace` enabled.
    #[must_use]
    pub fn with_guardrail_trace(mut self, assessment: Value) -> Self {
        self.guardrail_trace = Some(assessment);
        self
    }

    /// The default of [`input_pieces`](Self::input_pieces).
    pub const INPUT_PIECES: usize = 3;

    /// An answer calling tool `name` with `input` under the id `tool_use_id`: no text,
    /// `stopReason` `tool_use`.
    pub fn tool_use(tool_use_id: impl Into<String>, name: impl Into<String>, input: Value) -> Self {
        Self::chunks(Vec::<String>::new()).and_tool_use(tool_use_id, name, input)
    }

    /// Adds another tool use after the answer's blocks (parallel tool use); a `stopReason` still
    /// `end_turn` becomes `tool_use` ([`with_stop_reason`](Self::with_stop_reason) after this
    /// one sets another).
    #[must_use]
    pub fn and_tool_use(
        mut self,
        tool_use_id: impl Into<String>,
        name: impl Into<String>,
        input: Value,
    ) -> Self {
        self.tool_uses.push(ToolUse {
            tool_use_id: tool_use_id.into(),
            name: name.into(),
            input,
        });
        if self.stop_reason == "end_turn" {
            self.stop_reason = "tool_use".into();
        }
        self
    }

    /// Sets the text, sent as one chunk in the text block before the tool uses (for several
    /// chunks, start from [`Answer::chunks`] and add the tool uses).
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.chunks = vec![text.into()];
        self
    }

    /// Streams each tool use's input JSON in `n` `contentBlockDelta` frames (default
    /// [`INPUT_PIECES`](Self::INPUT_PIECES)).
    #[must_use]
    pub fn with_input_pieces(mut self, n: usize) -> Self {
        self.input_pieces = n.max(1);
        self
    }

    /// The whole text, as Converse returns it.
    #[must_use]
    pub fn joined(&self) -> String {
        self.chunks.concat()
    }

    /// Whether the answer has a text block: always without tool uses (even when empty), with
    /// them only when the text is not empty.
    #[must_use]
    pub fn has_text_block(&self) -> bool {
        self.tool_uses.is_empty() || self.chunks.iter().any(|c| !c.is_empty())
    }

    /// Sets the token counts reported in `usage`.
    #[must_use]
    pub fn with_usage(mut self, input_tokens: u32, output_tokens: u32) -> Self {
        self.input_tokens = input_tokens;
        self.output_tokens = output_tokens;
        self
    }

    /// Sets the `stopReason`.
    #[must_use]
    pub fn with_stop_reason(mut self, reason: impl Into<String>) -> Self {
        self.stop_reason = reason.into();
        self
    }

    /// Delays the response headers.
    #[must_use]
    pub fn delay_first_byte(mut self, delay: Duration) -> Self {
        self.first_byte_delay = delay;
        self
    }

    /// Delays every frame of a stream.
    #[must_use]
    pub fn delay_frames(mut self, delay: Duration) -> Self {
        self.frame_delay = delay;
        self
    }

    /// Ends the answer early.
    #[must_use]
    pub fn cut(mut self, cut: Cut) -> Self {
        self.cut = Some(cut);
        self
    }

    /// Corrupts the message CRC of frame `index`.
    #[must_use]
    pub fn corrupt_crc_of_frame(mut self, index: usize) -> Self {
        self.corrupt_frame = Some(index);
        self
    }

    /// Sends `exception` after `frames` frames and ends the stream.
    #[must_use]
    pub fn exception_after_frames(mut self, frames: usize, exception: StreamException) -> Self {
        self.exception = Some((frames, exception));
        self
    }
}

/// A tool the model asks to run: a `toolUse` content block.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    /// `toolUseId`, which the client echoes in its `toolResult`.
    pub tool_use_id: String,
    /// The tool's `name`.
    pub name: String,
    /// The tool's `input` (a JSON object for Converse; its JSON text, in pieces, when streamed).
    pub input: Value,
}

impl ToolUse {
    /// The input's JSON text, as ConverseStream streams it.
    #[must_use]
    pub fn input_json(&self) -> String {
        self.input.to_string()
    }
}
