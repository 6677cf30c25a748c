//! Black-box tests of what operators rely on: auth in front of the routes, health and readiness,
//! metrics, the request log, limits, the Bedrock path, and graceful shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use duo_testkit::bedrock::{Answer, FakeBedrock};
use duo_testkit::oidc::{FakeOidc, INSTANCE_ID};
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{authed_config, client, completion_body, config, gitlab_request, prompt_body, start};

#[tokio::test]
async fn auth_runs_before_anything_else_with_the_reference_errors() {
    let oidc = FakeOidc::start().await;
    let fake = FakeOpenAi::start().await;
    let gw = start(authed_config(&oidc).await).await;
    let url = gw.url("/v2/code/completions");
    let body = completion_body("codestral", &fake.url(), "custom_openai/c");

    let res = client()
        .post(&url)
        .body("not even json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "No authorization header presented"})
    );

    let res = client()
        .post(&url)
        .header("Authorization", "invalid")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Invalid authorization header"})
    );

    let token = oidc.token(&["complete_code"]);
    let res = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Invalid authentication token type - only OIDC is supported"})
    );

    let res = client()
        .post(&url)
        .bearer_auth(&token)
        .header("X-Gitlab-Authentication-Type", "oidc")
        .header("X-Gitlab-Instance-Id", INSTANCE_ID)
        .header("X-Gitlab-Realm", "saas")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Header mismatch 'X-Gitlab-Realm'"})
    );

    let expired = oidc
        .claims()
        .scopes(&["complete_code"])
        .exp_in(-3600)
        .sign();
    let res = gitlab_request(client().post(&url), &expired)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Forbidden by auth provider"})
    );
    assert_eq!(
        fake.request_count(),
        0,
        "nothing reaches the model without a valid token"
    );

    let res = gitlab_request(client().post(&url), &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let res = client()
        .get(gw.url("/monitoring/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "health needs no token");
}

#[tokio::test]
async fn scopes_gate_each_feature() {
    let oidc = FakeOidc::start().await;
    let fake = FakeOpenAi::start().await;
    let gw = start(authed_config(&oidc).await).await;
    let token = oidc.token(&["complete_code"]);

    let mut body = completion_body("codestral", &fake.url(), "custom_openai/c");
    body["prompt_id"] = json!("code_suggestions/generations");
    let res = gitlab_request(client().post(gw.url("/v2/code/generations")), &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized to access code generations"})
    );

    let res = gitlab_request(
        client().post(gw.url("/v1/prompts/chat/explain_code")),
        &token,
    )
    .json(&prompt_body(
        "mistral",
        &fake.url(),
        "custom_openai/m",
        false,
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized to access 'chat/explain_code'"})
    );

    let gen_only = oidc.token(&["generate_code"]);
    let body = completion_body("codestral", &fake.url(), "custom_openai/c");
    let res = gitlab_request(client().post(gw.url("/v2/code/completions")), &gen_only)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized to access code completions"})
    );

    let check = oidc.token(&["complete_code"]);
    let res = gitlab_request(client().post(gw.url("/v1/prompts/model_configuration%2Fcheck")), &check)
        .json(&json!({"stream": false, "inputs": {}, "model_metadata": {"name": "mistral", "endpoint": fake.url(), "identifier": "custom_openai/m"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "the connection check needs only complete_code"
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_with_a_json_detail() {
    let mut cfg = config();
    cfg.fastapi.body_limit_bytes = 4096;
    let gw = start(cfg).await;
    let mut body = completion_body("codestral", "http://127.0.0.1:9/v1", "custom_openai/c");
    body["current_file"]["content_above_cursor"] = json!("x".repeat(5000));
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let detail = res.json::<Value>().await.unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("fastapi.body_limit_bytes"), "{detail}");
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let gw = start(config()).await;
    let res = client().post(gw.url("/v9/nothing")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Not Found"})
    );
    let res = client()
        .get(gw.url("/v2/code/completions"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn readiness_probes_the_configured_models_and_caches_the_verdict() {
    let up = FakeOpenAi::start().await;
    up.set_models(["up"]);
    let gw = start(config()).await;
    let res = client()
        .get(gw.url("/monitoring/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "no models to probe: ready");

    let mut cfg = config();
    cfg.readiness.cache_s = 60;
    cfg.readiness.models = vec![
        duo_gateway::config::ProbeModel {
            identifier: "custom_openai/up".into(),
            endpoint: Some(up.url()),
            family: None,
            api_key: None,
        },
        duo_gateway::config::ProbeModel {
            identifier: "custom_openai/down".into(),
            endpoint: Some("http://127.0.0.1:9/v1".into()),
            family: None,
            api_key: None,
        },
    ];
    let gw = start(cfg).await;
    let res = client()
        .get(gw.url("/monitoring/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["status"], "unavailable");
    assert_eq!(json["failed"], json!(["custom_openai/down"]), "{json}");
    assert_eq!(
        up.requests()
            .iter()
            .filter(|r| r.path == "/v1/models")
            .count(),
        1
    );

    let res = client()
        .get(gw.url("/monitoring/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(
        up.request_count(),
        1,
        "the verdict is cached, the models are not probed again"
    );
}

#[tokio::test]
async fn bedrock_models_are_served_through_the_sdk() {
    let bedrock = FakeBedrock::start().await;
    bedrock.push(Answer::chunks(["return ", "a + b\n"]).with_usage(20, 5));
    let mut cfg = config();
    cfg.providers.bedrock.endpoint_url = Some(bedrock.url());
    cfg.providers.bedrock.region = Some("us-east-1".into());
    cfg.providers.bedrock.access_key_id = Some("AKIDTESTGATEWAY".into());
    cfg.providers.bedrock.secret_access_key = Some(duo_core::Secret::new("gateway-test-secret"));
    let gw = start(cfg).await;
    let mut body = completion_body(
        "claude_3",
        "",
        "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
    );
    body.as_object_mut().unwrap().remove("model_endpoint");
    body["stream"] = json!(true);
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "return a + b\n");
    let req = &bedrock.requests()[0];
    assert_eq!(req.model_id, "anthropic.claude-3-5-sonnet-20240620-v1:0");
    assert!(
        req.header("authorization")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDTESTGATEWAY/")
    );
    assert!(req.body.to_string().contains("def add(a, b):"));
}

#[tokio::test]
async fn metrics_count_requests_and_model_calls() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("x").usage(11, 3));
    let gw = start(config()).await;
    let body = completion_body("codestral", &fake.url(), "custom_openai/c");
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = gw.state.metrics().render();
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    assert!(text.contains("model_inferences_total"), "{text}");
    let input_line = text
        .lines()
        .find(|l| l.starts_with("inference_input_tokens") && !l.starts_with("# "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(input_line.ends_with(" 11"), "{input_line}");
    assert!(!text.contains("upstream-key-123"));
}

#[tokio::test]
async fn metrics_listener_serves_prometheus_text() {
    let mut cfg = config();
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    cfg.fastapi.metrics_host = "127.0.0.1".into();
    cfg.fastapi.metrics_port = probe.local_addr().unwrap().port();
    drop(probe);
    let gateway = duo_gateway::Gateway::bind(cfg).await.unwrap();
    let metrics = gateway.metrics_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(gateway.run(async move {
        let _ = stopped.await;
    }));
    let res = client()
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("# TYPE"));
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn graceful_shutdown_lets_a_running_stream_finish_and_refuses_new_connections() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("one two three four five")
            .chunks(5)
            .chunk_delay(Duration::from_millis(250)),
    );
    let mut gw = start(config()).await;
    let mut body = completion_body("codestral", &fake.url(), "custom_openai/c");
    body["stream"] = json!(true);
    let mut res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let mut text = String::from_utf8(res.chunk().await.unwrap().unwrap().to_vec()).unwrap();

    let base = gw.base.clone();
    let server = gw.signal_shutdown();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = reqwest::Client::new()
        .get(format!("{base}/monitoring/healthz"))
        .send()
        .await;
    assert!(refused.is_err(), "no new connections after the signal");

    while let Some(chunk) = res.chunk().await.unwrap() {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(
        text, "one two three four five",
        "the running stream completed"
    );
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_cuts_streams_still_running_after_the_grace_period() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("a b c d e f g h")
            .chunks(8)
            .chunk_delay(Duration::from_millis(500)),
    );
    let mut cfg = config();
    cfg.fastapi.shutdown_grace_s = 1;
    let mut gw = start(cfg).await;
    let mut body = completion_body("codestral", &fake.url(), "custom_openai/c");
    body["stream"] = json!(true);
    let mut res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    res.chunk().await.unwrap();
    let started = std::time::Instant::now();
    gw.signal_shutdown().await.unwrap().unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}
