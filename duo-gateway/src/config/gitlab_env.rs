//! `AIGW_*` variables of GitLab's Python gateway that duo does not read, in one table: those it
//! accepts and ignores (with a warning at start), and those it refuses, because ignoring them would
//! silently weaken what the operator asked for.
//!
//! Variables of sections duo has no counterpart for at all (`AIGW_MODEL_KEYS__*`,
//! `AIGW_SNOWPLOW__*`, …) are ignored with a warning by [`super::Config::ignored_env_vars`]; this
//! table is for keys inside sections duo does read, which its config would otherwise reject as
//! unknown.

/// Keys (after `AIGW_`, as GitLab spells them) accepted and ignored, with why.
pub(crate) const IGNORED: &[(&str, &str)] = &[
    (
        "FASTAPI__DOCS_URL",
        "duo serves no OpenAPI documentation pages",
    ),
    (
        "FASTAPI__OPENAPI_URL",
        "duo serves no OpenAPI documentation pages",
    ),
    (
        "FASTAPI__REDOC_URL",
        "duo serves no OpenAPI documentation pages",
    ),
    (
        "FASTAPI__RELOAD",
        "the Python server's development auto-reload",
    ),
    (
        "FASTAPI__UVICORN_LOGGER",
        "uvicorn's logger settings; see logging.*",
    ),
    (
        "DUO_CHAT__MODEL_REQUEST_TIMEOUT",
        "duo's model-call timeouts are providers.resilience.*",
    ),
];

/// The CA bundle Python's HTTP clients read, as GitLab's gateway honours it: `SSL_CERT_FILE`,
/// else `REQUESTS_CA_BUNDLE` (the first one set and not empty). Used when
/// `providers.http.ca_bundle` is unset.
pub(crate) fn ca_bundle_from_env() -> Option<std::path::PathBuf> {
    ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"]
        .iter()
        .filter_map(std::env::var_os)
        .find(|value| !value.is_empty())
        .map(std::path::PathBuf::from)
}

/// Whether `key` (after `AIGW_`) is one duo accepts and ignores.
pub(crate) fn is_ignored(key: &str) -> bool {
    IGNORED.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::super::tests::load_with;

    #[test]
    #[allow(clippy::result_large_err)]
    fn gitlab_only_keys_of_known_sections_are_ignored_not_fatal() {
        let c = load_with(
            "",
            &[
                ("AIGW_FASTAPI__DOCS_URL", "/docs"),
                ("AIGW_FASTAPI__RELOAD", "false"),
                ("AIGW_FASTAPI__TLS__ENABLED", "false"),
                ("AIGW_FASTAPI__TLS__CERT_FILE", "/etc/tls/cert.pem"),
                ("AIGW_DUO_CHAT__MODEL_REQUEST_TIMEOUT", "30.0"),
                ("AIGW_FASTAPI__API_PORT", "7001"),
            ],
        )
        .unwrap();
        assert_eq!(c.fastapi.api_port, 7001);
        // without the table, the same key is an unknown field
        let err = load_with("", &[("AIGW_FASTAPI__NO_SUCH_KEY", "x")]).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn the_ca_bundle_comes_from_ssl_cert_file_or_requests_ca_bundle_when_unset() {
        // (an empty value counts as unset: this machine may have SSL_CERT_FILE set globally)
        let c = load_with(
            "",
            &[
                ("SSL_CERT_FILE", ""),
                ("REQUESTS_CA_BUNDLE", "/etc/corp/requests.pem"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.providers.http.ca_bundle.as_deref(),
            Some(std::path::Path::new("/etc/corp/requests.pem"))
        );
        let c = load_with(
            "",
            &[
                ("SSL_CERT_FILE", "/etc/corp/ssl.pem"),
                ("REQUESTS_CA_BUNDLE", "/etc/corp/requests.pem"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.providers.http.ca_bundle.as_deref(),
            Some(std::path::Path::new("/etc/corp/ssl.pem"))
        );
        let c = load_with(
            "[providers.http]\nca_bundle = \"/etc/duo/ca.pem\"\n",
            &[("SSL_CERT_FILE", "/etc/corp/ssl.pem")],
        )
        .unwrap();
        assert_eq!(
            c.providers.http.ca_bundle.as_deref(),
            Some(std::path::Path::new("/etc/duo/ca.pem")),
            "the gateway's own setting wins"
        );
        let c = load_with("", &[("SSL_CERT_FILE", ""), ("REQUESTS_CA_BUNDLE", "")]).unwrap();
        assert_eq!(c.providers.http.ca_bundle, None);
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn proxies_come_from_the_environment_unless_the_config_sets_them() {
        // every variable the loader reads, so that the machine's own cannot leak in
        let env = |pairs: &[(&'static str, &'static str)]| {
            let mut all: Vec<(&str, &str)> = [
                "HTTP_PROXY",
                "http_proxy",
                "HTTPS_PROXY",
                "https_proxy",
                "ALL_PROXY",
                "all_proxy",
                "NO_PROXY",
                "no_proxy",
            ]
            .iter()
            .map(|name| (*name, ""))
            .collect();
            all.extend_from_slice(pairs);
            all
        };
        let c = load_with(
            "",
            &env(&[
                ("HTTPS_PROXY", "http://proxy.corp:3128"),
                ("no_proxy", "localhost,.svc"),
            ]),
        )
        .unwrap();
        let proxy = &c.providers.http.proxy;
        assert_eq!(
            proxy.https.as_ref().map(ToString::to_string).as_deref(),
            Some("http://proxy.corp:3128/")
        );
        assert_eq!(proxy.http, None);
        assert_eq!(proxy.no_proxy.as_deref(), Some("localhost,.svc"));

        let c = load_with(
            "[providers.http.proxy]\nno_proxy = \"*\"\n",
            &env(&[("HTTPS_PROXY", "http://proxy.corp:3128")]),
        )
        .unwrap();
        assert!(
            !c.providers.http.proxy.is_enabled(),
            "the config's own table wins"
        );

        let c = load_with(
            "",
            &env(&[(
                "AIGW_PROVIDERS__HTTP__PROXY__HTTPS",
                "http://duo-proxy:8080",
            )]),
        )
        .unwrap();
        assert_eq!(
            c.providers
                .http
                .proxy
                .https
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("http://duo-proxy:8080/")
        );

        let err = load_with("", &env(&[("HTTPS_PROXY", "socks5://proxy:1080")])).unwrap_err();
        assert!(err.to_string().contains("HTTPS_PROXY"), "{err}");
    }

    #[test]
    fn the_operator_guide_lists_every_variable_of_the_table() {
        let guide = include_str!("../../../docs/OPERATOR_GUIDE.md");
        for (key, _) in super::IGNORED {
            assert!(
                guide.contains(&format!("`AIGW_{key}`")),
                "docs/OPERATOR_GUIDE.md does not name AIGW_{key}"
            );
        }
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn tls_enabled_is_read() {
        let c = load_with("", &[("AIGW_FASTAPI__TLS__ENABLED", "true")]).unwrap();
        assert!(c.fastapi.tls.enabled);
    }
}
