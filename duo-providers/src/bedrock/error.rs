//! Bedrock's error shapes (the SDK's `SdkError`) as [`duo_core::Error`]s.
//!
//! | Bedrock / SDK | duo-core |
//! |---|---|
//! | `ThrottlingException` (HTTP 429 or in-stream) | [`Error::RateLimited`] (with `Retry-After` if sent) |
//! | `ValidationException` | [`Error::UpstreamStatus`] 400 |
//! | `AccessDeniedException`, `UnrecognizedClientException`, signature/token errors, a 401/403 without a code (a refused API key) | [`Error::UpstreamAuth`] |
//! | no credentials found by the provider chain | [`Error::Config`] |
//! | `ResourceNotFoundException` | [`Error::UpstreamStatus`] 404 |
//! | `InternalServerException` / `ServiceUnavailableException` / `ModelNotReadyException` | [`Error::UpstreamStatus`] 500 / 503 / 503 |
//! | `ModelTimeoutException`, `ModelErrorException` | [`Error::UpstreamStatus`] 408, 424 |
//! | `modelStreamErrorException` in the stream | [`Error::BrokenStream`] |
//! | connect or read (response headers) timeout | [`Error::Timeout`] (`connect` / `first_byte`) |
//! | connection refused, DNS, TLS | [`Error::Connect`] (before the stream), [`Error::BrokenStream`] (in it) |
//! | event-stream frame that fails to decode (bad CRC, bad JSON), unparsable JSON body | [`Error::Protocol`] |
//! | body that ends mid-frame or the connection drops mid-stream | [`Error::BrokenStream`] |

use std::error::Error as StdError;
use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_bedrockruntime::config::http::HttpResponse;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::event_stream::RawMessage;
use duo_core::{Error, TimeoutPhase};

/// What the mapping needs to know about the call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorContext<'a> {
    /// The upstream's name for messages.
    pub upstream: &'a str,
    /// Whether events were already being received (errors then break the stream).
    pub in_stream: bool,
    /// The SDK's connect timeout.
    pub connect_timeout: Duration,
    /// The SDK's read timeout (until the response headers).
    pub read_timeout: Duration,
}

/// The HTTP status and `Retry-After` of the raw response an error came with, if any.
pub(crate) trait RawResponse {
    /// The HTTP status.
    fn status(&self) -> Option<u16>;
    /// The `Retry-After` header, in seconds.
    fn retry_after(&self) -> Option<Duration>;
}

impl RawResponse for HttpResponse {
    fn status(&self) -> Option<u16> {
        Some(HttpResponse::status(self).as_u16())
    }

