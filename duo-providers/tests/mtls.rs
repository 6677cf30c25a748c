//! Mutual TLS toward model servers, over real loopback TLS: a server that completes only
//! handshakes with a client certificate its CA signed, and the gateway's
//! `http.client_certificate` (one PEM file, or a separate and possibly encrypted key).
#![allow(clippy::unwrap_used)]
#![cfg(feature = "vllm")]

mod common;

use std::path::{Path, PathBuf};

use common::complete_at as call;
use duo_core::{Error, Secret};
use duo_providers::{ClientCertificate, ProviderConfig, Registry};
use duo_testkit::openai::{FakeOpenAi, Reply};
use duo_testkit::tls::{TestCa, encrypt_key_pem};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A config trusting `server_ca`, presenting `certificate` when given.
fn config(
    dir: &Path,
    server_ca: &TestCa,
    certificate: Option<ClientCertificate>,
) -> ProviderConfig {
    let mut config = ProviderConfig::default();
    config.resilience.max_retries = 0;
    config.http.ca_bundle = Some(server_ca.write_bundle(dir).unwrap());
    config.http.client_certificate = certificate;
    config
}

#[tokio::test]
async fn a_server_asking_for_a_client_certificate_gets_the_configured_one() {
    let dir = tempfile::tempdir().unwrap();
    let (server_ca, clients) = (TestCa::new(), TestCa::new());
    let fake = FakeOpenAi::start_mtls(&server_ca, &clients).await;
    fake.set_default(Reply::answer("return a + b"));
    let pair = clients.issue_client("duo-gateway");

    // without a certificate the server ends the handshake: nothing is sent
    let without = Registry::try_new(config(dir.path(), &server_ca, None)).unwrap();
    let err = call(&without, &fake.url()).await.unwrap_err();
    assert!(
        matches!(err, Error::Connect { .. } | Error::BrokenStream { .. }),
        "{err:?}"
    );
    assert_eq!(fake.request_count(), 0);

    // certificate and key in one file, as AIGW_MTLS__CERT_FILE allows
    let both = write(
        dir.path(),
        "client.pem",
        &format!("{}{}", pair.cert, pair.key),
    );
    let one_file = ClientCertificate {
        cert_file: both,
        key_file: None,
        key_password: None,
    };
    let registry = Registry::try_new(config(dir.path(), &server_ca, Some(one_file))).unwrap();
    assert_eq!(call(&registry, &fake.url()).await.unwrap(), "return a + b");
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn an_encrypted_key_in_its_own_file_is_read_with_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let (server_ca, clients) = (TestCa::new(), TestCa::new());
    let fake = FakeOpenAi::start_mtls(&server_ca, &clients).await;
    fake.set_default(Reply::answer("return a + b"));
    let pair = clients.issue_client("duo-gateway");
    let cert_file = write(dir.path(), "client.crt", &pair.cert);
    let key_file = write(
        dir.path(),
        "client.key",
        &encrypt_key_pem(&pair.key, "correct horse"),
    );
    let certificate = |password: Option<&str>| ClientCertificate {
        cert_file: cert_file.clone(),
        key_file: Some(key_file.clone()),
        key_password: password.map(Secret::new),
    };

    let registry = Registry::try_new(config(
        dir.path(),
        &server_ca,
        Some(certificate(Some("correct horse"))),
    ))
    .unwrap();
    assert_eq!(call(&registry, &fake.url()).await.unwrap(), "return a + b");

    let refused = |password| {
        Registry::try_new(config(dir.path(), &server_ca, Some(certificate(password))))
            .err()
            .unwrap()
            .to_string()
    };
    let shown = key_file.display();
    assert_eq!(
        refused(Some("battery staple")),
        format!(
            "configuration error: http.client_certificate.key_file {shown} holds an encrypted key that key_password \
             does not decrypt (a wrong password, or an encryption other than PBES2)"
        )
    );
    assert_eq!(
        refused(None),
        format!(
            "configuration error: http.client_certificate.key_file {shown} holds an encrypted key and key_password \
             is unset"
        )
    );
}

#[tokio::test]
async fn a_certificate_of_another_ca_is_refused_by_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server_ca, clients, stranger) = (TestCa::new(), TestCa::new(), TestCa::new());
    let fake = FakeOpenAi::start_mtls(&server_ca, &clients).await;
    let pair = stranger.issue_client("duo-gateway");
    let file = write(
        dir.path(),
        "client.pem",
        &format!("{}{}", pair.cert, pair.key),
    );
    let certificate = ClientCertificate {
        cert_file: file,
        key_file: None,
        key_password: None,
    };
    let registry = Registry::try_new(config(dir.path(), &server_ca, Some(certificate))).unwrap();
    let err = call(&registry, &fake.url()).await.unwrap_err();
    assert!(
        matches!(err, Error::Connect { .. } | Error::BrokenStream { .. }),
        "{err:?}"
    );
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn a_key_file_that_is_missing_or_not_a_key_is_named_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = TestCa::new();
    let pair = server_ca.issue_client("duo-gateway");
    let cert_file = write(dir.path(), "client.crt", &pair.cert);
    let one_file = ClientCertificate {
        cert_file: cert_file.clone(),
        key_file: None,
        key_password: None,
    };
    let err = Registry::try_new(config(dir.path(), &server_ca, Some(one_file)))
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        format!(
            "configuration error: http.client_certificate.cert_file {} holds no private key (set key_file when the \
             key is in its own file)",
            cert_file.display()
        )
    );
    let legacy = write(
        dir.path(),
        "legacy.key",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,\
         00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    );
    let err = Registry::try_new(config(
        dir.path(),
        &server_ca,
        Some(ClientCertificate {
            cert_file,
            key_file: Some(legacy),
            key_password: Some(Secret::new("pw")),
        }),
    ))
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("legacy encryption"), "{err}");
    assert!(err.contains("openssl pkcs8 -topk8"), "{err}");
}

#[tokio::test]
async fn verification_off_reaches_a_server_no_root_vouches_for() {
    let dir = tempfile::tempdir().unwrap();
    let untrusted = TestCa::new();
    let fake = FakeOpenAi::start_tls(&untrusted).await;
    fake.set_default(Reply::answer("return a + b"));
    let mut config = ProviderConfig::default();
    config.resilience.max_retries = 0;
    let verifying = Registry::try_new(config.clone()).unwrap();
    assert!(call(&verifying, &fake.url()).await.is_err());
    config.http.verify_server_certificates = false;
    let trusting = Registry::try_new(config).unwrap();
    assert_eq!(call(&trusting, &fake.url()).await.unwrap(), "return a + b");
    drop(dir);
}
