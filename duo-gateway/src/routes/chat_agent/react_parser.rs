//! [`ReactParser`]: the model's ReAct output, pushed chunk by chunk, turned into [`AgentEvent`]s.
//!
//! A pure state machine: no I/O, no clock. Feeding the same output split at any points (even
//! inside a marker or a multi-byte character's neighbours) yields the same actions, the same
//! unknown text and the same concatenated final answer; only how the answer is cut into deltas
//! differs.
//!
//! The grammar, with markers found anywhere in the text (as GitLab's gateway does):
//!
//! ```text
//! output := thought ( "Action:" tool "Action Input:" input [ "Observation:" ignored ]
//!                   | "Final Answer:" answer )?
//! ```
//!
//! - `Final Answer:` wins wherever it appears before an `Observation:`: the answer after it is
//!   streamed as `final_answer_delta` events as it arrives, without its leading and trailing
//!   whitespace. The end of the stream adds one last delta carrying the `finish_reason`.
//! - A complete action (`Action:` … `Action Input:` …) becomes one `action` event when the
//!   model writes `Observation:` (it should stop there) or its output ends. The thought is the
//!   text before `Action:` without a leading `Thought:`; escaped underscores (`\_`) are
//!   unescaped in thought and tool name, and `MergeRequestReader` is read as
//!   `merge_request_reader` (older prompts taught that spelling).
//! - Anything else (plain text, an action without input) becomes one `unknown` event with the
//!   whole output, trimmed, when the output ends.

use super::wire::AgentEvent;

const ACTION: &str = "Action:";
const ACTION_INPUT: &str = "Action Input:";
const OBSERVATION: &str = "Observation:";
const FINAL_ANSWER: &str = "Final Answer:";
const THOUGHT: &str = "Thought:";
/// The longest marker's length in bytes: text nearer the end than this may still start one.
const LONGEST_MARKER: usize = 13;

/// Where the parser is in the output; positions are byte offsets into the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading the thought; looking for `Action:` or `Final Answer:`.
    Thought,
    /// Reading the tool name; looking for `Action Input:` or `Final Answer:`.
    Tool {
        thought_end: usize,
        tool_start: usize,
    },
    /// Reading the tool input; looking for `Observation:` or `Final Answer:`.
    Input {
        thought_end: usize,
        tool_start: usize,
        tool_end: usize,
        input_start: usize,
    },
    /// Streaming the final answer.
    Answer {
        /// Whether non-whitespace text was seen (leading whitespace is dropped).
        started: bool,
    },
    /// Finished (action emitted, or [`ReactParser::finish`] called): further text is ignored.
    Done,
}

/// The incremental ReAct output parser.
#[derive(Debug, Clone)]
pub struct ReactParser {
    /// The output so far, until the final answer starts (then it is no longer kept).
    buf: String,
    /// Markers are searched from here on: text before it holds none.
    scan: usize,
    phase: Phase,
    /// Trailing whitespace of the answer, sent only if more text follows it.
    held: String,
}

impl Default for ReactParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ReactParser {
    /// A parser at the start of an output.
    #[must_use]
    pub fn new() -> Self {
        Self {
            buf: String::new(),
            scan: 0,
            phase: Phase::Thought,
            held: String::new(),
        }
    }

    /// Feeds the next chunk of output; returns the events it completes (often none).
    pub fn push(&mut self, chunk: &str) -> Vec<AgentEvent> {
        let mut out = Vec::new();
        match self.phase {
            Phase::Done => {}
            Phase::Answer { .. } => self.answer(chunk, &mut out),
            Phase::Thought | Phase::Tool { .. } | Phase::Input { .. } => {
                self.buf.push_str(chunk);
                self.advance(&mut out);
            }
        }
        out
    }

    /// Ends the output: the pending action or unknown text, or the answer's last delta with
    /// `finish_reason`. The parser ignores anything pushed afterwards.
    pub fn finish(&mut self, finish_reason: Option<&str>) -> Vec<AgentEvent> {
        let event = match self.phase {
            Phase::Thought | Phase::Tool { .. } => Some(AgentEvent::Unknown {
                text: self.buf.trim().to_owned(),
            }),
            Phase::Input {
                thought_end,
                tool_start,
                tool_end,
                input_start,
            } => Some(self.action(
                thought_end,
                tool_start..tool_end,
                input_start..self.buf.len(),
            )),
            Phase::Answer { .. } => Some(AgentEvent::FinalAnswerDelta {
                text: String::new(),
                finish_reason: finish_reason.map(str::to_owned),
            }),
            Phase::Done => None,
        };
        self.phase = Phase::Done;
        self.buf = String::new();
        self.held = String::new();
        event.into_iter().collect()
    }

