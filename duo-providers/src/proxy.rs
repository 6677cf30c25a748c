//! Forward proxies for upstream traffic: [`ProxySettings`] (`providers.http.proxy`, or
//! `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` from the environment), and how a
//! proxied request still keeps the [egress policy](crate::EgressPolicy).
//!
//! Without a proxy the policy checks the address each connection goes to. Through a proxy the
//! connection goes to the proxy, and the proxy resolves the destination and connects to it: the
//! policy's resolver never sees that name. So before a proxied request is sent,
//! [`HttpClient::send`](crate::HttpClient::send) resolves the destination here and refuses it when
//! any of its addresses breaks the policy (a name that resolves to `169.254.169.254` is refused
//! through the proxy as it is without one). A destination that does not resolve here (split DNS,
//! where only the proxy sees outside names) is refused too, unless the operator sets
//! `forward_unresolved`: then only the name as written is checked, and the proxy's own rules must
//! keep metadata addresses out.
//!
//! The proxy is the operator's and may be anywhere the policy allows: its own address is checked
//! like any connection's. `https://` destinations go through a `CONNECT` tunnel, so TLS (and the
//! operator's CA bundle) stays end to end; `http://` destinations are forwarded by the proxy.
//!
//! ```
//! use duo_providers::ProxySettings;
//!
//! // what the environment of a corporate host typically holds
//! let env = |name: &str| match name {
//!     "HTTPS_PROXY" => Some("proxy.corp:3128".to_owned()),
//!     "NO_PROXY" => Some("localhost,.svc.cluster.local,10.0.0.0/8".to_owned()),
//!     _ => None,
//! };
//! let settings = ProxySettings::default().or_from_vars(env).unwrap();
//! assert_eq!(settings.https.unwrap().to_string(), "http://proxy.corp:3128/");
//! assert_eq!(settings.http, None);
//! assert_eq!(settings.no_proxy.as_deref(), Some("localhost,.svc.cluster.local,10.0.0.0/8"));
//! ```

use std::fmt;
use std::sync::Arc;

use duo_core::Error;
use hyper_util::client::proxy::matcher::Matcher;
use reqwest::Url;
use serde::Deserialize;

/// Where upstream requests go through a forward proxy (`[providers.http.proxy]`).
///
/// When none of `http`, `https` and `no_proxy` is set, the gateway takes them from the
/// environment as curl and Python's HTTP clients read it (see [`or_from_vars`](Self::or_from_vars));
/// `no_proxy = "*"` turns every proxy off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxySettings {
    /// The proxy for `http://` destinations.
    pub http: Option<ProxyUrl>,
    /// The proxy for `https://` destinations (through a `CONNECT` tunnel).
    pub https: Option<ProxyUrl>,
    /// Destinations reached directly, comma-separated: host names (each also matches its
    /// subdomains; a leading dot is the same), IP addresses, CIDR ranges, or `*` for all.
    pub no_proxy: Option<String>,
    /// Forward a destination whose name does not resolve here (split DNS) instead of refusing
    /// it; the policy then checks only the name as written. Default false.
    pub forward_unresolved: bool,
}

/// The environment variables read for each setting, first one set and not empty wins.
const HTTP_VARS: &[&str] = &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
const HTTPS_VARS: &[&str] = &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];
const NO_PROXY_VARS: &[&str] = &["NO_PROXY", "no_proxy"];

impl ProxySettings {
    /// Whether any destination goes through a proxy.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        (self.http.is_some() || self.https.is_some()) && self.no_proxy.as_deref() != Some("*")
    }

    /// These settings, or when none of `http`, `https`, `no_proxy` is set, the process
    /// environment's: see [`or_from_vars`](Self::or_from_vars).
    ///
    /// # Errors
    /// As [`or_from_vars`](Self::or_from_vars).
    pub fn or_from_env(self) -> Result<Self, Error> {
        self.or_from_vars(|name| std::env::var(name).ok())
    }

    /// These settings, or when none of `http`, `https`, `no_proxy` is set, the ones `var` gives:
    /// `http` from `HTTP_PROXY`, `http_proxy`, `ALL_PROXY`, `all_proxy`; `https` from
    /// `HTTPS_PROXY`, `https_proxy`, `ALL_PROXY`, `all_proxy`; `no_proxy` from `NO_PROXY`,
    /// `no_proxy` (the first one set and not empty). A value without a scheme is `http://`, as
    /// curl reads it.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable when its value is not a proxy URL.
    pub fn or_from_vars(self, var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        if self.http.is_some() || self.https.is_some() || self.no_proxy.is_some() {
            return Ok(self);
        }
        let first = |names: &[&'static str]| {
            names.iter().find_map(|name| {
                var(name)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .map(|v| (*name, v))
            })
        };
        let proxy = |names: &[&'static str]| {
            first(names)
                .map(|(name, value)| {
                    ProxyUrl::parse(&value).map_err(|e| Error::Config(format!("{name}: {e}")))
                })
                .transpose()
        };
        Ok(Self {
            http: proxy(HTTP_VARS)?,
            https: proxy(HTTPS_VARS)?,
            no_proxy: first(NO_PROXY_VARS).map(|(_, v)| v),
            forward_unresolved: self.forward_unresolved,
        })
    }
}

