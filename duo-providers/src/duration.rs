//! Reading durations in config: humantime strings (`"30s"`, `"200ms"`, `"1m 30s"`) or bare
//! numbers of seconds (`30`, `0.2`, `"30"`).

use std::fmt;
use std::time::Duration;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// Deserializes a [`Duration`] from a humantime string or a number of seconds.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

/// The longest duration a setting takes: 366 days. Longer ones are refused when parsed, so no
/// deadline computed from a setting can overflow (`Instant + Duration` panics on overflow).
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Parses `text` as a humantime duration or a number of seconds.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return from_secs(secs);
    }
    humantime::parse_duration(text)
        .map_err(|e| {
            format!(
                "invalid duration '{text}': {e} (write e.g. \"30s\", \"200ms\" or a number of seconds)"
            )
        })
        .and_then(capped)
}

fn from_secs(secs: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("invalid duration {secs}: must be a non-negative number of seconds"))
        .and_then(capped)
}

fn capped(d: Duration) -> Result<Duration, String> {
    if d > MAX_DURATION {
        Err(format!(
            "invalid duration {}: at most 366 days",
            humantime::format_duration(d)
        ))
    } else {
        Ok(d)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"30s\" or \"200ms\", or a number of seconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        capped(Duration::from_secs(v)).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map_err(|_| E::custom(format!("invalid duration {v}: must not be negative")))
            .and_then(|v| self.visit_u64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        from_secs(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_humantime_and_seconds() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse(" 5 "), Ok(Duration::from_secs(5)));
        assert_eq!(parse("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse("-1").unwrap_err().contains("non-negative"));
        assert_eq!(parse("366d"), Ok(MAX_DURATION));
        for absurd in ["1e18", "367d", "100000000y"] {
            let err = parse(absurd).unwrap_err();
            assert!(
                err.contains("at most 366 days") || err.contains("invalid duration"),
                "{absurd}: {err}"
            );
        }
        assert!(parse("1e18").unwrap_err().contains("at most 366 days"));
        assert!(
            parse("soon")
                .unwrap_err()
                .contains("invalid duration 'soon'")
        );
    }
}