    /// Looks for the current phase's markers in the unscanned part of the buffer.
    fn advance(&mut self, out: &mut Vec<AgentEvent>) {
        loop {
            let markers: [&str; 2] = match self.phase {
                Phase::Thought => [ACTION, FINAL_ANSWER],
                Phase::Tool { .. } => [ACTION_INPUT, FINAL_ANSWER],
                Phase::Input { .. } => [OBSERVATION, FINAL_ANSWER],
                Phase::Answer { .. } | Phase::Done => return,
            };
            let Some((at, marker)) = earliest(&self.buf, self.scan, &markers) else {
                let safe = floor_char_boundary(
                    &self.buf,
                    self.buf.len().saturating_sub(LONGEST_MARKER - 1),
                );
                self.scan = self.scan.max(safe);
                return;
            };
            let after = at + marker.len();
            if marker == FINAL_ANSWER {
                let rest = self.buf.split_off(after);
                self.buf = String::new();
                self.phase = Phase::Answer { started: false };
                self.answer(&rest, out);
                return;
            }
            self.phase = match self.phase {
                Phase::Thought => Phase::Tool {
                    thought_end: at,
                    tool_start: after,
                },
                Phase::Tool {
                    thought_end,
                    tool_start,
                } => Phase::Input {
                    thought_end,
                    tool_start,
                    tool_end: at,
                    input_start: after,
                },
                Phase::Input {
                    thought_end,
                    tool_start,
                    tool_end,
                    input_start,
                } => {
                    out.push(self.action(thought_end, tool_start..tool_end, input_start..at));
                    self.buf = String::new();
                    Phase::Done
                }
                other => other,
            };
            self.scan = after;
        }
    }

    /// Streams answer text: leading whitespace dropped, trailing whitespace held back.
    fn answer(&mut self, text: &str, out: &mut Vec<AgentEvent>) {
        let Phase::Answer { started } = &mut self.phase else {
            return;
        };
        let mut text = text;
        if !*started {
            text = text.trim_start();
            if text.is_empty() {
                return;
            }
            *started = true;
        }
        let end = text.trim_end().len();
        if end == 0 {
            self.held.push_str(text);
            return;
        }
        let mut delta = std::mem::take(&mut self.held);
        delta.push_str(&text[..end]);
        self.held.push_str(&text[end..]);
        out.push(AgentEvent::delta(delta));
    }

    fn action(
        &self,
        thought_end: usize,
        tool: std::ops::Range<usize>,
        input: std::ops::Range<usize>,
    ) -> AgentEvent {
        AgentEvent::Action {
            tool: clean_tool(&self.buf[tool]),
            tool_input: self.buf[input].trim().to_owned(),
            thought: clean_thought(&self.buf[..thought_end]),
        }
    }
}

/// The first of `markers` in `hay[from..]`, as (absolute position, marker).
fn earliest<'m>(hay: &str, from: usize, markers: &[&'m str]) -> Option<(usize, &'m str)> {
    let rest = hay.get(from..)?;
    markers
        .iter()
        .filter_map(|m| rest.find(m).map(|i| (from + i, *m)))
        .min_by_key(|(i, _)| *i)
}

/// The largest char boundary of `s` at or before `i`.
fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn clean_thought(text: &str) -> String {
    let text = text.trim();
    let text = text.strip_prefix(THOUGHT).map_or(text, str::trim_start);
    text.replace("\\_", "_")
}

fn clean_tool(text: &str) -> String {
    let name = text
        .trim()
        .trim_matches(|c| matches!(c, '`' | '"' | '\''))
        .trim();
    if name == "MergeRequestReader" {
        return "merge_request_reader".to_owned();
    }
    name.replace("\\_", "_")
}

#[cfg(test)]
#[path = "react_parser_tests.rs"]
mod tests;
