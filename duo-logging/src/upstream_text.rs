//! What an upstream said, made fit to show: [`reason`] (secrets redacted, cut short) for error
//! bodies, [`redacted`] for log lines.
//!
//! The providers already scrub the endpoint's own key from upstream text; this adds the
//! built-in secret shapes (bearer tokens, `api_key=…`, AWS keys, …) for text that quotes others,
//! before it goes into an error body, a log line or an unauthenticated readiness answer.

use std::sync::LazyLock;

use crate::redact::Redactor;

/// The longest upstream reason quoted to a client.
pub const MAX_REASON: usize = 300;

/// Compiled once; only constant patterns.
static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::builtin);

/// `text` with secrets redacted (every built-in pattern) and cut to [`MAX_REASON`] bytes.
#[must_use]
pub fn reason(text: &str) -> String {
    shorten(REDACTOR.redact(text.trim()).as_ref(), MAX_REASON)
}

/// `text` with secrets redacted, whole (for log lines).
#[must_use]
pub fn redacted(text: &str) -> String {
    REDACTOR.redact(text).into_owned()
}

/// `text` cut to at most `max` bytes (at a character boundary), with `…` when cut.
#[must_use]
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_redacted_and_cut() {
        let r = reason("  invalid header Authorization: Bearer abcdefghijklmnop  ");
        assert!(!r.contains("abcdefghijklmnop"), "{r}");
        assert!(r.starts_with("invalid header"), "{r}");
        let long = reason(&"é".repeat(400));
        assert!(long.len() <= MAX_REASON + '…'.len_utf8(), "{}", long.len());
        assert!(long.ends_with('…'));
    }
}
