//! Endpoint URLs as the HTTP providers use them: whose URL and key a call takes ([`route`]),
//! parsed (http and https only), shown without credentials, extended with path segments; and
//! headers that carry a key.

use duo_core::Error;
#[cfg(any(feature = "anthropic", feature = "openai"))]
use duo_core::{ModelEndpoint, Secret};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};

/// Where a call of a platform with an operator default goes
/// ([`duo_core::EndpointSource::RequestOrOperator`]), and with which key.
#[cfg(any(feature = "anthropic", feature = "openai"))]
pub(crate) struct Route<'a> {
    /// The base URL.
    pub base: &'a str,
    /// The key, if any.
    pub key: Option<Secret>,
    /// Whether the request named the URL (the operator's key is then never used, and the
    /// operator's extra headers are sent).
    pub named_by_request: bool,
}

/// The rule of [`duo_core::EndpointSource::RequestOrOperator`]: an endpoint with a base URL is
/// served there with its own key only; one without goes to `operator_base` with its own key,
/// else the operator's.
#[cfg(any(feature = "anthropic", feature = "openai"))]
pub(crate) fn route<'a>(
    endpoint: &'a ModelEndpoint,
    operator_base: &'a str,
    operator_key: impl FnOnce() -> Option<Secret>,
) -> Route<'a> {
    match endpoint.base_url() {
        Some(own) => Route {
            base: own,
            key: endpoint.api_key().cloned(),
            named_by_request: true,
        },
        None => Route {
            base: operator_base.trim(),
            key: endpoint.api_key().cloned().or_else(operator_key),
            named_by_request: false,
        },
    }
}

/// The operator's key: `configured` when set and non-empty, else the non-empty value of the
/// environment variable `env` (as GitLab's gateway reads `ANTHROPIC_API_KEY`, `OPENAI_API_KEY`).
#[cfg(any(feature = "anthropic", feature = "openai"))]
pub(crate) fn operator_key(configured: Option<&Secret>, env: &str) -> Option<Secret> {
    configured
        .filter(|k| !k.is_empty())
        .cloned()
        .or_else(|| std::env::var(env).ok().map(Secret::new))
        .filter(|k| !k.is_empty())
}

/// Parses a base URL given in a model endpoint; only `http` and `https` are accepted.
pub(crate) fn parse_base_url(base: Option<&str>, what: &str) -> Result<Url, Error> {
    let base = base.ok_or_else(|| {
        Error::InvalidRequest(format!(
            "a {what} model needs an endpoint URL (model_endpoint)"
        ))
    })?;
    let url = Url::parse(base).map_err(|e| {
        Error::InvalidRequest(format!("the {what} endpoint URL is not a valid URL: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::InvalidRequest(format!(
            "the {what} endpoint URL must be an http:// or https:// URL, not {}:",
            url.scheme()
        )));
    }
    Ok(url)
}

/// The URL as shown in messages: without user, password, query or fragment.
pub(crate) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.as_str().trim_end_matches('/').to_owned()
}

/// `url` with `segments` appended to its path.
pub(crate) fn join(url: &Url, segments: &[&str]) -> Result<Url, Error> {
    let mut joined = url.clone();
    joined
        .path_segments_mut()
        .map_err(|()| Error::InvalidRequest("the endpoint URL cannot take a path".into()))?
        .pop_if_empty()
        .extend(segments);
    Ok(joined)
}

/// A header carrying a secret, marked sensitive so it never shows in debug output.
pub(crate) fn secret_header(
    name: HeaderName,
    value: &str,
) -> Result<(HeaderName, HeaderValue), Error> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::InvalidRequest(
            "the API key contains characters not allowed in an HTTP header".into(),
        )
    })?;
    value.set_sensitive(true);
    Ok((name, value))
}
