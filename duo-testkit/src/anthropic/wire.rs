//! The wire format's small parts: JSON written with its keys in Anthropic's order
//! (`serde_json` without `preserve_order` would sort them, and tests compare whole bodies),
//! the error types by status, and the splitting of text into deltas.

use serde_json::Value;

/// A JSON string.
pub(crate) fn s(text: &str) -> String {
    Value::from(text).to_string()
}

/// A JSON object of already rendered values, keys in the order given.
pub(crate) fn obj(fields: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&s(key));
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

/// `{"type":"error","error":{"type":…,"message":…}}`, plus `request_id` when given.
pub(crate) fn error_object(error_type: &str, message: &str, request_id: Option<&str>) -> String {
    let error = obj(&[("type", &s(error_type)), ("message", &s(message))]);
    match request_id {
        Some(id) => obj(&[
            ("type", r#""error""#),
            ("error", &error),
            ("request_id", &s(id)),
        ]),
        None => obj(&[("type", r#""error""#), ("error", &error)]),
    }
}

/// The body of an error answer.
pub(crate) fn error_body(error_type: &str, message: &str, request_id: &str) -> String {
    error_object(error_type, message, Some(request_id))
}

/// The error type Anthropic sends with `status`, and a message in its words.
pub(crate) fn standard_error(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("invalid_request_error", "Invalid request"),
        401 => ("authentication_error", "invalid x-api-key"),
        402 => ("billing_error", "Your credit balance is too low"),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        404 => ("not_found_error", "Not Found"),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        429 => (
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
        ),
        504 => ("timeout_error", "Request timed out"),
        529 => ("overloaded_error", "Overloaded"),
        _ => ("api_error", "Internal server error"),
    }
}

/// Splits `text` into at most `n` pieces of about equal length, at character boundaries.
pub(crate) fn split_chunks(text: &str, n: usize) -> Vec<&str> {
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let len = starts.len();
    if len == 0 {
        return vec![text];
    }
    let n = n.clamp(1, len);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for i in 1..=n {
        let end = starts.get(i * len / n).copied().unwrap_or(text.len());
        out.push(&text[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_chunks_keeps_all_text_and_char_boundaries() {
        assert_eq!(split_chunks("hello world", 3), vec!["hel", "lo w", "orld"]);
        assert_eq!(split_chunks("héé", 2).concat(), "héé");
        assert_eq!(split_chunks("ab", 5), vec!["a", "b"]);
        assert_eq!(split_chunks("", 3), vec![""]);
    }

    #[test]
    fn objects_keep_their_key_order() {
        assert_eq!(
            obj(&[("z", "1"), ("a", &s("é\"x"))]),
            r#"{"z":1,"a":"é\"x"}"#
        );
        assert_eq!(
            error_body("api_error", "boom", "req_1"),
            r#"{"type":"error","error":{"type":"api_error","message":"boom"},"request_id":"req_1"}"#
        );
    }
}
