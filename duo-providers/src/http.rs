//! [`HttpClient`]: the pooled `reqwest` client of the OpenAI-style providers, and how HTTP-level
//! failures (transport errors, `Retry-After`) become [`duo_core::Error`]s.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use duo_core::{Error, TimeoutPhase};
use reqwest::header::HeaderMap;

use crate::proxy::Proxies;
use crate::{EgressPolicy, EgressRefused, HttpSettings};

/// One pooled HTTP client, cheap to clone (clones share the connection pool).
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    connect_timeout: Duration,
    max_response_bytes: usize,
    max_event_bytes: usize,
    extra_headers: crate::ExtraHeaders,
    egress: EgressPolicy,
    proxies: Option<Proxies>,
}

impl HttpClient {
    /// Builds the client: `connect_timeout` (zero: none), pool and keep-alive settings from
    /// `settings`, `TCP_NODELAY` on, rustls with the platform's roots plus `settings.ca_bundle`,
    /// every connection through `egress` (resolved-address checks, no redirects), and the
    /// forward proxies of `settings.proxy` (only those: the environment's are read into the
    /// settings by whoever builds them, see [`ProxySettings::or_from_env`](crate::ProxySettings::or_from_env)).
    ///
    /// # Errors
    /// [`Error::Config`] when the CA bundle cannot be read or the TLS backend cannot start.
    pub fn new(
        settings: &HttpSettings,
        connect_timeout: Duration,
        egress: &EgressPolicy,
    ) -> Result<Self, Error> {
        let mut builder = egress
            .client_builder()
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .tcp_nodelay(true)
            .user_agent(settings.user_agent.clone());
        if !connect_timeout.is_zero() {
            builder = builder.connect_timeout(connect_timeout);
        }
        if !settings.tcp_keepalive.is_zero() {
            builder = builder.tcp_keepalive(settings.tcp_keepalive);
        }
        if let Some(path) = &settings.ca_bundle {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Config(format!(
                    "cannot read http.ca_bundle {}: {e}",
                    path.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| e.to_string())
                .and_then(|certs| {
                    // a file with no PEM block at all parses as an empty bundle
                    if certs.is_empty() {
                        Err("no CERTIFICATE block found".to_owned())
                    } else {
                        Ok(certs)
                    }
                })
                .map_err(|e| {
                    Error::Config(format!(
                        "http.ca_bundle {} holds no valid PEM certificates: {e}",
                        path.display()
                    ))
                })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(certificate) = &settings.client_certificate {
            builder = builder.identity(certificate.identity()?);
        }
        if !settings.verify_server_certificates {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let (builder, proxies) = Proxies::install(&settings.proxy, builder)?;
        let client = builder
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {}", chain(&e))))?;
        Ok(Self {
            client,
            connect_timeout,
            max_response_bytes: settings.max_response_bytes,
            max_event_bytes: settings.max_event_bytes,
            extra_headers: crate::ExtraHeaders::default(),
            egress: egress.clone(),
            proxies,
        })
    }

    /// Sends `request` (built from [`inner`](Self::inner)); errors name `upstream`. A request
    /// that goes through a forward proxy is first checked at the addresses its destination
    /// resolves to here, since the proxy, not this client, connects to them (see
    /// [`crate::proxy`]).
    ///
    /// # Errors
    /// [`Error::EgressRefused`] for a destination the policy refuses; a transport error as
    /// [`Error::Connect`], [`Error::Timeout`] or [`Error::BrokenStream`].
    pub async fn send(
        &self,
        upstream: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        let request = request.build().map_err(|e| self.send_error(upstream, &e))?;
        if let Some(proxies) = &self.proxies
            && proxies.intercepts(request.url())
        {
            self.check_proxied(upstream, request.url(), proxies).await?;
        }
        self.client
            .execute(request)
            .await
            .map_err(|e| self.send_error(upstream, &e))
    }

    /// The egress check of a proxied destination, before it is sent.
    async fn check_proxied(
        &self,
        upstream: &str,
        url: &reqwest::Url,
        proxies: &Proxies,
    ) -> Result<(), Error> {
        let refused = |rule: String| Error::EgressRefused {
            upstream: upstream.to_owned(),
            rule,
        };
        self.egress
            .check_url(url)
            .map_err(|e| refused(e.to_string()))?;
        // a literal address was checked as written
        let Some(url::Host::Domain(host)) = url.host() else {
            return Ok(());
        };
        match self.egress.check_every_address(host).await {
            Ok(true) => Ok(()),
            Ok(false) if proxies.forwards_unresolved() => Ok(()),
            Ok(false) => Err(refused(format!(
                "{host} does not resolve here, so where the proxy would connect cannot be \
                 checked (providers.http.proxy.forward_unresolved = true forwards such names)"
            ))),
            Err(e) => Err(refused(e.to_string())),
        }
    }

    /// The same client, whose model calls to endpoints a request named carry `headers`.
    #[must_use]
    pub fn with_extra_headers(mut self, headers: crate::ExtraHeaders) -> Self {
        self.extra_headers = headers;
        self
    }

    /// The operator's headers for endpoints a request named.
    #[must_use]
    pub fn extra_headers(&self) -> &crate::ExtraHeaders {
        &self.extra_headers
    }

    /// The underlying `reqwest` client.
    #[must_use]
    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }

    /// The largest non-streamed answer read, in bytes.
    #[must_use]
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The largest SSE event read, in bytes.
    #[must_use]
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// The connect timeout the client was built with (zero: none).
    #[must_use]
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Maps an error of `send()` (before any response arrived) to a duo error.
    fn send_error(&self, upstream: &str, err: &reqwest::Error) -> Error {
        if let Some(refused) = EgressRefused::find(err) {
            return Error::EgressRefused {
                upstream: upstream.to_owned(),
                rule: refused.to_string(),
            };
        }
        if err.is_connect() {
            if err.is_timeout() {
                return Error::Timeout {
                    upstream: upstream.to_owned(),
                    phase: TimeoutPhase::Connect,
                    after: self.connect_timeout,
                };
            }
            return Error::Connect {
                upstream: upstream.to_owned(),
                message: chain(err),
            };
        }
        if err.is_builder() {
            return Error::Config(format!("cannot send to {upstream}: {}", chain(err)));
        }
        // The connection was made but broke before the response head: the upstream hung up.
        Error::BrokenStream {
            upstream: upstream.to_owned(),
            message: format!("no response: {}", chain(err)),
        }
    }
}

/// The error and its sources as one line, without the URL reqwest adds (it may carry a query).
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = match err.downcast_ref::<reqwest::Error>() {
        Some(e) => strip_url(e),
        None => err.to_string(),
    };
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn strip_url(err: &reqwest::Error) -> String {
    let text = err.to_string();
    match err.url() {
        Some(url) => text.replace(&format!(" for url ({url})"), ""),
        None => text,
    }
}

/// How long the upstream asks us to wait: Azure's `retry-after-ms`, else `Retry-After` as
/// seconds or as an HTTP date (a date in the past means zero).
#[must_use]
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && let Ok(d) = Duration::try_from_secs_f64(ms / 1000.0)
    {
        return Some(d);
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// An unsuccessful response, read for its error: the status, `Retry-After`, and at most 64 KiB
/// of the body (an error body is only quoted) as text.
pub(crate) struct ErrorResponse {
    /// The HTTP status.
    pub status: u16,
    /// How long the upstream asked us to wait.
    pub retry_after: Option<Duration>,
    /// The start of the body, lossy UTF-8 (empty when it could not be read).
    pub text: String,
}

impl ErrorResponse {
    /// Longest error body quoted in an error message.
    const QUOTED: usize = 1000;

    /// Reads `response`'s status, `Retry-After` and the start of its body.
    pub(crate) async fn read(response: reqwest::Response, upstream: &str) -> Self {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let text = crate::bounded::read_body(response, 64 << 10, upstream)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Self {
            status,
            retry_after,
            text,
        }
    }

    /// What to say when the body names no message: an excerpt of it, or that it was empty.
    pub(crate) fn quoted(&self) -> String {
        if self.text.trim().is_empty() {
            format!("HTTP {} with an empty body", self.status)
        } else {
            excerpt(&self.text, Self::QUOTED)
        }
    }
}

/// `text` cut to at most `max` bytes at a character boundary, with `…` when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_milliseconds() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3"), ("retry-after-ms", "150")])),
            Some(Duration::from_millis(150))
        );
        let later = SystemTime::now() + Duration::from_secs(120);
        let date = httpdate::fmt_http_date(later);
        let d = retry_after(&headers(&[("retry-after", &date)])).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn excerpt_cuts_at_char_boundaries() {
        assert_eq!(excerpt("  short ", 10), "short");
        assert_eq!(excerpt("ééé", 3), "é…");
    }

    #[test]
    fn a_missing_ca_bundle_is_a_config_error_naming_the_file() {
        let settings = HttpSettings {
            ca_bundle: Some("/nonexistent/ca.pem".into()),
            ..HttpSettings::default()
        };
        let err = HttpClient::new(&settings, Duration::from_secs(1), &EgressPolicy::default())
            .unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("/nonexistent/ca.pem")),
            "{err}"
        );
    }
}
