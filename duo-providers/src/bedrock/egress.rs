//! The egress policy inside the AWS SDK: Bedrock calls connect through an HTTP client whose DNS
//! resolver is the crate's [`EgressPolicy`], and an interceptor checks the resolved endpoint URL
//! (a literal address skips DNS) before the request is signed, so a refused destination never
//! sees a signature or a credential.
//!
//! Only the Bedrock service client gets these: the credential providers keep the SDK's own
//! client, because instance roles are fetched from the metadata address the policy refuses.

use std::fmt;

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::EgressPolicy;

/// The SDK HTTP client (rustls, as aws-config's own) resolving names through `policy`.
pub(super) fn http_client(policy: &EgressPolicy) -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .build_with_resolver(PolicyResolver(policy.clone()))
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
