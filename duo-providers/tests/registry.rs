//! The client `Registry`: one shared client per endpoint, one connection pool, bounded size.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions unwrap too

mod common;

#[cfg(any(feature = "vllm", feature = "bedrock"))]
use std::sync::Arc;

#[cfg(feature = "vllm")]
use common::chat;
use common::endpoint;
#[cfg(feature = "vllm")]
use duo_core::LanguageModel;
use duo_core::{Error, ModelEndpoint, ModelFamily, ModelIdentifier};
use duo_providers::{ProviderConfig, Registry};
#[cfg(feature = "vllm")]
use duo_testkit::openai::{FakeOpenAi, Reply};

#[cfg(all(feature = "vllm", feature = "azure"))]
#[tokio::test]
async fn equal_endpoints_share_one_client_and_one_connection() {
    let fake = FakeOpenAi::start().await;
    let registry = Registry::new(ProviderConfig::default());
    let a = registry
        .model(&endpoint("custom_openai/m", &fake.url(), Some("k")))
        .await
        .unwrap();
    let same = ModelEndpoint::new(
        ModelIdentifier::parse("custom_openai/m").unwrap(),
        ModelFamily::parse("codestral"),
    )
    .with_base_url(format!("{}/", fake.url()))
    .with_api_key("k".into());
    let b = registry.model(&same).await.unwrap();
    assert!(Arc::ptr_eq(&a, &b), "same URL, model and key: one client");
    let other_key = registry
        .model(&endpoint("custom_openai/m", &fake.url(), Some("k2")))
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&a, &other_key));
    let azure = registry
        .model(&endpoint("azure/d", &fake.azure_url(), Some("k")))
        .await
        .unwrap();
    assert_eq!((registry.len(), azure.provider()), (3, "azure_openai"));

    fake.set_default(Reply::stream("pooled").chunks(2));
    for model in [&a, &other_key, &azure, &a, &other_key, &azure] {
        let (events, err) = common::drain(model.as_ref(), &chat("x")).await.unwrap();
        assert_eq!((common::text(&events).as_str(), err), ("pooled", None));
        // A stream ends at its finish; the rest of its body is read in the background, and
        // then its connection is back in the pool.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let g = model.generate(&chat("x")).await.unwrap();
        assert_eq!(g.text, "pooled");
    }
    assert_eq!(fake.request_count(), 12);
    let peers: std::collections::HashSet<_> = fake.requests().iter().map(|r| r.peer).collect();
    assert_eq!(peers.len(), 1);
    assert_eq!(
        fake.connections(),
        1,
        "every client and call reused one pooled connection"
    );
}

#[cfg(feature = "vllm")]
#[tokio::test]
async fn clients_come_wrapped_in_the_configured_resilience() {
    let fake = FakeOpenAi::start().await;
    let config: ProviderConfig = toml::from_str(
        "[resilience]\nbase_backoff = \"5ms\"\nmax_backoff = \"10ms\"\nmax_retries = 1",
    )
    .unwrap();
    let registry = Registry::new(config);
    let model = registry
        .model(&endpoint("hosted_vllm/m", &fake.url(), None))
        .await
        .unwrap();
    fake.script_all([
        Reply::status(503),
        Reply::status(503),
        Reply::answer("unused"),
    ]);
    let err = model.generate(&chat("x")).await.unwrap_err();
    assert_eq!(err.upstream_status(), Some(503));
    assert_eq!(fake.request_count(), 2, "max_retries = 1 from the config");
    assert_eq!(model.upstream(), format!("vLLM at {}", fake.url()));
}

#[cfg(feature = "vllm")]
#[tokio::test]
async fn the_least_recently_used_client_is_evicted_beyond_max_clients() {
    let fake = FakeOpenAi::start().await;
    let registry = Registry::new(ProviderConfig {
        max_clients: 2,
        ..ProviderConfig::default()
    });
    let ep = |m: &str| endpoint(&format!("custom_openai/{m}"), &fake.url(), None);
    let one = registry.model(&ep("one")).await.unwrap();
    let two = registry.model(&ep("two")).await.unwrap();
    assert!(
        Arc::ptr_eq(&one, &registry.model(&ep("one")).await.unwrap()),
        "touch one"
    );
    registry.model(&ep("three")).await.unwrap();
    assert_eq!(registry.len(), 2);
    assert!(
        Arc::ptr_eq(&one, &registry.model(&ep("one")).await.unwrap()),
        "one was used recently"
    );
    assert!(
        !Arc::ptr_eq(&two, &registry.model(&ep("two")).await.unwrap()),
        "two was evicted and rebuilt"
    );
}

#[tokio::test]
async fn unusable_endpoints_and_configs_are_clear_errors() {
    let registry = Registry::new(ProviderConfig::default());
    let no_url = ModelEndpoint::new(
        ModelIdentifier::parse("custom_openai/m").unwrap(),
        ModelFamily::parse("mistral"),
    );
    let err = registry.model(&no_url).await.err().unwrap();
    #[cfg(feature = "vllm")]
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("needs an endpoint URL")),
        "{err:?}"
    );
    #[cfg(not(feature = "vllm"))]
    assert!(
        matches!(&err, Error::Config(m) if m.contains("feature is off")),
        "{err:?}"
    );
    assert!(registry.is_empty());

    let bad_ca = || -> ProviderConfig {
        toml::from_str("[http]\nca_bundle = \"/nonexistent/ca.pem\"").unwrap()
    };
    let err = Registry::try_new(bad_ca()).unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("/nonexistent/ca.pem")),
        "{err:?}"
    );
    #[cfg(feature = "vllm")]
    {
        let lazy = Registry::new(bad_ca());
        let err = lazy
            .model(&endpoint("m", "http://127.0.0.1:9/v1", None))
            .await
            .err()
            .unwrap();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("ca_bundle")),
            "{err:?}"
        );
    }
}

#[cfg(feature = "bedrock")]
#[tokio::test]
async fn bedrock_endpoints_go_to_the_bedrock_provider() {
    let config: ProviderConfig = toml::from_str(
        "[bedrock]\nregion = \"us-east-1\"\naccess_key_id = \"AKIDEXAMPLE\"\nsecret_access_key = \"secret\"",
    )
    .unwrap();
    let registry = Registry::new(config);
    let ep = endpoint(
        "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
        "http://127.0.0.1:9",
        None,
    );
    let model = registry.model(&ep).await.unwrap();
    assert_eq!(model.provider(), "bedrock");
    assert_eq!(model.model(), "anthropic.claude-3-5-sonnet-20240620-v1:0");
    assert!(Arc::ptr_eq(&model, &registry.model(&ep).await.unwrap()));
}

#[cfg(not(feature = "bedrock"))]
#[tokio::test]
async fn without_the_bedrock_feature_bedrock_endpoints_are_config_errors() {
    let registry = Registry::new(ProviderConfig::default());
    let err = registry
        .model(&endpoint("bedrock/m", "http://127.0.0.1:9", None))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("bedrock")),
        "{err:?}"
    );
}
