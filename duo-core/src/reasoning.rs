//! Reasoning stripping: models of some families (Qwen; see
//! [`ModelFamily::strips_reasoning`](crate::ModelFamily::strips_reasoning)) write their chain of
//! thought between `<think>` and `</think>` before the answer, and no GitLab feature wants it.
//!
//! - [`ThinkFilter`]: the incremental filter, chunk by chunk. It drops those blocks wherever they
//!   appear, also when a tag is split across chunks: a chunk's tail that could be the start of a
//!   tag is held back until the next chunk decides. An unclosed block at the end is dropped; a
//!   stray `</think>` (a server that put the opening tag in the prompt) is removed.
//! - [`strip_reasoning`]: the same as an [`EventStream`] adapter.
//! - [`StripReasoning`]: a [`LanguageModel`] decorator that applies it to every answer, streamed
//!   or not, so a route needs no code of its own for it.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;

use crate::{Error, EventStream, Generation, LanguageModel, ModelRequest, StreamEvent};

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// The incremental reasoning filter.
#[derive(Debug, Clone, Default)]
pub struct ThinkFilter {
    inside: bool,
    /// A tail that may be the start of a tag.
    pending: String,
}

impl ThinkFilter {
    /// A filter at the start of an answer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk; returns the visible text it completes.
    pub fn push(&mut self, chunk: &str) -> String {
        if !self.inside && self.pending.is_empty() && !chunk.contains('<') {
            return chunk.to_owned();
        }
        let input = if self.pending.is_empty() {
            chunk.to_owned()
        } else {
            let mut s = std::mem::take(&mut self.pending);
            s.push_str(chunk);
            s
        };
        let mut out = String::with_capacity(input.len());
        let mut rest = input.as_str();
        loop {
            if self.inside {
                if let Some(i) = rest.find(CLOSE) {
                    rest = &rest[i + CLOSE.len()..];
                    self.inside = false;
                    continue;
                }
                let keep = partial_tag_suffix(rest, &[CLOSE]);
                self.pending = rest[rest.len() - keep..].to_owned();
                return out;
            }
            let open = rest.find(OPEN).map(|i| (i, OPEN));
            let close = rest.find(CLOSE).map(|i| (i, CLOSE));
            let first = match (open, close) {
                (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
                (a, b) => a.or(b),
            };
            if let Some((i, tag)) = first {
                out.push_str(&rest[..i]);
                rest = &rest[i + tag.len()..];
                self.inside = tag == OPEN;
                continue;
            }
            let keep = partial_tag_suffix(rest, &[OPEN, CLOSE]);
            let cut = rest.len() - keep;
            out.push_str(&rest[..cut]);
            self.pending = rest[cut..].to_owned();
            return out;
        }
    }

    /// Ends the answer: a held tail that turned out not to be a tag is returned; an unclosed
    /// reasoning block is dropped.
    pub fn finish(&mut self) -> String {
        let pending = std::mem::take(&mut self.pending);
        if self.inside { String::new() } else { pending }
    }
}

/// The length of the longest proper prefix of one of `tags` that `s` ends with.
fn partial_tag_suffix(s: &str, tags: &[&str]) -> usize {
    let bytes = s.as_bytes();
    tags.iter()
        .flat_map(|tag| (1..tag.len()).map(move |k| (tag, k)))
        .filter(|(tag, k)| bytes.ends_with(&tag.as_bytes()[..*k]))
        .map(|(_, k)| k)
        .max()
        .unwrap_or(0)
}

/// `events` with reasoning removed from the text: each delta goes through a [`ThinkFilter`]
/// (empty results are dropped), and what the filter held back is emitted before the finish. A
/// stream that ends without a finish ends the same way (its held-back tail is not emitted: the
/// answer was cut short).
#[must_use]
pub fn strip_reasoning(events: EventStream) -> EventStream {
    let stripped = events
        .scan(ThinkFilter::new(), |filter, event| {
            let out: Vec<Result<StreamEvent, Error>> = match event {
                Ok(StreamEvent::Delta(text)) => {
                    let visible = filter.push(&text);
                    if visible.is_empty() {
                        Vec::new()
                    } else {
                        vec![Ok(StreamEvent::Delta(visible))]
                    }
                }
                Ok(call @ StreamEvent::ToolCall(_)) => vec![Ok(call)],
                Ok(finish @ StreamEvent::Finish { .. }) => {
                    let tail = filter.finish();
                    let mut out = Vec::with_capacity(2);
                    if !tail.is_empty() {
                        out.push(Ok(StreamEvent::Delta(tail)));
                    }
                    out.push(Ok(finish));
                    out
                }
                Err(e) => vec![Err(e)],
            };
            futures::future::ready(Some(futures::stream::iter(out)))
        })
        .flatten();
    Box::pin(stripped)
}

/// `text` with reasoning removed (a whole answer).
#[must_use]
pub fn strip_reasoning_text(text: &str) -> String {
    let mut filter = ThinkFilter::new();
    let mut out = filter.push(text);
    out.push_str(&filter.finish());
    out
}

/// A model whose answers have reasoning removed ([`strip_reasoning`], [`strip_reasoning_text`]).
#[derive(Debug, Clone)]
pub struct StripReasoning<M>(pub M);

impl StripReasoning<Arc<dyn LanguageModel>> {
    /// `model` wrapped when `strip` is true, else `model` itself.
    #[must_use]
    pub fn when(strip: bool, model: Arc<dyn LanguageModel>) -> Arc<dyn LanguageModel> {
        if strip { Arc::new(Self(model)) } else { model }
    }
}

#[async_trait]
impl<M: LanguageModel> LanguageModel for StripReasoning<M> {
    fn provider(&self) -> &str {
        self.0.provider()
    }

