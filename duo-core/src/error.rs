//! [`Error`]: one error type for every model call, saying whose fault it is and whether a retry may help.

use std::fmt;
use std::time::Duration;

/// Whose fault an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The caller sent something unusable (bad input, filtered content).
    Client,
    /// The operator's configuration is wrong (bad settings, credentials the upstream rejects).
    Config,
    /// The upstream model server failed, was slow, or was overloaded.
    Upstream,
}

/// Which time limit an [`Error::Timeout`] hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutPhase {
    /// Establishing the connection.
    Connect,
    /// Waiting for the first byte of the answer.
    FirstByte,
    /// Waiting between two chunks of a stream.
    Idle,
    /// The whole call.
    Total,
}

impl TimeoutPhase {
    /// A short, stable name (`connect`, `first_byte`, `idle`, `total`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::FirstByte => "first_byte",
            Self::Idle => "idle",
            Self::Total => "total",
        }
    }
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in a model call. `upstream` fields name the model server
/// (e.g. `vLLM at http://vllm:8000/v1`) so messages say where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request cannot be served as given (bad field, unsupported identifier, …).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The gateway's own configuration is wrong.
    #[error("configuration error: {0}")]
    Config(String),
    /// The upstream rejected the gateway's credentials (HTTP 401/403, AWS access denied).
    #[error("{upstream} rejected the credentials (HTTP {status}): {message}")]
    UpstreamAuth {
        /// The model server.
        upstream: String,
        /// The upstream's status.
        status: u16,
        /// The upstream's message.
        message: String,
    },
    /// The upstream answered with an error status not covered by a more specific variant.
    #[error("{upstream} answered HTTP {status}: {message}")]
    UpstreamStatus {
        /// The model server.
        upstream: String,
        /// The upstream's status.
        status: u16,
        /// The upstream's message.
        message: String,
        /// How long the upstream asked us to wait (`Retry-After`, e.g. with a 503).
        retry_after: Option<Duration>,
        /// The upstream's machine-readable error code, when its body named one (OpenAI's
        /// `context_length_exceeded`); see [`Error::with_upstream_code`].
        code: Option<String>,
    },
    /// The upstream is rate limiting (HTTP 429, Bedrock throttling).
    #[error("{upstream} is rate limiting requests: {message}")]
    RateLimited {
        /// The model server.
        upstream: String,
        /// How long the upstream asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// The upstream's message.
        message: String,
    },
    /// A time limit passed.
    #[error("{upstream} timed out ({phase} timeout of {after:?})")]
    Timeout {
        /// The model server.
        upstream: String,
        /// Which limit.
        phase: TimeoutPhase,
        /// The limit's value.
        after: Duration,
    },
    /// The connection could not be made (refused, DNS, TLS).
    #[error("could not connect to {upstream}: {message}")]
    Connect {
        /// The model server.
        upstream: String,
        /// What failed.
        message: String,
    },
    /// The stream broke after it started (connection reset, cut short, error event mid-stream).
    #[error("the stream from {upstream} broke: {message}")]
    BrokenStream {
        /// The model server.
        upstream: String,
        /// What happened.
        message: String,
    },
    /// The upstream sent something that does not follow its protocol (bad JSON, bad frame or CRC).
    #[error("{upstream} sent a malformed response: {message}")]
    Protocol {
        /// The model server.
        upstream: String,
        /// What was wrong.
        message: String,
    },
    /// The upstream sent more than the gateway accepts in one answer, SSE event or frame; the
    /// rest was not read.
    #[error("{upstream} sent {what} larger than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The model server.
        upstream: String,
        /// What was too large (`an answer`, `an SSE event`, `an event-stream frame`).
        what: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The egress policy refused to connect: the endpoint is, or resolves to, an address the
    /// gateway must not reach (link-local, cloud metadata, unspecified). Nothing was sent.
    #[error("the egress policy refused {upstream}: {rule}")]
    EgressRefused {
        /// The model server.
        upstream: String,
        /// Which rule refused it, and how an operator allows it.
        rule: String,
    },
    /// The upstream's content filter refused the prompt or the answer.
    #[error("{upstream} filtered the content: {message}")]
    ContentFiltered {
        /// The model server.
        upstream: String,
        /// The filter's verdict.
        message: String,
    },
}

