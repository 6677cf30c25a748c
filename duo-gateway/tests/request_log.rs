//! The request log as an operator sees it: one line per request, the right fields, no secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use duo_testkit::bedrock::{Answer, FakeBedrock};
use duo_testkit::oidc::FakeOidc;
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{authed_config, client, completion_body, gitlab_request, start};

#[tokio::test(flavor = "current_thread")]
async fn one_request_log_line_per_request_and_no_secrets_anywhere() {
    let capture = duo_logging::LogCapture::default();
    let logging = duo_logging::LoggingConfig::default();
    let subscriber = duo_logging::subscriber(&logging, capture.clone()).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);

    let oidc = FakeOidc::start().await;
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("return a + b\n").chunks(2).usage(40, 6));
    fake.script(Reply::status(500));
    let gw = start(authed_config(&oidc).await).await;
    let token = oidc.token(&["complete_code"]);
    let mut body = completion_body("codestral", &fake.url(), "custom_openai/Codestral-22B");
    body["stream"] = json!(true);
    body["current_file"]["content_above_cursor"] = json!("SECRET_SOURCE_CODE = 1\n");
    let res = gitlab_request(client().post(gw.url("/v2/code/completions")), &token)
        .header("X-Request-ID", "req-abc-123")
        .header("X-Gitlab-Client-Type", "vscode")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-abc-123");
    assert_eq!(res.text().await.unwrap(), "return a + b\n");
    body["stream"] = json!(false);
    let res = gitlab_request(client().post(gw.url("/v2/code/completions")), &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let generated_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!generated_id.is_empty());
    tokio::time::sleep(Duration::from_millis(50)).await;

    let access = capture.lines_for(duo_logging::ACCESS_TARGET).unwrap();
    assert_eq!(access.len(), 2, "{access:#?}");
    let ok = &access[0];
    assert_eq!(ok["correlation_id"], "req-abc-123");
    assert_eq!(ok["status_code"], 200);
    assert_eq!(ok["method"], "POST");
    assert_eq!(ok["feature"], "code_completions");
    assert_eq!(ok["model_family"], "codestral");
    assert_eq!(ok["model_provider"], "openai_compatible");
    assert_eq!(ok["model_identifier"], "custom_openai/Codestral-22B");
    assert_eq!(ok["input_tokens"], 40);
    assert_eq!(ok["output_tokens"], 6);
    assert_eq!(ok["client_type"], "vscode");
    assert_eq!(ok["stream_cancelled"], false);
    assert!(ok["first_chunk_duration_s"].as_f64().unwrap() > 0.0);
    let failed = &access[1];
    assert_eq!(failed["correlation_id"], generated_id.as_str());
    assert_eq!(failed["status_code"], 503);
    assert_eq!(failed["error_kind"], "upstream_status");

    let everything = capture.text();
    for secret in [token.as_str(), "upstream-key-123", "SECRET_SOURCE_CODE"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into the logs"
        );
    }
}

/// GitLab's gateway drops a request's endpoint for Bedrock too; duo says so in the access line.
#[tokio::test(flavor = "current_thread")]
async fn a_request_supplied_bedrock_endpoint_is_ignored_and_logged() {
    let capture = duo_logging::LogCapture::default();
    let subscriber =
        duo_logging::subscriber(&duo_logging::LoggingConfig::default(), capture.clone()).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);

    let operator = FakeBedrock::start().await;
    let attacker = FakeBedrock::start().await;
    operator.push(Answer::chunks(["return ", "a + b\n"]));
    let mut cfg = support::config();
    cfg.custom_models.enabled = false;
    cfg.providers.bedrock.endpoint_url = Some(operator.url());
    cfg.providers.bedrock.region = Some("us-east-1".into());
    cfg.providers.bedrock.access_key_id = Some("AKIDOPERATOR".into());
    cfg.providers.bedrock.secret_access_key = Some(duo_core::Secret::new("operator-secret"));
    cfg.providers.bedrock.session_token = Some(duo_core::Secret::new("operator-session"));
    let gw = start(cfg).await;
    let body = completion_body(
        "claude_3",
        &attacker.url(),
        "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
    );
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["choices"][0]["text"],
        "return a + b\n"
    );
    assert!(
        attacker.requests().is_empty(),
        "no signed request to the request's host"
    );
    assert_eq!(operator.requests().len(), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let access = capture.lines_for(duo_logging::ACCESS_TARGET).unwrap();
    assert_eq!(access.len(), 1, "{access:#?}");
    assert_eq!(access[0]["model_endpoint_ignored"], true);
    assert_eq!(access[0]["model_provider"], "bedrock");
}

/// An upstream that echoes the key it was sent: the key is in no log line, at any level.
#[tokio::test(flavor = "current_thread")]
async fn an_echoed_key_is_in_no_log_line() {
    let capture = duo_logging::LogCapture::default();
    let logging = duo_logging::LoggingConfig {
        level: "debug".into(),
        ..duo_logging::LoggingConfig::default()
    };
    let subscriber = duo_logging::subscriber(&logging, capture.clone()).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeOpenAi::start().await;
    fake.script(Reply::error(
        500,
        r#"{"error":{"message":"cannot use key upstream-key-123"}}"#,
    ));
    fake.script(Reply::error(
        400,
        r#"{"error":{"message":"bad key upstream-key-123"}}"#,
    ));
    let gw = start(support::config()).await;
    let body = completion_body("codestral", &fake.url(), "custom_openai/c");
    for expected in [503, 400] {
        let res = client()
            .post(gw.url("/v2/code/completions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let everything = capture.text();
    assert!(
        everything.contains("cannot use key **********"),
        "{everything}"
    );
    assert!(!everything.contains("upstream-key-123"), "{everything}");
}
