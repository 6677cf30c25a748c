//! Upstream requests through a real forward proxy (Debian's `tinyproxy` on loopback): plain
//! `http://` forwarded, `https://` tunnelled with TLS end to end, `no_proxy` going direct, proxy
//! credentials, and the egress policy holding for destinations the proxy, not the client,
//! connects to.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "vllm")]

use std::net::IpAddr;

mod common;

use common::complete_at as call;
use duo_core::Error;
use duo_providers::{EgressPolicy, ProviderConfig, ProxySettings, ProxyUrl, Registry};
use duo_testkit::dns::StaticResolver;
use duo_testkit::forward_proxy::Tinyproxy;
use duo_testkit::openai::{FakeOpenAi, Reply};
use duo_testkit::tls::TestCa;

fn proxied(proxy: &str) -> ProxySettings {
    ProxySettings {
        http: Some(ProxyUrl::parse(proxy).unwrap()),
        https: Some(ProxyUrl::parse(proxy).unwrap()),
        ..ProxySettings::default()
    }
}

fn config(proxy: ProxySettings) -> ProviderConfig {
    let mut config = ProviderConfig::default();
    config.resilience.max_retries = 0;
    config.http.proxy = proxy;
    config
}

/// `host:port` of a fake's URL.
fn authority(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_http_upstream_is_forwarded_by_the_proxy() {
    let proxy = Tinyproxy::start();
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::answer("return a + b"));
    let registry = Registry::try_new(config(proxied(&proxy.url()))).unwrap();

    assert_eq!(call(&registry, &fake.url()).await.unwrap(), "return a + b");
    assert_eq!(
        proxy.requests(),
        [format!(
            "POST http://{}/v1/completions HTTP/1.1",
            authority(&fake.url())
        )]
    );
    let via = fake
        .last_request()
        .unwrap()
        .header("via")
        .map(str::to_owned);
    assert!(
        via.as_deref().is_some_and(|v| v.contains("tinyproxy")),
        "the upstream got the request from the proxy: via {via:?}"
    );
}

#[tokio::test]
async fn an_https_upstream_is_tunnelled_with_tls_end_to_end() {
    let proxy = Tinyproxy::start();
    let ca = TestCa::new();
    let fake = FakeOpenAi::start_tls(&ca).await;
    fake.set_default(Reply::answer("return a + b"));
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(proxied(&proxy.url()));
    config.http.ca_bundle = Some(ca.write_bundle(dir.path()).unwrap());
    let registry = Registry::try_new(config).unwrap();

    assert_eq!(call(&registry, &fake.url()).await.unwrap(), "return a + b");
    // the proxy saw only where to connect: the path and body went inside the TLS tunnel
    assert_eq!(
        proxy.requests(),
        [format!("CONNECT {} HTTP/1.1", authority(&fake.url()))]
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn no_proxy_destinations_go_direct() {
    let proxy = Tinyproxy::start();
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::answer("return a + b"));
    let mut settings = proxied(&proxy.url());
    settings.no_proxy = Some("models.internal, 127.0.0.0/8".into());
    let registry = Registry::try_new(config(settings)).unwrap();

    assert_eq!(call(&registry, &fake.url()).await.unwrap(), "return a + b");
    assert_eq!(proxy.requests(), Vec::<String>::new());
    assert_eq!(fake.last_request().unwrap().header("via"), None);
}

#[tokio::test]
async fn a_name_that_resolves_to_the_metadata_address_is_refused_before_the_proxy_sees_it() {
    let proxy = Tinyproxy::start();
    let resolver = StaticResolver::new().with(
        "models.attacker.test",
        &["169.254.169.254".parse().unwrap()],
    );
    let mut config = config(proxied(&proxy.url()));
    config.egress = EgressPolicy::default().with_resolver(resolver.shared());
    let registry = Registry::try_new(config).unwrap();

    for url in [
        "http://models.attacker.test:8000/v1",
        "https://models.attacker.test/v1",
    ] {
        let err = call(&registry, url).await.unwrap_err();
        match &err {
            Error::EgressRefused { rule, .. } => {
                assert!(rule.contains("cloud_metadata"), "{rule}");
                assert!(rule.contains("169.254.169.254"), "{rule}");
            }
            other => panic!("{url}: expected an egress refusal, got {other:?}"),
        }
    }
    assert_eq!(
        proxy.requests(),
        Vec::<String>::new(),
        "nothing was handed to the proxy"
    );
    // a literal metadata address is refused as written, without a lookup
    let err = call(&registry, "http://169.254.169.254/latest")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::EgressRefused { .. }), "{err:?}");
    assert_eq!(resolver.lookups(), ["models.attacker.test"; 2]);
}

