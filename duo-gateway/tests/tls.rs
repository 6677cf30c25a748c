//! A GitLab instance and a model server behind TLS with an internal CA, over real loopback TLS:
//! the gateway trusts both through `providers.http.ca_bundle` and neither without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::oidc::FakeOidc;
use duo_testkit::openai::{FakeOpenAi, Reply};
use duo_testkit::tls::TestCa;
use serde_json::{Value, json};
use support::{authed_config, client, completion_body, gitlab_request, start};

async fn complete(gw: &support::TestGateway, token: &str, model_url: &str) -> (u16, Value) {
    let body = completion_body("codestral", model_url, "custom_openai/codestral");
    let res = gitlab_request(client().post(gw.url("/v2/code/completions")), token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_instances_keys_and_the_model_are_fetched_over_tls_trusted_by_the_ca_bundle() {
    let ca = TestCa::new();
    let oidc = FakeOidc::start_tls(&ca).await;
    let model = FakeOpenAi::start_tls(&ca).await;
    model.set_default(Reply::answer("return a + b"));
    assert!(oidc.url().starts_with("https://"), "{}", oidc.url());
    let dir = tempfile::tempdir().unwrap();

    let mut trusted = authed_config(&oidc).await;
    trusted.providers.http.ca_bundle = Some(ca.write_bundle(dir.path()).unwrap());
    let gw = start(trusted).await;
    let token = oidc.token(&["complete_code"]);
    let (status, body) = complete(&gw, &token, &model.url()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["text"], "return a + b", "{body}");
    assert_eq!(oidc.jwks_fetches(), 1);
    assert_eq!(model.request_count(), 1);
}

#[tokio::test]
async fn without_the_ca_bundle_the_instance_is_not_trusted_and_the_token_is_refused() {
    let ca = TestCa::new();
    let oidc = FakeOidc::start_tls(&ca).await;
    let model = FakeOpenAi::start_tls(&ca).await;
    let gw = start(authed_config(&oidc).await).await;
    let token = oidc.token(&["complete_code"]);
    let (status, body) = complete(&gw, &token, &model.url()).await;
    assert_eq!(
        (status, body),
        (401, json!({"error": "Forbidden by auth provider"}))
    );
    assert_eq!(oidc.jwks_fetches(), 0, "no handshake, so no fetch");
    assert_eq!(model.request_count(), 0);
}

#[tokio::test]
async fn gitlabs_mtls_settings_present_the_client_certificate_to_the_model_server() {
    let (server_ca, clients) = (TestCa::new(), TestCa::new());
    let model = FakeOpenAi::start_mtls(&server_ca, &clients).await;
    model.set_default(Reply::answer("return a + b"));
    let pair = clients.issue_client("duo-gateway");
    let dir = tempfile::tempdir().unwrap();
    let cert_file = dir.path().join("client.pem");
    std::fs::write(&cert_file, format!("{}{}", pair.cert, pair.key)).unwrap();

    let mut c = support::config();
    c.mtls.enabled = true;
    c.mtls.cert_file = Some(cert_file);
    c.mtls.ca_bundle = Some(server_ca.write_bundle(dir.path()).unwrap());
    let gw = start(c).await;
    let (status, body) = support::post_status(
        &gw.url("/v2/code/completions"),
        &completion_body("codestral", &model.url(), "custom_openai/codestral"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["text"], "return a + b");

    // the same gateway without the certificate: the server ends the handshake
    let mut c = support::config();
    c.providers.http.ca_bundle = Some(server_ca.write_bundle(dir.path()).unwrap());
    let gw = start(c).await;
    let (status, body) = support::post_status(
        &gw.url("/v2/code/completions"),
        &completion_body("codestral", &model.url(), "custom_openai/codestral"),
    )
    .await;
    assert_eq!((status, body), (503, json!({"detail": "Inference failed"})));
    assert_eq!(model.request_count(), 1);
}
