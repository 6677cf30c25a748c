//! Secrets an upstream echoes back never leave the gateway: not in the unauthenticated
//! readiness answer, not in error bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{client, completion_body, config, post_status, start};

const ECHO: &str = r#"{"error":{"message":"invalid api key upstream-key-123 for Bearer abcdefghijklmnopqrstuvwxyz (internal host 10.1.2.3)","type":"invalid_request_error"}}"#;

#[tokio::test]
async fn readiness_names_the_error_kind_and_status_only() {
    let up = FakeOpenAi::start().await;
    up.script(Reply::error(401, ECHO));
    let mut cfg = config();
    cfg.readiness.models = vec![duo_gateway::config::ProbeModel {
        identifier: "custom_openai/m".into(),
        endpoint: Some(up.url()),
        family: None,
        api_key: Some(duo_core::Secret::new("upstream-key-123")),
    }];
    let gw = start(cfg).await;
    let res = client()
        .get(gw.url("/monitoring/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "status": "unavailable",
            "failed": ["custom_openai/m"],
            "checks": [{"model": "custom_openai/m", "ok": false, "error": "upstream_auth (HTTP 401)"}],
            "docs_search": {"loaded": false, "documents": 0, "error": null}
        })
    );
}

#[tokio::test]
async fn an_echoed_key_never_reaches_the_error_body() {
    let up = FakeOpenAi::start().await;
    up.script(Reply::error(400, ECHO));
    let gw = start(config()).await;
    let (status, body) = post_status(
        &gw.url("/v2/code/completions"),
        &completion_body("codestral", &up.url(), "custom_openai/c"),
    )
    .await;
    assert_eq!(status, 400);
    let detail = body["detail"].as_str().unwrap();
    assert_eq!(
        detail,
        "the model server rejected the request (HTTP 400): invalid api key ********** for \
         Bearer ********** (internal host 10.1.2.3)"
    );
}
