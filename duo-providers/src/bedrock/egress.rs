//! The egress policy inside the AWS SDK: Bedrock calls connect through an HTTP client whose DNS
//! resolver is the crate's [`EgressPolicy`], and an interceptor checks the resolved endpoint URL
//! (a literal address skips DNS) before the request is signed, so a refused destination never
//! sees a signature or a credential.
//!
//! Only the Bedrock service client gets these: the credential providers keep the SDK's own
//! client, because instance roles are fetched from the metadata address the policy refuses.

use std::fmt;

use aws_smithy_http_client::Connector;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use duo_core::Error;
use http::Uri;
use percent_encoding::percent_decode_str;

use crate::{EgressPolicy, ProxySettings};

/// The SDK HTTP client (rustls, as aws-config's own) resolving names through `policy`, and
/// through the operator's forward proxy when `proxy` names one.
///
/// Through a proxy the policy checks the proxy's address and the endpoint URL as written (the
/// [`EndpointCheck`]); the endpoint's resolved addresses are the proxy's to find. Bedrock's
/// endpoints are the operator's only (the region's AWS name or `endpoint_url`), never a
/// request's, so no request can steer that lookup.
pub(super) fn http_client(policy: &EgressPolicy, proxy: Option<&ProxyConfig>) -> SharedHttpClient {
    let resolver = PolicyResolver(policy.clone());
    let Some(proxy) = proxy.cloned() else {
        return aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .build_with_resolver(resolver);
    };
    // The one way to give the SDK's client both a resolver and a proxy: a connector built per
    // connector settings, as `build_with_resolver` builds its own.
    aws_smithy_http_client::Builder::new().build_with_connector_fn(move |settings, components| {
        let mut builder = Connector::builder().proxy_config(proxy.clone());
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .build_with_resolver(resolver.clone())
    })
}

/// `settings` as the SDK's proxy configuration: the `https` proxy (Bedrock is HTTPS), for both
/// schemes when `http` is the same or unset; `http` alone when only it is set.
pub(super) fn sdk_proxy(settings: &ProxySettings) -> Result<Option<ProxyConfig>, Error> {
    if !settings.is_enabled() {
        return Ok(None);
    }
    let (url, build): (_, fn(Uri) -> Result<ProxyConfig, _>) =
        match (&settings.https, &settings.http) {
            (Some(https), Some(http)) if https != http => (https, ProxyConfig::https),
            (Some(url), _) => (url, ProxyConfig::all),
            (None, Some(http)) => (http, ProxyConfig::http),
            (None, None) => return Ok(None),
        };
    let url = url.url();
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    let uri: Uri = bare
        .as_str()
        .parse()
        .map_err(|e| Error::Config(format!("providers.http.proxy: {e}")))?;
    let mut config = build(uri).map_err(|e| Error::Config(format!("providers.http.proxy: {e}")))?;
    if let Some(password) = url.password() {
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        config = config.with_basic_auth(decode(url.username()), decode(password));
    }
    if let Some(rules) = settings
        .no_proxy
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        config = config.no_proxy(rules);
    }
    Ok(Some(config))
}

/// Resolves with the policy's resolver and drops the addresses it refuses.
#[derive(Clone)]
struct PolicyResolver(EgressPolicy);

impl fmt::Debug for PolicyResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PolicyResolver").field(&self.0).finish()
    }
}

impl ResolveDns for PolicyResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(async move {
            let addrs = self.0.resolve(name).await.map_err(ResolveDnsError::new)?;
            Ok(addrs.into_iter().map(|addr| addr.ip()).collect())
        })
    }
}

/// Checks the request's URL, as the SDK resolved the endpoint, before signing.
#[derive(Debug)]
pub(super) struct EndpointCheck(pub(super) EgressPolicy);

impl Intercept for EndpointCheck {
    fn name(&self) -> &'static str {
        "duo egress policy"
    }

    fn read_before_signing(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let url = reqwest::Url::parse(context.request().uri())?;
        self.0.check_url(&url)?;
        Ok(())
    }
}
