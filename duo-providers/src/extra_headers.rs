//! [`ExtraHeaders`]: headers the operator sends to every self-hosted model endpoint a request
//! names (GitLab's `AIGW_CUSTOM_MODELS__EXTRA_HEADERS`, e.g. the subscription key of an API
//! gateway in front of vLLM). Their values are secrets: never printed, scrubbed from errors.

use std::fmt;

use duo_core::{Error, Secret};
use reqwest::RequestBuilder;
use reqwest::header::{HeaderName, HeaderValue};

/// Headers the client sets itself, which the operator may not replace.
const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "accept",
    "authorization",
    "api-key",
    "x-api-key",
];

/// Validated extra headers, in the order given.
#[derive(Clone, Default)]
pub struct ExtraHeaders {
    headers: Vec<(HeaderName, HeaderValue, Secret)>,
}

impl fmt::Debug for ExtraHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.headers
                    .iter()
                    .map(|(n, _, _)| (n.as_str(), duo_core::REDACTED)),
            )
            .finish()
    }
}

impl ExtraHeaders {
    /// Checks `pairs` (name, value) as headers.
    ///
    /// # Errors
    /// [`Error::Config`] naming the header (never its value): a name that is not a header
    /// name or is one the client sets itself (`authorization`, `content-type`, …), a value
    /// that cannot go in a header, a name given twice.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a Secret)>) -> Result<Self, Error> {
        let mut headers: Vec<(HeaderName, HeaderValue, Secret)> = Vec::new();
        for (name, value) in pairs {
            let parsed = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                Error::Config(format!("extra_headers: '{name}' is not a header name"))
            })?;
            if RESERVED.contains(&parsed.as_str()) {
                return Err(Error::Config(format!(
                    "extra_headers: '{name}' is set by the gateway itself and cannot be replaced"
                )));
            }
            if headers.iter().any(|(n, _, _)| *n == parsed) {
                return Err(Error::Config(format!(
                    "extra_headers: '{name}' is given twice"
                )));
            }
            let mut header = HeaderValue::from_str(value.expose()).map_err(|_| {
                Error::Config(format!(
                    "extra_headers: the value of '{name}' cannot go in a header"
                ))
            })?;
            header.set_sensitive(true);
            headers.push((parsed, header, value.clone()));
        }
        Ok(Self { headers })
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// The header names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().map(|(n, _, _)| n.as_str())
    }

    /// `builder` with the headers added.
    pub(crate) fn apply(&self, mut builder: RequestBuilder) -> RequestBuilder {
        for (name, value, _) in &self.headers {
            builder = builder.header(name.clone(), value.clone());
        }
        builder
    }

    /// `err` without any of the values in its text (an upstream that echoes its request).
    #[must_use]
    pub fn scrub(&self, err: Error) -> Error {
        self.headers
            .iter()
            .fold(err, |err, (_, _, secret)| err.scrubbed(secret))
    }
}

/// `err` without the endpoint's `secret` and, when the call carried them, the values of the
/// operator's `extra` headers: what every HTTP client scrubs from what an upstream says back.
#[cfg_attr(
    not(any(
        feature = "vllm",
        feature = "azure",
        feature = "anthropic",
        feature = "openai"
    )),
    allow(dead_code)
)]
pub(crate) fn scrub(err: Error, secret: Option<&Secret>, extra: Option<&ExtraHeaders>) -> Error {
    let err = match extra {
        Some(extra) => extra.scrub(err),
        None => err,
    };
    match secret {
        Some(secret) => err.scrubbed(secret),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_print_and_bad_headers_name_the_header_not_the_value() {
        let key = Secret::new("sub-key-0123456789");
        let h = ExtraHeaders::new([("Ocp-Apim-Subscription-Key", &key)]).unwrap();
        assert_eq!(h.names().collect::<Vec<_>>(), ["ocp-apim-subscription-key"]);
        assert!(!format!("{h:?}").contains("sub-key"), "{h:?}");
        let err = h.scrub(Error::Config("upstream said sub-key-0123456789".into()));
        assert!(!err.to_string().contains("sub-key-0123456789"), "{err}");
        for (name, value, says) in [
            ("bad header", "v", "'bad header' is not a header name"),
            (
                "Authorization",
                "v",
                "'Authorization' is set by the gateway",
            ),
            (
                "X-Key",
                "line\nbreak",
                "the value of 'X-Key' cannot go in a header",
            ),
        ] {
            let secret = Secret::new(value);
            let err = ExtraHeaders::new([(name, &secret)])
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{err}");
            assert!(!err.contains("line\nbreak"), "{err}");
        }
        let a = Secret::new("1");
        let err = ExtraHeaders::new([("x-a", &a), ("X-A", &a)]).unwrap_err();
        assert!(err.to_string().contains("given twice"), "{err}");
    }
}
