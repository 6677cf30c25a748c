//! Anthropic's error types, as one table: the HTTP status each stands for, which is how an
//! `error` event in the middle of a stream becomes the same [`Error`] as an error status.

use std::time::Duration;

use duo_core::Error;

/// The status of each error type of the API reference (`overloaded_error` is Anthropic's 529).
const STATUS_OF: &[(&str, u16)] = &[
    ("invalid_request_error", 400),
    ("authentication_error", 401),
    ("billing_error", 402),
    ("permission_error", 403),
    ("not_found_error", 404),
    ("request_too_large", 413),
    ("rate_limit_error", 429),
    ("api_error", 500),
    ("timeout_error", 504),
    ("overloaded_error", 529),
];

/// The HTTP status an error type stands for, if the type is known.
pub(crate) fn status_of(kind: &str) -> Option<u16> {
    STATUS_OF
        .iter()
        .find_map(|(name, status)| (*name == kind).then_some(*status))
}

/// The error an error status (or a stream's `error` event, with the status its type stands
/// for) means: 429 rate limiting, 401/403 credentials, 5xx and 529 retryable statuses, the
/// type kept as the upstream's code.
pub(crate) fn status_error(
    upstream: &str,
    status: u16,
    kind: &str,
    message: String,
    retry_after: Option<Duration>,
) -> Error {
    Error::from_status(upstream, status, message, retry_after)
        .with_upstream_code((!kind.is_empty()).then_some(kind))
}

/// The error a stream's `error` event means: a known type as its status would be (so an
/// overloaded model before the first token is retried), an unknown one a broken stream.
pub(crate) fn stream_error(upstream: &str, kind: &str, message: &str) -> Error {
    let message = if message.is_empty() {
        format!("error event: {kind}")
    } else {
        format!("error event: {kind}: {message}")
    };
    match status_of(kind) {
        Some(status) => status_error(upstream, status, kind, message, None),
        None => Error::BrokenStream {
            upstream: upstream.to_owned(),
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overloaded_and_server_errors_are_retryable_client_errors_are_not() {
        for (kind, retryable) in [
            ("overloaded_error", true),
            ("api_error", true),
            ("rate_limit_error", true),
            ("timeout_error", true),
            ("invalid_request_error", false),
            ("authentication_error", false),
            ("permission_error", false),
            ("not_found_error", false),
            ("request_too_large", false),
        ] {
            let err = stream_error("Anthropic at http://h", kind, "m");
            assert_eq!(err.is_retryable(), retryable, "{kind}: {err:?}");
        }
        assert_eq!(status_of("overloaded_error"), Some(529));
        assert_eq!(
            stream_error("Anthropic at http://h", "authentication_error", "bad key").kind(),
            "upstream_auth"
        );
    }

    #[test]
    fn an_unknown_error_type_is_a_broken_stream_that_says_what_came() {
        let err = stream_error("Anthropic at http://h", "brand_new_error", "surprise");
        assert_eq!(err.kind(), "broken_stream");
        assert!(
            err.to_string().contains("brand_new_error: surprise"),
            "{err}"
        );
    }
}
