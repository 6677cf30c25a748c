//! [`Secret`]: a string that never prints its value.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// What [`Secret`]'s `Debug` and `Display` print instead of the value.
pub const REDACTED: &str = "**********";

/// An API key, token or password: `Debug` and `Display` print [`REDACTED`], never the value.
///
/// Read the value with [`Secret::expose`] at the one place that sends it upstream.
///
/// ```
/// use duo_core::Secret;
/// let key = Secret::new("sk-live-123");
/// assert_eq!(format!("{key:?}"), "Secret(**********)");
/// assert_eq!(key.expose(), "sk-live-123");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the code that puts it on the wire.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is the empty string.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with every occurrence of the value replaced by [`REDACTED`], for upstream text
    /// (an error body that echoes the key) before it goes anywhere. Values shorter than four
    /// characters are left alone: replacing them would garble the text and hide nothing.
    #[must_use]
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(self.0.as_str(), REDACTED)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("top-secret-value");
        assert!(!format!("{s:?}").contains("top-secret"));
        assert!(!format!("{s}").contains("top-secret"));
        assert!(!format!("{:?}", Some(&s)).contains("top-secret"));
        assert_eq!(s.to_string(), REDACTED);
        assert_eq!(s.expose(), "top-secret-value");
        assert_eq!(
            s.scrub("invalid key top-secret-value (top-secret-value)"),
            format!("invalid key {REDACTED} ({REDACTED})")
        );
        assert_eq!(Secret::new("k").scrub("k is fine"), "k is fine");
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        let s: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.expose(), "abc");
        assert!(!s.is_empty());
        assert!(Secret::new("").is_empty());
    }
}
