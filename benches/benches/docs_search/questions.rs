//! The questions asked: Duo Chat's fixed documentation questions and generated ones.

use crate::corpus::Rng;
use crate::vocabulary::Vocabulary;
use crate::words::{FIXED_QUESTIONS, TOPICS};

/// A question asked, and where it came from.
pub(crate) struct Question {
    pub(crate) text: String,
    /// From [`FIXED_QUESTIONS`] (else generated).
    pub(crate) fixed: bool,
}

impl Question {
    /// The question's kind and the number of words FTS5 searches (the trigram tokenizer matches
    /// nothing for words under 3 characters, which drop out of the implicit AND).
    pub(crate) fn shape(&self) -> String {
        let searched = self
            .text
            .split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric() || *c == '_')
                    .count()
            })
            .filter(|&n| n >= 3)
            .count();
        let kind = if self.fixed { "fixed" } else { "generated" };
        format!("{kind}, {searched} words of 3+ chars")
    }
}

/// `n` questions: half from [`FIXED_QUESTIONS`], half generated from one section's topic words
/// and the vocabulary.
pub(crate) fn questions(n: usize, vocabulary: &Vocabulary, rng: &mut Rng) -> Vec<Question> {
    (0..n)
        .map(|_| {
            if rng.chance(0.5) {
                return Question {
                    text: rng.one(FIXED_QUESTIONS).to_owned(),
                    fixed: true,
                };
            }
            let topic = rng.pick(TOPICS);
            let words = 2 + rng.below(5);
            let mut text = String::new();
            if rng.chance(0.25) {
                text.push_str(rng.one(&["how do I", "how to", "what is", "can I"]));
            }
            for _ in 0..words {
                let word = if rng.chance(0.5) {
                    rng.one(topic.words)
                } else {
                    vocabulary.zipf(rng)
                };
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(word);
            }
            if rng.chance(0.3) {
                text.push('?');
            }
            Question { text, fixed: false }
        })
        .collect()
}
