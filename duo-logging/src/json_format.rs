//! The JSON line format: one object per event with the reference's key names
//! (`timestamp`, `log_level`, `logger`, `message`, `type`, `stage`), the event's fields at the top
//! level, and the fields of the spans it happened in.
//!
//! Written straight into the output buffer (no intermediate `serde_json::Value`), because the
//! request log writes a line for every request.

use std::cell::RefCell;
use std::fmt::{self, Write};

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

/// ISO 8601 UTC with microseconds, e.g. `2026-01-31T12:00:00.123456Z`.
fn write_timestamp(w: &mut impl Write) -> fmt::Result {
    let now = time::OffsetDateTime::now_utc();
    let year = u64::try_from(now.year()).unwrap_or(0);
    write_padded(w, year, 4)?;
    w.write_char('-')?;
    write_padded(w, u64::from(u8::from(now.month())), 2)?;
    w.write_char('-')?;
    write_padded(w, u64::from(now.day()), 2)?;
    w.write_char('T')?;
    write_padded(w, u64::from(now.hour()), 2)?;
    w.write_char(':')?;
    write_padded(w, u64::from(now.minute()), 2)?;
    w.write_char(':')?;
    write_padded(w, u64::from(now.second()), 2)?;
    w.write_char('.')?;
    write_padded(w, u64::from(now.microsecond()), 6)?;
    w.write_char('Z')
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
    w.write_str(std::str::from_utf8(&buf[start..]).map_err(|_| fmt::Error)?)
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
        if name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
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
    fn timestamp_is_iso_utc() {
        let mut s = String::new();
        write_timestamp(&mut s).unwrap();
        assert_eq!(s.len(), 27, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T');
    }
}