    fn retry_after(&self) -> Option<Duration> {
        self.headers()
            .get("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    }
}

impl RawResponse for RawMessage {
    fn status(&self) -> Option<u16> {
        None
    }

    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// The Bedrock error code of an operation or stream error.
pub(crate) trait ErrorCode: ProvideErrorMetadata {
    /// The code (`ThrottlingException`, `modelStreamErrorException`, …), if known.
    fn error_code(&self) -> Option<&str> {
        self.code()
    }
}

impl ErrorCode for ConverseError {}

impl ErrorCode for ConverseStreamError {}

/// Exception frames name their type in the `:exception-type` header, not in the payload, so
/// the SDK's metadata has no code: the variant is the code.
impl ErrorCode for ConverseStreamOutputError {
    fn error_code(&self) -> Option<&str> {
        Some(match self {
            Self::InternalServerException(_) => "internalServerException",
            Self::ModelStreamErrorException(_) => "modelStreamErrorException",
            Self::ValidationException(_) => "validationException",
            Self::ThrottlingException(_) => "throttlingException",
            Self::ServiceUnavailableException(_) => "serviceUnavailableException",
            _ => return self.code(),
        })
    }
}

/// Maps any SDK error of a Bedrock call.
pub(crate) fn map_sdk_error<E, R>(err: &SdkError<E, R>, ctx: ErrorContext<'_>) -> Error
where
    E: ErrorCode + StdError + Send + Sync + 'static,
    R: RawResponse + std::fmt::Debug + Send + Sync + 'static,
{
    let upstream = ctx.upstream.to_owned();
    if let Some(refused) = find_in_chain::<crate::EgressRefused>(err) {
        return Error::EgressRefused {
            upstream,
            rule: refused.to_string(),
        };
    }
    match err {
        SdkError::ServiceError(service) => {
            let raw = service.raw();
            let inner = service.err();
            let code = inner.error_code();
            if code.is_none() && raw.status().is_some_and(|s| (200..300).contains(&s)) {
                // a success status whose body the SDK could not parse
                return Error::Protocol {
                    upstream,
                    message: chain(err),
                };
            }
            // An error without a code (Bedrock's API-key refusals: a bare `{"Message": …}`)
            // is the SDK's "unhandled" variant, whose metadata is its source, not its own.
            let message = inner
                .message()
                .or_else(|| find_in_chain::<ErrorMetadata>(inner).and_then(ErrorMetadata::message));
            service_error(
                code.unwrap_or("UnknownError"),
                message.unwrap_or("(no message)"),
                raw.status(),
                raw.retry_after(),
                ctx,
            )
        }
        SdkError::TimeoutError(_) => Error::Timeout {
            upstream,
            phase: TimeoutPhase::Total,
            after: ctx.read_timeout,
        },
        SdkError::DispatchFailure(dispatch) => {
            if let Some(cred) = find_in_chain::<CredentialsError>(err) {
                return Error::Config(format!(
                    "{upstream}: no usable AWS credentials: {}",
                    chain(cred)
                ));
            }
            let message = chain(err);
            if dispatch.is_timeout() {
                let connect = message.contains("connect timeout");
                Error::Timeout {
                    upstream,
                    phase: if connect {
                        TimeoutPhase::Connect
                    } else {
                        TimeoutPhase::FirstByte
                    },
                    after: if connect {
                        ctx.connect_timeout
                    } else {
                        ctx.read_timeout
                    },
                }
            } else if ctx.in_stream {
                Error::BrokenStream { upstream, message }
            } else {
                Error::Connect { upstream, message }
            }
        }
        SdkError::ResponseError(_) => {
            let message = chain(err);
            let bad_frame = find_in_chain::<aws_smithy_eventstream::error::Error>(err).is_some();
            if !bad_frame && (ctx.in_stream || find_in_chain::<std::io::Error>(err).is_some()) {
                Error::BrokenStream { upstream, message }
            } else {
                Error::Protocol { upstream, message }
            }
        }
        SdkError::ConstructionFailure(_) => Error::InvalidRequest(format!(
            "could not build the request to {upstream}: {}",
            chain(err)
        )),
        _ => {
            let message = chain(err);
            if ctx.in_stream {
                Error::BrokenStream { upstream, message }
            } else {
                Error::Connect { upstream, message }
            }
        }
    }
}

/// Codes are compared case-insensitively: HTTP errors say `ThrottlingException`, stream
/// exception frames say `throttlingException`.
fn service_error(
    code: &str,
    message: &str,
    status: Option<u16>,
    retry_after: Option<Duration>,
    ctx: ErrorContext<'_>,
) -> Error {
    let upstream = ctx.upstream.to_owned();
    let is = |name: &str| code.eq_ignore_ascii_case(name);
    let message = format!("{code}: {message}");
    let with_status = |default: u16| Error::UpstreamStatus {
        upstream: upstream.clone(),
        status: status.unwrap_or(default),
        message: message.clone(),
        retry_after,
        code: None,
    };
    if is("ThrottlingException") {
        Error::RateLimited {
            upstream,
            retry_after,
            message,
        }
    } else if [
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignatureException",
        "MissingAuthenticationTokenException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
    ]
    .iter()
    .any(|name| is(name))
    {
        Error::UpstreamAuth {
            upstream,
            status: status.unwrap_or(403),
            message,
        }
    } else if is("ValidationException") {
        with_status(400)
    } else if is("ResourceNotFoundException") {
        with_status(404)
    } else if is("ModelStreamErrorException") {
        if ctx.in_stream {
            Error::BrokenStream { upstream, message }
        } else {
            with_status(424)
        }
    } else if is("InternalServerException") {
        with_status(500)
    } else if is("ServiceUnavailableException") || is("ModelNotReadyException") {
        with_status(503)
    } else if is("ModelTimeoutException") {
        with_status(408)
    } else if is("ModelErrorException") {
        with_status(424)
    } else if let Some(status) = status {
        Error::from_status(upstream, status, message, retry_after)
    } else {
        Error::BrokenStream { upstream, message }
    }
}

/// `err` and its sources' messages joined with `: `, skipping a source whose message its
/// parent already contains (no `Debug` output: it could carry response headers).
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut message = err.to_string();
    let mut current = err.source();
    while let Some(e) = current {
        let part = e.to_string();
        if !message.contains(&part) {
            message.push_str(": ");
            message.push_str(&part);
        }
        current = e.source();
    }
    message
}

/// The first error of type `T` in `err`'s source chain (including `err` itself).
fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::error::ConnectorError;

    fn ctx(in_stream: bool) -> ErrorContext<'static> {
        ErrorContext {
            upstream: "AWS Bedrock (us-east-1)",
            in_stream,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(2),
        }
    }

    #[test]
    fn codes_map_case_insensitively_and_keep_the_code_in_the_message() {
        let e = service_error("throttlingException", "slow", None, None, ctx(true));
        assert_eq!(e.kind(), "rate_limited");
        assert!(e.to_string().contains("throttlingException: slow"));
        let e = service_error("modelStreamErrorException", "x", None, None, ctx(true));
        assert_eq!(e.kind(), "broken_stream");
        let e = service_error(
            "ModelStreamErrorException",
            "x",
            Some(424),
            None,
            ctx(false),
        );
        assert_eq!(e.upstream_status(), Some(424));
        let e = service_error("ExpiredTokenException", "x", Some(403), None, ctx(false));
        assert_eq!(e.kind(), "upstream_auth");
        let e = service_error("ModelNotReadyException", "x", None, None, ctx(false));
        assert_eq!(e.upstream_status(), Some(503));
        assert!(e.is_retryable());
    }

    fn dispatch(err: ConnectorError) -> SdkError<ConverseError, HttpResponse> {
        SdkError::dispatch_failure(err)
    }

    #[test]
    fn sdk_timeouts_say_which_phase_and_limit() {
        let connect = dispatch(ConnectorError::timeout(
            "HTTP connect timeout occurred after 1s".into(),
        ));
        assert_eq!(
            map_sdk_error(&connect, ctx(false)),
            Error::Timeout {
                upstream: "AWS Bedrock (us-east-1)".into(),
                phase: TimeoutPhase::Connect,
                after: Duration::from_secs(1),
            }
        );
        let read = dispatch(ConnectorError::timeout(
            "HTTP read timeout occurred after 2s".into(),
        ));
        assert!(matches!(
            map_sdk_error(&read, ctx(false)),
            Error::Timeout { phase: TimeoutPhase::FirstByte, after, .. } if after == Duration::from_secs(2)
        ));
    }

    #[test]
    fn io_failures_are_connect_errors_before_the_stream_and_broken_streams_in_it() {
        let io = || {
            dispatch(ConnectorError::io(Box::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ))))
        };
        let before = map_sdk_error(&io(), ctx(false));
        assert!(
            matches!(&before, Error::Connect { message, .. } if message.contains("connection reset by peer")),
            "{before:?}"
        );
        assert_eq!(map_sdk_error(&io(), ctx(true)).kind(), "broken_stream");
    }

    #[test]
    fn unknown_codes_follow_the_status_or_break_the_stream() {
        let e = service_error("SomethingNew", "x", Some(429), None, ctx(false));
        assert_eq!(e.kind(), "rate_limited");
        let e = service_error("SomethingNew", "x", Some(502), None, ctx(false));
        assert_eq!(e.upstream_status(), Some(502));
        let e = service_error("somethingNew", "x", None, None, ctx(true));
        assert_eq!(e.kind(), "broken_stream");
    }
}
