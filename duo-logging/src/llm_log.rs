//! [`LlmLogger`]: the opt-in log of prompts and answers (target `duo::llm`), redacted and capped.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use duo_core::{Prompt, REDACTED};

use crate::config::{ConfigError, LoggingConfig};
use crate::redact::{Redactor, cap};

/// The target of the prompt and answer lines.
pub const LLM_TARGET: &str = "duo::llm";

/// Characters kept beyond the cap while collecting a streamed answer, so that a secret cut by
/// the cap is still whole when redaction runs.
const REDACTION_SLACK_CHARS: usize = 8192;

/// Logs prompts and answers with secrets redacted and each field capped. Cheap to clone.
///
/// Whether a request's prompts are logged is decided per request by its
/// [`RequestLogHandle`](crate::RequestLogHandle); this type holds the compiled redaction rules
/// and the global switch.
#[derive(Clone, Debug)]
pub struct LlmLogger {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    redactor: Redactor,
    enabled_globally: bool,
    max_field_chars: usize,
}

/// A field ready to log: redacted, capped, with the size before the cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared<'a> {
    /// The text to log.
    pub text: Cow<'a, str>,
    /// Characters cut off by the cap (0 when none).
    pub truncated_chars: usize,
}

/// Who a prompt or answer line belongs to.
pub(crate) struct LlmContext<'a> {
    pub(crate) correlation_id: Option<&'a str>,
    pub(crate) feature: &'a str,
    pub(crate) model_engine: &'a str,
    pub(crate) model_name: &'a str,
}

impl Default for LlmLogger {
    /// Off, with the built-in rules and the default cap. Compiled once per process and shared,
    /// so `RequestLogSettings::default()` is cheap.
    fn default() -> Self {
        static DEFAULT: OnceLock<LlmLogger> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Self::new(
                    Redactor::builtin(),
                    false,
                    LoggingConfig::default().max_field_chars,
                )
            })
            .clone()
    }
}

impl LlmLogger {
    /// From the settings: operator regexes, the global switch, the cap.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first redaction pattern that does not compile.
    pub fn from_config(config: &LoggingConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(
            Redactor::new(&config.redact_patterns)?,
            config.enable_request_logging,
            config.max_field_chars.max(1),
        ))
    }

    fn new(redactor: Redactor, enabled_globally: bool, max_field_chars: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                redactor,
                enabled_globally,
                max_field_chars,
            }),
        }
    }

    /// Whether every request's prompts are logged (`AIGW_LOGGING__ENABLE_REQUEST_LOGGING`).
    #[must_use]
    pub fn enabled_globally(&self) -> bool {
        self.inner.enabled_globally
    }

    /// The compiled redaction rules.
    #[must_use]
    pub fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    /// The cap per field, in characters.
    #[must_use]
    pub fn max_field_chars(&self) -> usize {
        self.inner.max_field_chars
    }

    /// `text` redacted, then capped.
    #[must_use]
    pub fn prepare<'a>(&self, text: &'a str) -> Prepared<'a> {
        let redacted = self.inner.redactor.redact(text);
        let (kept_len, truncated_chars) = {
            let (kept, truncated) = cap(&redacted, self.inner.max_field_chars);
            (kept.len(), truncated)
        };
        let text = match redacted {
            redacted if truncated_chars == 0 => redacted,
            Cow::Borrowed(b) => Cow::Borrowed(&b[..kept_len]),
            Cow::Owned(mut s) => {
                s.truncate(kept_len);
                Cow::Owned(s)
            }
        };
        Prepared {
            text,
            truncated_chars,
        }
    }

    /// How many bytes of a streamed answer are worth collecting: enough for the cap plus a
    /// margin, whatever the characters' widths.
    pub(crate) fn collect_limit_bytes(&self) -> usize {
        self.inner
            .max_field_chars
            .saturating_add(REDACTION_SLACK_CHARS)
            .saturating_mul(4)
    }

    /// Writes the rendered prompt.
    pub(crate) fn log_prompt(&self, ctx: &LlmContext<'_>, prompt: &Prompt) {
        match prompt {
            Prompt::FillInTheMiddle { prefix, suffix } => {
                let (prefix, suffix) = (self.prepare(prefix), self.prepare(suffix));
                tracing::info!(
                    target: LLM_TARGET,
                    parent: None,
                    correlation_id = ctx.correlation_id,
                    feature = ctx.feature,
                    model_engine = ctx.model_engine,
                    model_name = ctx.model_name,
                    prefix = &*prefix.text,
                    suffix = &*suffix.text,
                    prefix_truncated_chars = prefix.truncated_chars,
                    suffix_truncated_chars = suffix.truncated_chars,
                    "LLM prompt"
                );
            }
            other => {
                let rendered = render_prompt(other);
                let prompt = self.prepare(&rendered);
                tracing::info!(
                    target: LLM_TARGET,
                    parent: None,
                    correlation_id = ctx.correlation_id,
                    feature = ctx.feature,
                    model_engine = ctx.model_engine,
                    model_name = ctx.model_name,
                    prompt = &*prompt.text,
                    prompt_truncated_chars = prompt.truncated_chars,
                    "LLM prompt"
                );
            }
        }
    }

    /// Writes the model's answer (`complete` is false when the answer was cut short).
    pub(crate) fn log_answer(
        &self,
        ctx: &LlmContext<'_>,
        answer: &str,
        collected_all: bool,
        finish_reason: Option<&str>,
    ) {
        let prepared = self.prepare(answer);
        let truncated = if collected_all {
            prepared.truncated_chars
        } else {
            prepared.truncated_chars.max(1)
        };
        tracing::info!(
            target: LLM_TARGET,
            parent: None,
            correlation_id = ctx.correlation_id,
            feature = ctx.feature,
            model_engine = ctx.model_engine,
            model_name = ctx.model_name,
            answer = &*prepared.text,
            answer_truncated_chars = truncated,
            finish_reason,
            "LLM answer"
        );
    }
}