#[tokio::test]
async fn a_name_that_does_not_resolve_here_is_forwarded_only_when_the_operator_says_so() {
    let proxy = Tinyproxy::start();
    let resolver = StaticResolver::new();
    let mut refusing = config(proxied(&proxy.url()));
    refusing.egress = EgressPolicy::default().with_resolver(resolver.shared());
    let registry = Registry::try_new(refusing.clone()).unwrap();

    let err = call(&registry, "http://split-dns.invalid:8000/v1")
        .await
        .unwrap_err();
    match &err {
        Error::EgressRefused { rule, .. } => {
            assert!(
                rule.contains("split-dns.invalid does not resolve here"),
                "{rule}"
            );
            assert!(rule.contains("forward_unresolved"), "{rule}");
        }
        other => panic!("expected an egress refusal, got {other:?}"),
    }
    assert_eq!(proxy.requests(), Vec::<String>::new());

    let mut forwarding = refusing;
    forwarding.http.proxy.forward_unresolved = true;
    let registry = Registry::try_new(forwarding).unwrap();
    let err = call(&registry, "http://split-dns.invalid:8000/v1")
        .await
        .unwrap_err();
    assert!(
        !matches!(err, Error::EgressRefused { .. }),
        "forwarded, and the proxy could not resolve it either: {err:?}"
    );
    assert_eq!(
        proxy.requests(),
        ["POST http://split-dns.invalid:8000/v1/completions HTTP/1.1"]
    );
}

#[tokio::test]
async fn proxy_credentials_are_sent_and_a_refusal_names_the_proxys_status() {
    let proxy = Tinyproxy::start_with_basic_auth("duo", "s3cret-proxy-pass");
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::answer("return a + b"));

    let with = Registry::try_new(config(proxied(&proxy.url()))).unwrap();
    assert_eq!(call(&with, &fake.url()).await.unwrap(), "return a + b");

    let without = Registry::try_new(config(proxied(&proxy.url_without_credentials()))).unwrap();
    let err = call(&without, &fake.url()).await.unwrap_err();
    assert!(err.to_string().contains("407"), "{err}");
    assert_eq!(fake.request_count(), 1, "the refused request never arrived");
}

#[tokio::test]
async fn the_proxys_own_address_is_checked_by_the_policy() {
    let fake = FakeOpenAi::start().await;
    let resolver =
        StaticResolver::new().with("proxy.attacker.test", &[IpAddr::from([169, 254, 169, 254])]);
    let mut config = config(proxied("http://proxy.attacker.test:3128"));
    config.egress = EgressPolicy::default().with_resolver(resolver.shared());
    let registry = Registry::try_new(config).unwrap();
    let err = call(&registry, &fake.url()).await.unwrap_err();
    assert!(matches!(err, Error::EgressRefused { .. }), "{err:?}");
    assert_eq!(fake.request_count(), 0);
}

#[cfg(feature = "bedrock")]
#[tokio::test]
async fn bedrock_goes_through_the_proxy_with_its_signature_intact() {
    use duo_core::{ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt, Secret};
    use duo_providers::bedrock::BedrockSettings;
    use duo_testkit::bedrock::{Answer, FakeBedrock};

    let proxy = Tinyproxy::start_with_basic_auth("duo", "s3cret-proxy-pass");
    let fake = FakeBedrock::start().await;
    fake.set_default(Answer::text("return a + b"));
    let mut config = config(proxied(&proxy.url()));
    config.bedrock = BedrockSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDTEST".into()),
        secret_access_key: Some(Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTSECRET")),
        endpoint_url: Some(fake.url()),
        ..BedrockSettings::default()
    };
    let registry = Registry::try_new(config).unwrap();
    let endpoint = ModelEndpoint::new(
        ModelIdentifier::parse("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0").unwrap(),
        ModelFamily::Claude3,
    );
    let model = registry.model(&endpoint).await.unwrap();
    let request = ModelRequest::new(Prompt::Text("def add(a, b):".into()));
    assert_eq!(model.generate(&request).await.unwrap().text, "return a + b");
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].starts_with(&format!("POST {}/model/", fake.url())),
        "{requests:?}"
    );
    let received = fake.requests();
    assert_eq!(received.len(), 1);
    assert!(
        received[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")),
        "signed as sent"
    );
    assert_eq!(
        received[0].header("proxy-authorization"),
        None,
        "the proxy kept its credentials"
    );
}
