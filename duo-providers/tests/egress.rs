//! The egress policy over real loopback HTTP: names resolved by a resolver the test controls,
//! redirects answered by a fake upstream, and what each upstream saw.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "vllm")]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use duo_core::{Error, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt};
use duo_providers::{EgressPolicy, ProviderConfig, Registry};
use duo_testkit::dns::StaticResolver;
use duo_testkit::openai::{FakeOpenAi, Reply};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn registry(resolver: &StaticResolver, allow_link_local: bool) -> Registry {
    let mut config = ProviderConfig::default();
    config.resilience.max_retries = 2;
    config.egress = EgressPolicy::default()
        .with_resolver(resolver.shared())
        .allow_link_local(allow_link_local);
    Registry::try_new(config).unwrap()
}

fn endpoint(url: &str) -> ModelEndpoint {
    ModelEndpoint::new(
        ModelIdentifier::parse("custom_openai/codestral").unwrap(),
        ModelFamily::Codestral,
    )
    .with_base_url(url)
}

fn text() -> ModelRequest {
    ModelRequest::new(Prompt::Text("def add(a, b):".into()))
}

async fn call(registry: &Registry, url: &str) -> Result<String, Error> {
    let model = registry.model(&endpoint(url)).await?;
    model.generate(&text()).await.map(|g| g.text)
}

#[tokio::test]
async fn a_name_that_resolves_to_the_metadata_address_is_refused_before_connecting() {
    for metadata in ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"] {
        let resolver = StaticResolver::new().with("models.evil.test", &[ip(metadata)]);
        let registry = registry(&resolver, false);
        let started = Instant::now();
        let err = call(&registry, "http://models.evil.test:8000/v1")
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused at once, not after a connect timeout: {:?}",
            started.elapsed()
        );
        match &err {
            Error::EgressRefused { rule, .. } => {
                assert!(
                    rule.starts_with("models.evil.test is a cloud metadata address"),
                    "{rule}"
                );
                assert!(rule.ends_with("(rule cloud_metadata)"), "{rule}");
            }
            other => panic!("{metadata}: expected EgressRefused, got {other:?}"),
        }
        assert_eq!(err.kind(), "egress_refused");
        assert_eq!(
            resolver.lookups(),
            ["models.evil.test"],
            "looked up once: a refusal is not retried"
        );
    }
}

#[tokio::test]
async fn refused_addresses_are_never_connected_to_and_allowed_ones_still_are() {
    let fake = FakeOpenAi::start().await;
    let port = fake.addr().port();
    // 0.0.0.0 reaches loopback listeners on Linux: a connection to it would reach the fake.
    let resolver = StaticResolver::new()
        .with("zero.test", &[ip("0.0.0.0")])
        .with("mixed.test", &[ip("169.254.169.254"), ip("127.0.0.1")]);
    let refused = registry(&resolver, false);
    let err = call(&refused, &format!("http://zero.test:{port}/v1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::EgressRefused { rule, .. } if rule.contains("(rule unspecified)")),
        "{err:?}"
    );
    assert_eq!(fake.request_count(), 0, "nothing reached the upstream");

    fake.script(Reply::answer("ok"));
    let text = call(&refused, &format!("http://mixed.test:{port}/v1"))
        .await
        .unwrap();
    assert_eq!(text, "ok", "the allowed address of the name is used");
    assert_eq!(fake.request_count(), 1);

    // The same name is served when the operator allows link-local destinations.
    fake.script(Reply::answer("allowed"));
    let open = registry(&resolver, true);
    let text = call(&open, &format!("http://zero.test:{port}/v1"))
        .await
        .unwrap();
    assert_eq!(text, "allowed");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn literal_addresses_are_refused_without_a_lookup() {
    let resolver = StaticResolver::new();
    let registry = registry(&resolver, false);
    for (url, rule) in [
        ("http://169.254.169.254/latest", "cloud_metadata"),
        ("http://[::ffff:a9fe:a9fe]/", "cloud_metadata"),
        ("http://[fe80::1]:8000/v1", "link_local"),
        ("http://100.100.100.200/", "cloud_metadata"),
        ("http://metadata.google.internal/", "cloud_metadata"),
    ] {
        let err = call(&registry, url).await.unwrap_err();
        assert!(
            matches!(&err, Error::EgressRefused { rule: r, .. } if r.ends_with(&format!("(rule {rule})"))),
            "{url}: {err:?}"
        );
    }
    assert!(resolver.lookups().is_empty());
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let target = FakeOpenAi::start().await;
    for status in [301, 302, 303, 307, 308] {
        let redirecting = FakeOpenAi::start().await;
        redirecting.script(
            Reply::status(status).header("location", format!("{}/completions", target.url())),
        );
        let registry = registry(&StaticResolver::new(), false);
        let err = call(&registry, &redirecting.url()).await.unwrap_err();
        assert_eq!(err.upstream_status(), Some(status), "{err:?}");
        assert!(!err.is_retryable(), "{status} is not retried");
        assert_eq!(redirecting.request_count(), 1);
    }
    assert_eq!(target.request_count(), 0, "nothing was sent to Location");
}
