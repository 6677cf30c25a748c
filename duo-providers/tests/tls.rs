//! Model servers behind TLS with an internal CA, over real loopback TLS: trusted only through
//! `http.ca_bundle`.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "vllm")]

mod common;

use common::complete_at as call;
use duo_core::Error;
use duo_providers::{ProviderConfig, Registry};
use duo_testkit::openai::{FakeOpenAi, Reply};
use duo_testkit::tls::TestCa;

#[tokio::test]
async fn an_internal_ca_is_trusted_only_through_the_ca_bundle() {
    let ca = TestCa::new();
    let fake = FakeOpenAi::start_tls(&ca).await;
    fake.set_default(Reply::answer("return a + b"));
    assert!(
        fake.url().starts_with("https://127.0.0.1:"),
        "{}",
        fake.url()
    );

    let mut config = ProviderConfig::default();
    config.resilience.max_retries = 0;
    let untrusted = Registry::try_new(config.clone()).unwrap();
    let err = call(&untrusted, &fake.url()).await.unwrap_err();
    match &err {
        Error::Connect { message, .. } => {
            assert!(message.contains("UnknownIssuer"), "{message}");
        }
        other => panic!("expected a connect error naming the certificate, got {other:?}"),
    }
    assert_eq!(
        fake.request_count(),
        0,
        "nothing sent without a trusted handshake"
    );

    let dir = tempfile::tempdir().unwrap();
    config.http.ca_bundle = Some(ca.write_bundle(dir.path()).unwrap());
    let trusted = Registry::try_new(config).unwrap();
    assert_eq!(call(&trusted, &fake.url()).await.unwrap(), "return a + b");
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_bundle_of_another_ca_does_not_trust_the_server() {
    let ca = TestCa::new();
    let other = TestCa::new();
    let fake = FakeOpenAi::start_tls(&ca).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ProviderConfig::default();
    config.resilience.max_retries = 0;
    config.http.ca_bundle = Some(other.write_bundle(dir.path()).unwrap());
    let registry = Registry::try_new(config).unwrap();
    let err = call(&registry, &fake.url()).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_eq!(fake.request_count(), 0);
}