impl Error {
    /// Classifies an upstream HTTP error status: 429 → [`RateLimited`](Self::RateLimited),
    /// 401/403 → [`UpstreamAuth`](Self::UpstreamAuth), anything else → [`UpstreamStatus`](Self::UpstreamStatus).
    #[must_use]
    pub fn from_status(
        upstream: impl Into<String>,
        status: u16,
        message: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        let (upstream, message) = (upstream.into(), message.into());
        match status {
            429 => Self::RateLimited {
                upstream,
                retry_after,
                message,
            },
            401 | 403 => Self::UpstreamAuth {
                upstream,
                status,
                message,
            },
            _ => Self::UpstreamStatus {
                upstream,
                status,
                message,
                retry_after,
                code: None,
            },
        }
    }

    /// Sets an [`UpstreamStatus`](Self::UpstreamStatus)'s `code` (other variants are returned
    /// unchanged). Only a short identifier is kept (at most 64 ASCII letters, digits, `_`, `-`
    /// or `.`, not all digits): a code is passed on to clients, so free text never is.
    #[must_use]
    pub fn with_upstream_code(mut self, upstream_code: Option<&str>) -> Self {
        if let Self::UpstreamStatus { code, .. } = &mut self {
            *code = upstream_code
                .filter(|c| is_identifier(c))
                .map(str::to_owned);
        }
        self
    }

    /// Whose fault this is.
    #[must_use]
    pub fn fault(&self) -> Fault {
        match self {
            Self::InvalidRequest(_) | Self::ContentFiltered { .. } | Self::EgressRefused { .. } => {
                Fault::Client
            }
            Self::Config(_) | Self::UpstreamAuth { .. } => Fault::Config,
            Self::UpstreamStatus { .. }
            | Self::RateLimited { .. }
            | Self::Timeout { .. }
            | Self::Connect { .. }
            | Self::BrokenStream { .. }
            | Self::ResponseTooLarge { .. }
            | Self::Protocol { .. } => Fault::Upstream,
        }
    }

    /// Whether the same call may succeed if tried again (only before anything reached the client).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Connect { .. } | Self::BrokenStream { .. } => true,
            Self::Timeout { phase, .. } => *phase != TimeoutPhase::Total,
            Self::UpstreamStatus { status, .. } => {
                matches!(status, 408 | 409 | 500 | 502 | 503 | 504 | 529)
            }
            Self::InvalidRequest(_)
            | Self::Config(_)
            | Self::UpstreamAuth { .. }
            | Self::Protocol { .. }
            | Self::ResponseTooLarge { .. }
            | Self::EgressRefused { .. }
            | Self::ContentFiltered { .. } => false,
        }
    }

    /// How long the upstream asked us to wait (`Retry-After` of a 429, or of a 503 and the like).
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::UpstreamStatus { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The upstream's HTTP status, when it sent one.
    #[must_use]
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            Self::UpstreamAuth { status, .. } | Self::UpstreamStatus { status, .. } => {
                Some(*status)
            }
            Self::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The same error with `secret` scrubbed from every text it carries (an upstream that echoes
    /// the key it was sent in its error body must not get it into a log or an answer).
    #[must_use]
    pub fn scrubbed(mut self, secret: &crate::Secret) -> Self {
        if let Some(text) = self.text_mut() {
            *text = secret.scrub(text);
        }
        if let Self::UpstreamStatus { code, .. } = &mut self
            && code.as_deref().is_some_and(|c| secret.scrub(c) != c)
        {
            *code = None;
        }
        self
    }

    /// The free text the error carries (an upstream's message), if any.
    fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            Self::InvalidRequest(m) | Self::Config(m) => Some(m),
            Self::UpstreamAuth { message, .. }
            | Self::UpstreamStatus { message, .. }
            | Self::RateLimited { message, .. }
            | Self::Connect { message, .. }
            | Self::BrokenStream { message, .. }
            | Self::Protocol { message, .. }
            | Self::ContentFiltered { message, .. } => Some(message),
            Self::Timeout { .. } | Self::ResponseTooLarge { .. } | Self::EgressRefused { .. } => {
                None
            }
        }
    }

    /// A short, stable name of the variant, for metrics labels and log fields.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::Config(_) => "config",
            Self::UpstreamAuth { .. } => "upstream_auth",
            Self::UpstreamStatus { .. } => "upstream_status",
            Self::RateLimited { .. } => "rate_limited",
            Self::Timeout { .. } => "timeout",
            Self::Connect { .. } => "connect",
            Self::BrokenStream { .. } => "broken_stream",
            Self::Protocol { .. } => "protocol",
            Self::ContentFiltered { .. } => "content_filtered",
            Self::EgressRefused { .. } => "egress_refused",
            Self::ResponseTooLarge { .. } => "response_too_large",
        }
    }
}

/// A short machine-readable identifier: what [`Error::with_upstream_code`] keeps.
fn is_identifier(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