/// A proxy's URL: `http://` or `https://`, a host, optionally `user:password@` (sent as
/// `Proxy-Authorization: Basic`). Its `Debug` and `Display` forms hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(Url);

impl ProxyUrl {
    /// Parses a proxy URL; without a scheme it is `http://`.
    ///
    /// # Errors
    /// Why it is not one (unparsable, another scheme, no host, a path or query).
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let with_scheme = if value.contains("://") {
            value.to_owned()
        } else {
            format!("http://{value}")
        };
        let url =
            Url::parse(&with_scheme).map_err(|e| format!("`{}` is not a URL: {e}", mask(value)))?;
        let masked = Self(url.clone()).to_string();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("`{masked}`: a proxy is http:// or https://"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("`{masked}` names no host"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!("`{masked}`: a proxy URL has no path or query"));
        }
        Ok(Self(url))
    }

    /// The URL, password included.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// `value` with anything between `://user:` and `@` replaced, for messages about a value that
/// did not even parse.
fn mask(value: &str) -> String {
    match (value.find("://"), value.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            let userinfo = &value[start + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &value[..start + 3], &value[at..]),
                None => value.to_owned(),
            }
        }
        (None, Some(at)) => match value[..at].split_once(':') {
            Some((user, _)) => format!("{user}:***{}", &value[at..]),
            None => value.to_owned(),
        },
        _ => value.to_owned(),
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.password().is_some() {
            let mut shown = self.0.clone();
            // a valid URL with a password always takes another one
            let _ = shown.set_password(Some("***"));
            f.write_str(shown.as_str())
        } else {
            f.write_str(self.0.as_str())
        }
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl<'de> Deserialize<'de> for ProxyUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// [`ProxySettings`] compiled into the client: reqwest's proxies, and the same decision ("does
/// this URL go through a proxy?") for the check before sending.
#[derive(Clone)]
pub(crate) struct Proxies {
    matcher: Arc<Matcher>,
    forward_unresolved: bool,
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxies")
            .field("forward_unresolved", &self.forward_unresolved)
            .finish_non_exhaustive()
    }
}

impl Proxies {
    /// Installs `settings` into `builder` (which ignores the environment's proxies whatever
    /// happens: only these apply); `None` when no destination goes through a proxy.
    pub(crate) fn install(
        settings: &ProxySettings,
        mut builder: reqwest::ClientBuilder,
    ) -> Result<(reqwest::ClientBuilder, Option<Self>), Error> {
        builder = builder.no_proxy();
        if !settings.is_enabled() {
            return Ok((builder, None));
        }
        let no_proxy = settings.no_proxy.clone().unwrap_or_default();
        let mut matcher = Matcher::builder().no(no_proxy.clone());
        let build_error = |e: reqwest::Error| Error::Config(format!("providers.http.proxy: {e}"));
        if let Some(url) = &settings.http {
            matcher = matcher.http(url.url().to_string());
            builder = builder.proxy(
                reqwest::Proxy::http(url.url().clone())
                    .map_err(build_error)?
                    .no_proxy(reqwest::NoProxy::from_string(&no_proxy)),
            );
        }
        if let Some(url) = &settings.https {
            matcher = matcher.https(url.url().to_string());
            builder = builder.proxy(
                reqwest::Proxy::https(url.url().clone())
                    .map_err(build_error)?
                    .no_proxy(reqwest::NoProxy::from_string(&no_proxy)),
            );
        }
        let proxies = Self {
            matcher: Arc::new(matcher.build()),
            forward_unresolved: settings.forward_unresolved,
        };
        Ok((builder, Some(proxies)))
    }

