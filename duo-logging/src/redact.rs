//! [`Redactor`]: removes secrets from text before it is logged, and [`cap`], the size cap.

use std::borrow::Cow;

use duo_core::REDACTED;
use regex::{Captures, Regex, RegexSet};

use crate::config::ConfigError;

/// Built-in secret shapes: `(name, pattern)`. A pattern's first group, when present, is kept
/// (the `Bearer ` or `api_key=` before the value); the rest of the match is replaced.
const BUILTIN: &[(&str, &str)] = &[
    (
        "private_key_block",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*)",
    ),
    ("bearer_token", r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"),
    (
        "basic_auth",
        r#"(?i)(authorization["']?\s*[:=]\s*["']?(?:basic|token)\s+)[A-Za-z0-9+/=._\-]+"#,
    ),
    (
        "api_key",
        r#"(?i)((?:x-)?api[-_]?key["']?\s*[:=]\s*["']?)[^\s"',;}&]+"#,
    ),
    (
        "aws_secret",
        r#"(?i)(aws_?(?:secret_?access_?key|session_?token)["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]+"#,
    ),
    (
        "aws_access_key_id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
    ),
    (
        "gitlab_token",
        r"\bgl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|agent|soat|ffct)-[A-Za-z0-9_\-]{20,}",
    ),
    (
        "openai_style_key",
        r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}",
    ),
];

#[derive(Debug, Clone)]
struct Rule {
    re: Regex,
    /// Operator rules with a `secret` group replace only that group.
    secret_group: bool,
}

/// Replaces secrets in text: bearer tokens, `api-key`/`api_key` values, AWS key ids and secret
/// keys, PEM private-key blocks, GitLab and OpenAI-style tokens, and the operator's regexes.
///
/// Compiled once (at start-up); [`redact`](Self::redact) borrows the input when nothing matches.
#[derive(Debug, Clone)]
pub struct Redactor {
    set: RegexSet,
    rules: Vec<Rule>,
}

impl Redactor {
    /// The built-in rules plus `operator_patterns` (Rust `regex` syntax). An operator pattern's
    /// whole match is replaced, or only its `(?P<secret>…)` group when it has one.
    ///
    /// # Errors
    /// A [`ConfigError`] naming `logging.redact_patterns[i]` when a pattern does not compile.
    pub fn new(operator_patterns: &[String]) -> Result<Self, ConfigError> {
        let mut rules = Vec::with_capacity(BUILTIN.len() + operator_patterns.len());
        for (name, pattern) in BUILTIN {
            let re = Regex::new(pattern).map_err(|e| {
                ConfigError::new(format!("built-in redaction {name}"), e.to_string())
            })?;
            rules.push(Rule {
                re,
                secret_group: false,
            });
        }
        for (i, pattern) in operator_patterns.iter().enumerate() {
            let re = Regex::new(pattern).map_err(|e| {
                ConfigError::new(format!("logging.redact_patterns[{i}]"), e.to_string())
            })?;
            let secret_group = re.capture_names().flatten().any(|n| n == "secret");
            rules.push(Rule { re, secret_group });
        }
        let set = RegexSet::new(rules.iter().map(|r| r.re.as_str()))
            .map_err(|e| ConfigError::new("logging.redact_patterns", e.to_string()))?;
        Ok(Self { set, rules })
    }

    /// Only the built-in rules.
    #[must_use]
    pub fn builtin() -> Self {
        // The built-in patterns are constants covered by tests; compiling them cannot fail.
        Self::new(&[]).unwrap_or_else(|_| Self {
            set: RegexSet::empty(),
            rules: Vec::new(),
        })
    }

    /// `text` with every secret replaced by `**********`.
    #[must_use]
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let matched = self.set.matches(text);
        if !matched.matched_any() {
            return Cow::Borrowed(text);
        }
        let mut out = Cow::Borrowed(text);
        for index in &matched {
            let Some(rule) = self.rules.get(index) else {
                continue;
            };
            let replaced = if rule.secret_group {
                rule.re
                    .replace_all(&out, |c: &Captures<'_>| replace_group(c, "secret"))
            } else {
                rule.re.replace_all(&out, |c: &Captures<'_>| {
                    let keep = c.get(1).map_or("", |m| m.as_str());
                    format!("{keep}{REDACTED}")
                })
            };
            if let Cow::Owned(s) = replaced {
                out = Cow::Owned(s);
            }
        }
        out
    }
}

