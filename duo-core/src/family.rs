//! [`ModelFamily`]: which prompt layout a model needs, parsed from GitLab's family keys.

use std::fmt;

/// A model family, as the GitLab instance names it in `model_name` / `model_metadata.name`.
///
/// Families the gateway does not know are preserved as [`ModelFamily::Other`], never rejected here:
/// whether an unknown family is served (an operator-supplied prompt) is the prompt registry's call.
///
/// ```
/// use duo_core::ModelFamily;
/// assert_eq!(ModelFamily::parse("codestral"), ModelFamily::Codestral);
/// assert_eq!(ModelFamily::parse("codestral").prompt_folders(), ["codestral", "mistral"]);
/// assert_eq!(ModelFamily::parse("granite").key(), "granite");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModelFamily {
    /// Mistral 7B instruct and relatives.
    Mistral,
    /// Mixtral 8x7B / 8x22B.
    Mixtral,
    /// Codestral (also the dated keys `codestral-2501`, `codestral-2508`).
    Codestral,
    /// CodeGemma.
    CodeGemma,
    /// Code Llama.
    CodeLlama,
    /// DeepSeek Coder.
    DeepSeekCoder,
    /// Llama 3.x.
    Llama3,
    /// Qwen 2.5 Coder (key `qwen2p5-coder-7b`).
    Qwen2p5Coder,
    /// Qwen (reasoning models; `<think>` blocks are stripped).
    Qwen,
    /// GPT models (usually on Azure OpenAI).
    Gpt,
    /// Self-hosted Claude (usually on Bedrock).
    Claude3,
    /// Self-hosted Gemini.
    Gemini,
    /// "Bring your own compatible model": the generic `base` prompts.
    General,
    /// A family key this version does not know, kept as given (trimmed, lower-cased).
    Other(String),
}

impl ModelFamily {
    /// The families this crate knows, in a stable order.
    pub const KNOWN: &'static [ModelFamily] = &[
        ModelFamily::Mistral,
        ModelFamily::Mixtral,
        ModelFamily::Codestral,
        ModelFamily::CodeGemma,
        ModelFamily::CodeLlama,
        ModelFamily::DeepSeekCoder,
        ModelFamily::Llama3,
        ModelFamily::Qwen2p5Coder,
        ModelFamily::Qwen,
        ModelFamily::Gpt,
        ModelFamily::Claude3,
        ModelFamily::Gemini,
        ModelFamily::General,
    ];

    /// Parses a GitLab family key. Never fails: unknown keys become [`ModelFamily::Other`].
    #[must_use]
    pub fn parse(key: &str) -> Self {
        let key = key.trim().to_ascii_lowercase();
        match key.as_str() {
            "mistral" => Self::Mistral,
            "mixtral" => Self::Mixtral,
            "codestral" | "codestral-2501" | "codestral-2508" => Self::Codestral,
            "codegemma" => Self::CodeGemma,
            "codellama" => Self::CodeLlama,
            "deepseekcoder" => Self::DeepSeekCoder,
            "llama3" => Self::Llama3,
            "qwen2p5-coder-7b" | "qwen2p5-coder" => Self::Qwen2p5Coder,
            "qwen" => Self::Qwen,
            "gpt" => Self::Gpt,
            "claude_3" | "claude_3.5" => Self::Claude3,
            "gemini" => Self::Gemini,
            "general" => Self::General,
            _ => Self::Other(key),
        }
    }

    /// The canonical key, as GitLab spells it.
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            Self::Mistral => "mistral",
            Self::Mixtral => "mixtral",
            Self::Codestral => "codestral",
            Self::CodeGemma => "codegemma",
            Self::CodeLlama => "codellama",
            Self::DeepSeekCoder => "deepseekcoder",
            Self::Llama3 => "llama3",
            Self::Qwen2p5Coder => "qwen2p5-coder-7b",
            Self::Qwen => "qwen",
            Self::Gpt => "gpt",
            Self::Claude3 => "claude_3",
            Self::Gemini => "gemini",
            Self::General => "general",
            Self::Other(key) => key,
        }
    }

    /// Whether this is one of the [`KNOWN`](Self::KNOWN) families.
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The prompt folders to try, most specific first; `base` is tried after all of them.
    ///
    /// This is the reference gateway's search order: Codestral and Mixtral fall back to Mistral's
    /// prompts, Claude 3 and General use `base` directly.
    #[must_use]
    pub fn prompt_folders(&self) -> Vec<&str> {
        match self {
            Self::Codestral => vec!["codestral", "mistral"],
            Self::Mixtral => vec!["mixtral", "mistral"],
            Self::Claude3 | Self::General => Vec::new(),
            other => vec![other.key()],
        }
    }

    /// Whether the model emits `<think>…</think>` reasoning that must be stripped from answers.
    #[must_use]
    pub fn strips_reasoning(&self) -> bool {
        matches!(self, Self::Qwen)
    }
}

impl fmt::Display for ModelFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_round_trip() {
        for family in ModelFamily::KNOWN {
            assert_eq!(&ModelFamily::parse(family.key()), family);
            assert!(family.is_known());
        }
    }

    #[test]
    fn aliases_and_case_are_normalised() {
        assert_eq!(ModelFamily::parse("codestral-2501"), ModelFamily::Codestral);
        assert_eq!(
            ModelFamily::parse(" Codestral-2508 "),
            ModelFamily::Codestral
        );
        assert_eq!(
            ModelFamily::parse("qwen2p5-coder"),
            ModelFamily::Qwen2p5Coder
        );
        assert_eq!(ModelFamily::parse("CLAUDE_3"), ModelFamily::Claude3);
        assert_eq!(ModelFamily::parse("claude_3.5"), ModelFamily::Claude3);
    }

    #[test]
    fn unknown_families_are_preserved_not_rejected() {
        let f = ModelFamily::parse("Granite");
        assert_eq!(f, ModelFamily::Other("granite".into()));
        assert_eq!(f.key(), "granite");
        assert!(!f.is_known());
        assert_eq!(f.prompt_folders(), ["granite"]);
        assert_eq!(f.to_string(), "granite");
    }

    #[test]
    fn prompt_folders_follow_the_reference_fallback_order() {
        assert_eq!(
            ModelFamily::Codestral.prompt_folders(),
            ["codestral", "mistral"]
        );
        assert_eq!(
            ModelFamily::Mixtral.prompt_folders(),
            ["mixtral", "mistral"]
        );
        assert_eq!(ModelFamily::Mistral.prompt_folders(), ["mistral"]);
        assert_eq!(
            ModelFamily::DeepSeekCoder.prompt_folders(),
            ["deepseekcoder"]
        );
        assert!(ModelFamily::Claude3.prompt_folders().is_empty());
        assert!(ModelFamily::General.prompt_folders().is_empty());
        assert_eq!(
            ModelFamily::Qwen2p5Coder.prompt_folders(),
            ["qwen2p5-coder-7b"]
        );
    }

    #[test]
    fn only_qwen_strips_reasoning() {
        assert!(ModelFamily::Qwen.strips_reasoning());
        assert!(!ModelFamily::Mistral.strips_reasoning());
    }
}
