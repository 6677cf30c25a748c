//! The JSON line format: one object per event with the reference's key names
//! (`timestamp`, `log_level`, `logger`, `message`, `type`, `stage`), the event's fields at the top
//! level, and the fields of the spans it happened in.
//!
//! Written straight into the output buffer (no intermediate `serde_json::Value`), because the
//! request log writes a line for every request.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events as JSON lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonFormat;

/// Formats span fields as `"key":value` pairs that [`JsonFormat`] splices into each line.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonFields;

thread_local! {
    /// Each line is built here, then handed to the writer in one call.
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(1024));
}

impl<S> FormatEvent<S, JsonFields> for JsonFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut line) => {
                line.clear();
                write_line(&mut line, ctx, event)?;
                w.write_str(&line)
            }
            // Formatting a field logged another event on this thread: use a fresh buffer.
            Err(_) => {
                let mut line = String::with_capacity(1024);
                write_line(&mut line, ctx, event)?;
                w.write_str(&line)
            }
        })
    }
}

fn write_line<S>(
    w: &mut String,
    ctx: &FmtContext<'_, S, JsonFields>,
    event: &Event<'_>,
) -> fmt::Result
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let meta = event.metadata();
    w.push_str("{\"timestamp\":\"");
    write_timestamp(w)?;
    w.push_str("\",\"log_level\":\"");
    w.push_str(level_name(*meta.level()));
    w.push_str("\",\"logger\":");
    write_json_str(w, meta.target())?;
    let mut visitor = PairWriter::new(w, true);
    event.record(&mut visitor);
    visitor.result?;
    if let Some(scope) = ctx.event_scope() {
        for span in scope.from_root() {
            let ext = span.extensions();
            if let Some(fields) = ext.get::<FormattedFields<JsonFields>>()
                && !fields.fields.is_empty()
            {
                w.push(',');
                w.push_str(&fields.fields);
            }
        }
    }
    w.push_str(",\"type\":\"mlops\",\"stage\":\"main\"}\n");
    Ok(())
}

impl<'writer> FormatFields<'writer> for JsonFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = PairWriter::new(&mut writer, false);
        fields.record(&mut visitor);
        visitor.result
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let had_fields = !current.fields.is_empty();
        let mut w = current.as_writer();
        let mut visitor = PairWriter::new(&mut w, had_fields);
        fields.record(&mut visitor);
        visitor.result
    }
}

const fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warning",
        Level::ERROR => "error",
    }
}

thread_local! {
    /// The last second formatted on this thread and its `YYYY-MM-DDTHH:MM:SS` text.
    static SECOND: RefCell<(u64, [u8; 19])> = const { RefCell::new((u64::MAX, [b'0'; 19])) };
}

/// ISO 8601 UTC with microseconds, e.g. `2026-01-31T12:00:00.123456Z`. The date and time up to
/// the second is formatted once per second per thread.
fn write_timestamp(w: &mut impl Write) -> fmt::Result {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let (secs, micros) = (since_epoch.as_secs(), since_epoch.subsec_micros());
    SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != secs {
            let mut text = String::with_capacity(19);
            write_date_time(&mut text, secs)?;
            let bytes: [u8; 19] = text.as_bytes().try_into().map_err(|_| fmt::Error)?;
            *cached = (secs, bytes);
        }
        w.write_str(std::str::from_utf8(&cached.1).map_err(|_| fmt::Error)?)
    })?;
    w.write_char('.')?;
    write_padded(w, u64::from(micros), 6)?;
    w.write_char('Z')
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix time.
fn write_date_time(w: &mut impl Write, unix_secs: u64) -> fmt::Result {
    let t = i64::try_from(unix_secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    write_padded(w, u64::try_from(t.year()).unwrap_or(0), 4)?;
    w.write_char('-')?;
    write_padded(w, u64::from(u8::from(t.month())), 2)?;
    w.write_char('-')?;
    write_padded(w, u64::from(t.day()), 2)?;
    w.write_char('T')?;
    write_padded(w, u64::from(t.hour()), 2)?;
    w.write_char(':')?;
    write_padded(w, u64::from(t.minute()), 2)?;
    w.write_char(':')?;
    write_padded(w, u64::from(t.second()), 2)
}

/// Writes `v` in decimal with at least `width` digits (zero-padded).
fn write_padded(w: &mut impl Write, mut v: u64, width: usize) -> fmt::Result {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        // `v % 10` is a digit: the cast cannot truncate.
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = i.min(buf.len().saturating_sub(width));
    for &digit in &buf[start..] {
        w.write_char(char::from(digit))?;
    }
    Ok(())
}

fn write_u64(w: &mut impl Write, v: u64) -> fmt::Result {
    write_padded(w, v, 1)
}

fn write_i64(w: &mut impl Write, v: i64) -> fmt::Result {
    if v < 0 {
        w.write_char('-')?;
    }
    write_u64(w, v.unsigned_abs())
}

/// Durations and other moderate numbers with microsecond precision (`0.004843`), anything
/// else in Rust's shortest form; `null` for NaN and infinities (not valid JSON numbers).
fn write_f64(w: &mut impl Write, v: f64) -> fmt::Result {
    if !v.is_finite() {
        return w.write_str("null");
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e12).contains(&abs) {
        return write!(w, "{v}");
    }
    if v < 0.0 {
        w.write_char('-')?;
    }
    // `abs` is below 1e12, so the micro count fits in u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let micros = (abs * 1e6).round() as u64;
    write_u64(w, micros / 1_000_000)?;
    w.write_char('.')?;
    write_padded(w, micros % 1_000_000, 6)
}

/// Writes `s` as a JSON string literal (quotes included).
pub(crate) fn write_json_str(w: &mut impl Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    Escaper(w).write_str(s)?;
    w.write_char('"')
}

/// Whether `s` has nothing a JSON string must escape (a control character, `"` or `\\`).
/// Checks eight bytes at a time: most values (ids, paths, versions, field names) are clean.
fn is_clean(s: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether any byte of `v` is below `n` (n <= 0x80): exact for "any".
    let has_less = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGHS != 0;
    let has_byte = |v: u64, b: u8| has_less(v ^ (ONES * u64::from(b)), 1);
    let dirty = |v: u64| has_less(v, 0x20) || has_byte(v, b'"') || has_byte(v, b'\\');
    let mut chunks = s.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if dirty(u64::from_le_bytes(word)) {
            return false;
        }
    }
    // The last few bytes one by one (copying them into a word costs a store-forwarding stall).
    !chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// For each byte: 0 = copy, else the letter after the backslash (`u` = `\u00XX`).
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table
};

