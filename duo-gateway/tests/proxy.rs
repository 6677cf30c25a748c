//! The gateway behind a corporate forward proxy (Debian's `tinyproxy` on loopback): GitLab's
//! OIDC keys and the model call both go through it, and an endpoint a request names that
//! resolves to the metadata address is refused before the proxy is asked.
#![allow(clippy::unwrap_used)]

mod support;

use duo_providers::{EgressPolicy, ProxySettings, ProxyUrl};
use duo_testkit::dns::StaticResolver;
use duo_testkit::forward_proxy::Tinyproxy;
use duo_testkit::oidc::FakeOidc;
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{authed_config, client, completion_body, gitlab_request, post_status, start};

fn through(proxy: &Tinyproxy) -> ProxySettings {
    ProxySettings {
        http: Some(ProxyUrl::parse(&proxy.url()).unwrap()),
        https: Some(ProxyUrl::parse(&proxy.url()).unwrap()),
        ..ProxySettings::default()
    }
}

#[tokio::test]
async fn oidc_keys_and_the_model_call_go_through_the_proxy() {
    let proxy = Tinyproxy::start();
    let oidc = FakeOidc::start().await;
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::answer("return a + b"));
    let mut c = authed_config(&oidc).await;
    c.providers.http.proxy = through(&proxy);
    let gw = start(c).await;

    let body = completion_body("codestral", &fake.url(), "custom_openai/codestral");
    let res = gitlab_request(
        client().post(gw.url("/v2/code/completions")),
        &oidc.token(&["complete_code"]),
    )
    .json(&body)
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["choices"][0]["text"], "return a + b");

    let oidc_authority = oidc.url().trim_start_matches("http://").to_owned();
    let model_authority = fake.url().trim_start_matches("http://").replace("/v1", "");
    assert_eq!(
        proxy.requests(),
        [
            format!("GET http://{oidc_authority}/.well-known/openid-configuration HTTP/1.1"),
            format!("GET {} HTTP/1.1", oidc.jwks_uri()),
            format!("POST http://{model_authority}/v1/completions HTTP/1.1"),
        ]
    );
}

#[tokio::test]
async fn a_requested_endpoint_resolving_to_the_metadata_address_never_reaches_the_proxy() {
    let proxy = Tinyproxy::start();
    let resolver =
        StaticResolver::new().with("vllm.attacker.test", &["169.254.169.254".parse().unwrap()]);
    let mut c = support::config();
    c.providers.http.proxy = through(&proxy);
    c.providers.egress = EgressPolicy::default().with_resolver(resolver.shared());
    let gw = start(c).await;

    let body = completion_body(
        "codestral",
        "http://vllm.attacker.test:8000/v1",
        "custom_openai/codestral",
    );
    let (status, answer) = post_status(&gw.url("/v2/code/completions"), &body).await;
    assert_eq!(status, 422);
    // the same answer as without a proxy
    assert_eq!(
        answer,
        json!({"detail": "model endpoint refused: vllm.attacker.test is a cloud metadata \
            address (169.254.169.254), which the egress policy refuses (rule cloud_metadata); an \
            operator allows link-local destinations with custom_models.allow_link_local_endpoints"})
    );
    assert_eq!(proxy.requests(), Vec::<String>::new());
}