impl Default for Redactor {
    fn default() -> Self {
        Self::builtin()
    }
}

/// The whole match with only group `name` replaced.
fn replace_group(c: &Captures<'_>, name: &str) -> String {
    let (Some(whole), Some(group)) = (c.get(0), c.name(name)) else {
        return REDACTED.to_owned();
    };
    let s = whole.as_str();
    let (start, end) = (group.start() - whole.start(), group.end() - whole.start());
    format!("{}{REDACTED}{}", &s[..start], &s[end..])
}

/// `text` cut to at most `max_chars` characters, and how many characters were cut off.
#[must_use]
pub fn cap(text: &str, max_chars: usize) -> (&str, usize) {
    if text.len() <= max_chars {
        // No more characters than bytes.
        return (text, 0);
    }
    match text.char_indices().nth(max_chars) {
        None => (text, 0),
        Some((byte, _)) => (&text[..byte], text[byte..].chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        Redactor::builtin().redact(text).into_owned()
    }

    #[test]
    fn every_builtin_compiles() {
        assert_eq!(Redactor::builtin().rules.len(), BUILTIN.len());
    }

    #[test]
    fn bearer_tokens_keep_the_scheme() {
        assert_eq!(
            r("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x=="),
            "Authorization: Bearer **********"
        );
        assert_eq!(r("bearer abcdefgh12"), "bearer **********");
    }

    #[test]
    fn api_keys_in_headers_json_and_urls() {
        assert_eq!(r("api-key: 0123abcd"), "api-key: **********");
        assert_eq!(
            r(r#"{"model_api_key": "sk-live-1", "x": 1}"#),
            r#"{"model_api_key": "**********", "x": 1}"#
        );
        assert_eq!(
            r("GET /v1?api_key=abc&x=1"),
            "GET /v1?api_key=**********&x=1"
        );
        assert_eq!(r("X-Api-Key=zzz"), "X-Api-Key=**********");
    }

    #[test]
    fn aws_keys() {
        assert_eq!(r("id AKIAIOSFODNN7EXAMPLE ok"), "id ********** ok");
        assert_eq!(r("ASIAY34FZKBOKMUTVV7A"), "**********");
        assert_eq!(
            r("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nnext"),
            "aws_secret_access_key = **********\nnext"
        );
        assert_eq!(
            r("AWS_SESSION_TOKEN=FwoGZXIvYXdzEK//"),
            "AWS_SESSION_TOKEN=**********"
        );
    }

    #[test]
    fn private_key_blocks_whole_or_unterminated() {
        let pem =
            "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\nb";
        assert_eq!(r(pem), "a\n**********\nb");
        let cut = "x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg";
        assert_eq!(r(cut), "x **********");
        assert_eq!(
            r("-----BEGIN PUBLIC KEY-----"),
            "-----BEGIN PUBLIC KEY-----"
        );
    }

    #[test]
    fn vendor_tokens() {
        assert_eq!(r("glpat-abcdefghij0123456789"), "**********");
        assert_eq!(r("key sk-proj-abcdefghij0123456789XYZ"), "key **********");
    }

    #[test]
    fn plain_code_is_borrowed_untouched() {
        let code = "def add(a, b):\n    return a + b\n";
        assert!(matches!(Redactor::builtin().redact(code), Cow::Borrowed(_)));
    }

    #[test]
    fn operator_patterns_whole_or_secret_group() {
        let red =
            Redactor::new(&[r"ACME-[0-9]{6}".into(), r"password=(?P<secret>\S+)".into()]).unwrap();
        assert_eq!(
            red.redact("id ACME-123456 and password=hunter2 end"),
            "id ********** and password=********** end"
        );
    }

    #[test]
    fn cap_counts_characters() {
        assert_eq!(cap("héllo", 3), ("hél", 2));
        assert_eq!(cap("abc", 3), ("abc", 0));
        assert_eq!(cap("abc", 10), ("abc", 0));
    }
}