/// A prompt as one text: raw text as is, chat turns as `[role]` blocks.
fn render_prompt(prompt: &Prompt) -> Cow<'_, str> {
    match prompt {
        Prompt::Text(t) => Cow::Borrowed(t),
        Prompt::FillInTheMiddle { prefix, suffix } => {
            Cow::Owned(format!("[prefix]\n{prefix}\n[suffix]\n{suffix}"))
        }
        Prompt::Chat(messages) => {
            let mut out = String::new();
            for m in messages {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push('[');
                out.push_str(m.role.as_str());
                out.push_str("]\n");
                out.push_str(&m.content);
            }
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(REDACTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo_core::Message;

    fn logger(max: usize) -> LlmLogger {
        LlmLogger::from_config(&LoggingConfig {
            max_field_chars: max,
            redact_patterns: vec!["TICKET-[0-9]+".into()],
            ..LoggingConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn prepare_redacts_before_it_caps() {
        let l = logger(12);
        // The key starts inside the cap and ends after it: it must not leak in part.
        let p = l.prepare("abc api_key=0123456789abcdef");
        assert_eq!(p.text, "abc api_key=");
        assert_eq!(p.truncated_chars, "**********".len());
        let p = l.prepare("TICKET-42 ok");
        assert_eq!(p.text, "********** o");
        assert_eq!(p.truncated_chars, 1);
        let p = l.prepare("short");
        assert!(matches!(p.text, Cow::Borrowed("short")));
    }

    #[test]
    fn chat_prompts_render_as_role_blocks() {
        let p = Prompt::Chat(vec![Message::system("be brief"), Message::user("hi")]);
        assert_eq!(render_prompt(&p), "[system]\nbe brief\n[user]\nhi");
        assert_eq!(render_prompt(&Prompt::Text("x".into())), "x");
    }

    #[test]
    fn collect_limit_covers_the_cap_in_any_width() {
        assert!(logger(10).collect_limit_bytes() >= (10 + REDACTION_SLACK_CHARS) * 4);
        assert!(!LlmLogger::default().enabled_globally());
    }
}