    fn model(&self) -> &str {
        self.0.model()
    }

    fn upstream(&self) -> &str {
        self.0.upstream()
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        self.0.generate_stream(request).await.map(strip_reasoning)
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let mut generation = self.0.generate(request).await?;
        generation.text = strip_reasoning_text(&generation.text);
        Ok(generation)
    }

    async fn probe(&self) -> Result<(), Error> {
        self.0.probe().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&str]) -> String {
        let mut f = ThinkFilter::new();
        let mut out: String = chunks.iter().map(|c| f.push(c)).collect();
        out.push_str(&f.finish());
        out
    }

    #[test]
    fn blocks_are_removed_whole_or_split() {
        assert_eq!(run(&["<think>plan</think>Answer"]), "Answer");
        assert_eq!(
            run(&["<thi", "nk>pl", "an</th", "ink>\nAns", "wer"]),
            "\nAnswer"
        );
        assert_eq!(run(&["a<think>x</think>b<think>y</think>c"]), "abc");
        assert_eq!(
            run(&["<", "t", "h", "i", "n", "k", ">", "z", "<", "/think>ok"]),
            "ok"
        );
    }

    #[test]
    fn text_that_only_looks_like_a_tag_is_kept() {
        assert_eq!(run(&["a <thin", "g> b"]), "a <thing> b");
        assert_eq!(run(&["x <"]), "x <");
        assert_eq!(run(&["if a <", " b"]), "if a < b");
        assert_eq!(run(&["é<", "日"]), "é<日");
    }

    #[test]
    fn unclosed_blocks_are_dropped_and_stray_closers_removed() {
        assert_eq!(run(&["ok<think>never closed"]), "ok");
        assert_eq!(run(&["ok<think>never </thi"]), "ok");
        assert_eq!(run(&["reasoning</think>answer"]), "reasoninganswer");
    }

    fn events(items: Vec<Result<StreamEvent, Error>>) -> EventStream {
        Box::pin(futures::stream::iter(items))
    }

    fn delta(text: &str) -> Result<StreamEvent, Error> {
        Ok(StreamEvent::Delta(text.into()))
    }

    fn finish() -> Result<StreamEvent, Error> {
        Ok(StreamEvent::Finish {
            reason: crate::FinishReason::Stop,
            usage: None,
        })
    }

    fn collect(stream: EventStream) -> Vec<Result<StreamEvent, Error>> {
        futures::executor::block_on(stream.collect::<Vec<_>>())
    }

    #[test]
    fn the_stream_adapter_strips_split_blocks_and_flushes_before_the_finish() {
        let out = collect(strip_reasoning(events(vec![
            delta("<thi"),
            delta("nk>plan</think>Ans"),
            delta("wer <"),
            finish(),
        ])));
        let texts: Vec<String> = out
            .iter()
            .filter_map(|e| match e {
                Ok(StreamEvent::Delta(t)) => Some(t.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["Ans", "wer ", "<"]);
        assert!(matches!(out.last(), Some(Ok(StreamEvent::Finish { .. }))));
    }

    #[test]
    fn the_stream_adapter_passes_errors_and_never_invents_a_finish() {
        let out = collect(strip_reasoning(events(vec![
            delta("<think>x"),
            Err(Error::BrokenStream {
                upstream: "u".into(),
                message: "cut".into(),
            }),
        ])));
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].is_err());
        let cut = collect(strip_reasoning(events(vec![delta("ok <thi")])));
        assert_eq!(cut.len(), 1, "{cut:?}");
        assert!(matches!(&cut[0], Ok(StreamEvent::Delta(t)) if t == "ok "));
    }

    #[test]
    fn whole_answers_are_stripped_too() {
        assert_eq!(strip_reasoning_text("<think>a</think>b<think>c"), "b");
        assert_eq!(strip_reasoning_text("plain < text"), "plain < text");
    }

    #[test]
    fn plain_chunks_pass_through_without_holding() {
        let mut f = ThinkFilter::new();
        assert_eq!(f.push("hello "), "hello ");
        assert_eq!(f.push("wor<"), "wor");
        assert_eq!(f.push("ld"), "<ld");
        assert_eq!(f.finish(), "");
    }
}
