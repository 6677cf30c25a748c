//! [`ThinkFilter`]: removes `<think>…</think>` reasoning from a streamed answer, chunk by chunk.
//!
//! Reasoning models (Qwen, families whose `strips_reasoning()` is true) write their chain of
//! thought between `<think>` and `</think>` before the answer. The filter drops those blocks
//! wherever they appear, also when a tag is split across chunks: a chunk's tail that could be the
//! start of a tag is held back until the next chunk decides. An unclosed block at the end is
//! dropped; a stray `</think>` (a server that put the opening tag in the prompt) is removed.

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

    #[test]
    fn plain_chunks_pass_through_without_holding() {
        let mut f = ThinkFilter::new();
        assert_eq!(f.push("hello "), "hello ");
        assert_eq!(f.push("wor<"), "wor");
        assert_eq!(f.push("ld"), "<ld");
        assert_eq!(f.finish(), "");
    }
}
