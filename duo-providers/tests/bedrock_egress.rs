//! The egress policy inside the AWS SDK: Bedrock endpoints are resolved through the policy's
//! resolver and checked before the request is signed, over real loopback HTTP to `FakeBedrock`.
#![cfg(feature = "bedrock")]
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use duo_core::{Error, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt, Secret};
use duo_providers::bedrock::BedrockSettings;
use duo_providers::{EgressPolicy, ProviderConfig, Registry};
use duo_testkit::bedrock::{Answer, FakeBedrock};
use duo_testkit::dns::StaticResolver;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A registry whose Bedrock endpoint is the operator's `endpoint_url`.
fn registry(endpoint_url: &str, resolver: &StaticResolver, allow_link_local: bool) -> Registry {
    let mut config = ProviderConfig::default();
    config.resilience.max_retries = 2;
    config.bedrock = BedrockSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDTEST".into()),
        secret_access_key: Some(Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTSECRET")),
        endpoint_url: Some(endpoint_url.into()),
        ..BedrockSettings::default()
    };
    config.egress = EgressPolicy::default()
        .with_resolver(resolver.shared())
        .allow_link_local(allow_link_local);
    Registry::try_new(config).unwrap()
}

async fn call(registry: &Registry) -> Result<String, Error> {
    let endpoint = ModelEndpoint::new(
        ModelIdentifier::parse("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0").unwrap(),
        ModelFamily::Claude3,
    );
    let model = registry.model(&endpoint).await?;
    let request = ModelRequest::new(Prompt::Text("def add(a, b):".into()));
    model.generate(&request).await.map(|g| g.text)
}

fn assert_refused(err: &Error, rule: &str) {
    match err {
        Error::EgressRefused { rule: text, .. } => {
            assert!(text.contains(&format!("(rule {rule})")), "{text}");
        }
        other => panic!("expected an egress refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_endpoint_name_resolving_to_the_metadata_address_is_refused_at_once() {
    for metadata in ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.170.2"] {
        let resolver = StaticResolver::new().with("bedrock.evil.test", &[ip(metadata)]);
        let registry = registry("http://bedrock.evil.test:8080", &resolver, false);
        let started = Instant::now();
        let err = call(&registry).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused without a connect attempt: {:?}",
            started.elapsed()
        );
        assert_refused(&err, "cloud_metadata");
        assert_eq!(resolver.lookups(), ["bedrock.evil.test"], "not retried");
    }
}

#[tokio::test]
async fn a_literal_link_local_endpoint_is_refused_before_signing() {
    let resolver = StaticResolver::new();
    let registry = registry("http://169.254.10.20:8080", &resolver, false);
    let err = call(&registry).await.unwrap_err();
    assert_refused(&err, "link_local");
    assert!(resolver.lookups().is_empty(), "{:?}", resolver.lookups());
}

#[tokio::test]
async fn names_resolve_through_the_policy_and_allowed_addresses_connect() {
    let fake = FakeBedrock::start().await;
    fake.push(Answer::chunks(["return a + b"]));
    let port = fake.addr().port();
    // The system resolver knows no `bedrock.internal.test`: answering proves the policy's
    // resolver was asked.
    let resolver = StaticResolver::new().with("bedrock.internal.test", &[ip("127.0.0.1")]);
    let registry = registry(
        &format!("http://bedrock.internal.test:{port}"),
        &resolver,
        false,
    );
    assert_eq!(call(&registry).await.unwrap(), "return a + b");
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(resolver.lookups(), ["bedrock.internal.test"]);
}

#[tokio::test]
async fn an_operator_who_allows_link_local_gets_a_connection_attempt_not_a_refusal() {
    let resolver = StaticResolver::new().with("bedrock.evil.test", &[ip("169.254.169.254")]);
    // Port 9 on the metadata address: nothing answers there, so each attempt fails (or times
    // out) as a connection error, never as a refusal.
    for url in ["http://bedrock.evil.test:9", "http://169.254.169.254:9"] {
        let registry = registry(url, &resolver, true);
        let err = tokio::time::timeout(Duration::from_secs(30), call(&registry))
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            !matches!(err, Error::EgressRefused { .. }),
            "{url}: allowed, so not refused: {err:?}"
        );
    }
}