/// A `fmt::Write` adapter that escapes what passes through it for a JSON string.
struct Escaper<'a, W: Write>(&'a mut W);

impl<W: Write> Write for Escaper<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if is_clean(s) {
            return self.0.write_str(s);
        }
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escape = ESCAPE[usize::from(b)];
            if escape == 0 {
                continue;
            }
            if start < i {
                self.0.write_str(&s[start..i])?;
            }
            if escape == b'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.0.write_str("\\u00")?;
                self.0.write_char(char::from(HEX[usize::from(b >> 4)]))?;
                self.0.write_char(char::from(HEX[usize::from(b & 0xf)]))?;
            } else {
                self.0.write_char('\\')?;
                self.0.write_char(char::from(escape))?;
            }
            start = i + 1;
        }
        if start < bytes.len() {
            self.0.write_str(&s[start..])?;
        }
        Ok(())
    }
}

/// Visits fields, writing `,"name":value` (the first without a comma unless `comma_first`).
struct PairWriter<'a, W: Write> {
    w: &'a mut W,
    comma: bool,
    result: fmt::Result,
}

impl<'a, W: Write> PairWriter<'a, W> {
    fn new(w: &'a mut W, comma_first: bool) -> Self {
        Self {
            w,
            comma: comma_first,
            result: Ok(()),
        }
    }

    fn key(&mut self, field: &Field) -> fmt::Result {
        if self.comma {
            self.w.write_char(',')?;
        }
        self.comma = true;
        let name = field.name();
        // `r#type` style raw identifiers arrive with their prefix.
        let name = name.strip_prefix("r#").unwrap_or(name);
        if is_clean(name) {
            // Field names are identifiers: nothing to escape (the common case).
            self.w.write_char('"')?;
            self.w.write_str(name)?;
            self.w.write_str("\":")
        } else {
            write_json_str(self.w, name)?;
            self.w.write_char(':')
        }
    }

    fn pair(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| value(self.w));
        }
    }
}

impl<W: Write> Visit for PairWriter<'_, W> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.pair(field, |w| write_f64(w, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pair(field, |w| write_i64(w, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pair(field, |w| write_u64(w, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.pair(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, |w| write_json_str(w, value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.pair(field, |w| {
            w.write_char('"')?;
            write!(Escaper(w), "{value}")?;
            w.write_char('"')
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, |w| {
            w.write_char('"')?;
            write!(Escaper(w), "{value:?}")?;
            w.write_char('"')
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_quotes_backslashes_and_controls() {
        let mut s = String::new();
        write_json_str(&mut s, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn clean_check_matches_the_escape_table() {
        for b in 0u8..=0x7f {
            for pos in 0..17 {
                let mut text = "a".repeat(16);
                text.insert(pos, char::from(b));
                assert_eq!(
                    is_clean(&text),
                    ESCAPE[usize::from(b)] == 0,
                    "{b:#x} at {pos}"
                );
            }
        }
        assert!(is_clean("héllo wörld ✓ 日本"));
        assert!(is_clean(""));
    }

    #[test]
    fn numbers_are_valid_json() {
        let mut s = String::new();
        for v in [
            0.0,
            0.004_842_788,
            1.5,
            59.999_999_7,
            -2.25,
            1e-9,
            3e15,
            f64::NAN,
        ] {
            s.clear();
            write_f64(&mut s, v).unwrap();
            let back: serde_json::Value = serde_json::from_str(&s).unwrap();
            if v.is_nan() {
                assert!(back.is_null());
            } else {
                let got = back.as_f64().unwrap();
                assert!(
                    (got - v).abs() <= 5e-7 || (got / v - 1.0).abs() < 1e-12,
                    "{v} -> {s}"
                );
            }
        }
        s.clear();
        write_f64(&mut s, 0.004_842_788).unwrap();
        assert_eq!(s, "0.004843");
        s.clear();
        write_i64(&mut s, -1234).unwrap();
        write_u64(&mut s, 0).unwrap();
        assert_eq!(s, "-12340");
        s.clear();
        write_padded(&mut s, 7, 4).unwrap();
        assert_eq!(s, "0007");
    }

    #[test]
    fn date_time_of_a_known_instant() {
        let mut s = String::new();
        write_date_time(&mut s, 1_700_000_000).unwrap();
        assert_eq!(s, "2023-11-14T22:13:20");
    }

    #[test]
    fn timestamp_is_iso_utc() {
        let mut s = String::new();
        write_timestamp(&mut s).unwrap();
        assert_eq!(s.len(), 27, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T');
    }
}