    /// Whether a request to `url` goes through a proxy (a URL the matcher cannot read counts as
    /// proxied, so that it is checked).
    pub(crate) fn intercepts(&self, url: &Url) -> bool {
        match url.as_str().parse::<http::Uri>() {
            Ok(uri) => self.matcher.intercept(&uri).is_some(),
            Err(_) => true,
        }
    }

    /// Whether a destination that does not resolve here may still be forwarded.
    pub(crate) fn forwards_unresolved(&self) -> bool {
        self.forward_unresolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_environment_fills_unset_settings_with_curls_precedence() {
        let s = ProxySettings::default()
            .or_from_vars(vars(&[
                ("http_proxy", "http://lower:1"),
                ("HTTP_PROXY", "http://upper:2"),
                ("ALL_PROXY", "http://all:3"),
                ("no_proxy", "internal"),
            ]))
            .unwrap();
        assert_eq!(s.http.unwrap().url().as_str(), "http://upper:2/");
        assert_eq!(s.https.unwrap().url().as_str(), "http://all:3/");
        assert_eq!(s.no_proxy.as_deref(), Some("internal"));

        // an empty variable is unset; a value without a scheme is http://
        let s = ProxySettings::default()
            .or_from_vars(vars(&[("HTTPS_PROXY", ""), ("https_proxy", "squid:3128")]))
            .unwrap();
        assert_eq!(s.https.unwrap().url().as_str(), "http://squid:3128/");
        assert_eq!(s.http, None);
    }

    #[test]
    fn configured_settings_win_over_the_environment_as_a_whole() {
        let configured = ProxySettings {
            no_proxy: Some("*".into()),
            ..ProxySettings::default()
        };
        let s = configured
            .clone()
            .or_from_vars(vars(&[("HTTPS_PROXY", "http://env:1")]))
            .unwrap();
        assert_eq!(s, configured);
        assert!(!s.is_enabled(), "no_proxy = \"*\" turns proxies off");
    }

    #[test]
    fn a_bad_variable_is_named_and_its_password_is_not_shown() {
        let err = ProxySettings::default()
            .or_from_vars(vars(&[("HTTPS_PROXY", "socks5://bob:hunter2@proxy:1080")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("HTTPS_PROXY"), "{err}");
        assert!(err.contains("http:// or https://"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        for bad in ["http://bob:hunter2@", "http://bob:hunter2@[::1"] {
            let err = ProxyUrl::parse(bad).unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
        }
        let err = ProxyUrl::parse("http://proxy:3128/some/path").unwrap_err();
        assert!(err.contains("no path"), "{err}");
    }

    #[test]
    fn a_password_is_hidden_in_debug_and_display_and_kept_in_the_url() {
        let url = ProxyUrl::parse("http://bob:hunter2@proxy.corp:3128").unwrap();
        assert_eq!(url.to_string(), "http://bob:***@proxy.corp:3128/");
        assert_eq!(format!("{url:?}"), "\"http://bob:***@proxy.corp:3128/\"");
        assert_eq!(url.url().password(), Some("hunter2"));
        let settings: ProxySettings =
            toml::from_str("https = \"http://bob:hunter2@proxy.corp:3128\"").unwrap();
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn no_proxy_decides_which_destinations_are_proxied() {
        let settings = ProxySettings {
            http: Some(ProxyUrl::parse("http://proxy:3128").unwrap()),
            https: Some(ProxyUrl::parse("http://proxy:3128").unwrap()),
            no_proxy: Some("localhost, .svc.cluster.local,10.0.0.0/8".into()),
            forward_unresolved: false,
        };
        let (_, proxies) = Proxies::install(&settings, reqwest::Client::builder()).unwrap();
        let proxies = proxies.unwrap();
        let proxied = |url: &str| proxies.intercepts(&Url::parse(url).unwrap());
        assert!(proxied("https://api.anthropic.com/v1/messages"));
        assert!(proxied("http://vllm.corp:8000/v1"));
        assert!(!proxied("http://localhost:8000/v1"));
        assert!(!proxied("http://vllm.models.svc.cluster.local/v1"));
        assert!(!proxied("http://10.1.2.3:8000/v1"));

        let only_https = ProxySettings {
            https: settings.https,
            ..ProxySettings::default()
        };
        let (_, proxies) = Proxies::install(&only_https, reqwest::Client::builder()).unwrap();
        let proxies = proxies.unwrap();
        assert!(!proxies.intercepts(&Url::parse("http://vllm.corp:8000/v1").unwrap()));
        assert!(proxies.intercepts(&Url::parse("https://vllm.corp/v1").unwrap()));
    }
}
