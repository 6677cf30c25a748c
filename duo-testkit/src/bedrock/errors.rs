//! The errors [`FakeBedrock`](super::FakeBedrock) can be scripted to send: HTTP error replies
//! and exception frames inside a stream.

/// An HTTP error reply, as Bedrock's REST-JSON protocol sends it.
#[derive(Debug, Clone)]
pub struct ErrorReply {
    /// The HTTP status.
    pub status: u16,
    /// The error code (`ThrottlingException`, …), sent in `x-amzn-ErrorType` and `__type`.
    pub error_type: String,
    /// The `message` field.
    pub message: String,
    /// A `Retry-After` header value in seconds, if any.
    pub retry_after: Option<u64>,
}

impl ErrorReply {
    /// Any error.
    pub fn new(status: u16, error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            error_type: error_type.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429 `ThrottlingException`.
    #[must_use]
    pub fn throttling() -> Self {
        Self::new(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        )
    }

    /// 400 `ValidationException` for `toolUse` / `toolResult` blocks without a `toolConfig`
    /// (the fake answers it by itself to such requests).
    #[must_use]
    pub fn tool_config_missing() -> Self {
        Self::new(
            400,
            "ValidationException",
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        )
    }

    /// 400 `ValidationException`.
    #[must_use]
    pub fn validation() -> Self {
        Self::new(
            400,
            "ValidationException",
            "A conversation must start with a user message.",
        )
    }

    /// 403 `AccessDeniedException`.
    #[must_use]
    pub fn access_denied() -> Self {
        Self::new(
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        )
    }

    /// 403 `UnrecognizedClientException` (unknown access key).
    #[must_use]
    pub fn unrecognized_client() -> Self {
        Self::new(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    }

    /// 404 `ResourceNotFoundException`.
    #[must_use]
    pub fn not_found() -> Self {
        Self::new(
            404,
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        )
    }

    /// 500 `InternalServerException`.
    #[must_use]
    pub fn internal() -> Self {
        Self::new(500, "InternalServerException", "Internal server error")
    }

    /// 503 `ServiceUnavailableException`.
    #[must_use]
    pub fn unavailable() -> Self {
        Self::new(503, "ServiceUnavailableException", "Service Unavailable")
    }

    /// Adds a `Retry-After` header.
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

/// An exception frame inside a ConverseStream body (`:message-type: exception`).
#[derive(Debug, Clone)]
pub struct StreamException {
    /// The `:exception-type` header (`modelStreamErrorException`, `throttlingException`, …).
    pub exception_type: String,
    /// The payload's `message`.
    pub message: String,
    /// `originalStatusCode` (model stream errors only).
    pub original_status: Option<u16>,
}

impl StreamException {
    /// Any exception type.
    pub fn new(exception_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            exception_type: exception_type.into(),
            message: message.into(),
            original_status: None,
        }
    }

    /// `modelStreamErrorException`: the model failed while streaming.
    #[must_use]
    pub fn model_stream_error() -> Self {
        Self {
            original_status: Some(500),
            ..Self::new("modelStreamErrorException", "The model stopped responding.")
        }
    }

    /// `throttlingException`.
    #[must_use]
    pub fn throttling() -> Self {
        Self::new(
            "throttlingException",
            "Too many tokens, please wait before trying again.",
        )
    }

    /// `internalServerException`.
    #[must_use]
    pub fn internal() -> Self {
        Self::new("internalServerException", "Internal server error")
    }

    /// `serviceUnavailableException`.
    #[must_use]
    pub fn unavailable() -> Self {
        Self::new("serviceUnavailableException", "Service Unavailable")
    }

    /// `validationException`.
    #[must_use]
    pub fn validation() -> Self {
        Self::new(
            "validationException",
            "Input is too long for the requested model.",
        )
    }
}
