//! The request log layer driven through a small axum app: fields, correlation ids, hashing,
//! streams ended or cancelled, the LLM log switch, secrets, and the HTTP metrics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use common::*;
use duo_core::Error;
use duo_logging::{
    ACCESS_TARGET, LLM_TARGET, LoggingConfig, MODEL_TARGET, Metrics, RequestLogSettings,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

const SHA256_OF_42: &str = "73475cb40a568e8da8a045ced110137e";

async fn send(
    settings: RequestLogSettings,
    model: Arc<Scripted>,
    request: axum::http::Request<Body>,
) -> (axum::http::Response<Body>, String, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let response = app(settings, model, Arc::clone(&metrics))
        .oneshot(request)
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        axum::http::Response::from_parts(parts, Body::empty()),
        String::from_utf8(bytes.to_vec()).unwrap(),
        metrics,
    )
}

#[tokio::test]
async fn one_line_per_request_with_the_recorded_fields() {
    let (capture, _guard) = capture();
    let mut request = gitlab_request("/v2/code/completions", "def add(a, b):");
    request
        .headers_mut()
        .insert("x-request-id", "req-1234".parse().unwrap());
    let (response, body, _) = send(
        RequestLogSettings::default(),
        Scripted::answering("    return a + b", 11, 5),
        request,
    )
    .await;
    assert_eq!(body, "    return a + b");
    assert_eq!(response.headers()["x-request-id"], "req-1234");

    let line = one(&capture, ACCESS_TARGET);
    assert_eq!(line["message"], "POST /v2/code/completions 200");
    assert_eq!(line["log_level"], "info");
    assert_eq!(line["logger"], "duo::access");
    assert_eq!(line["type"], "mlops");
    assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(line["correlation_id"], "req-1234");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["path"], "/v2/code/completions");
    assert_eq!(line["route"], "/v2/code/completions");
    assert_eq!(line["status_code"], 200);
    assert_eq!(line["feature"], "code_completions");
    assert_eq!(line["model_family"], "codestral");
    assert_eq!(line["model_provider"], "scripted");
    assert_eq!(line["model_identifier"], "custom_openai/codestral-22b");
    assert_eq!(line["input_tokens"], 11);
    assert_eq!(line["output_tokens"], 5);
    assert_eq!(line["client_type"], "gitlab-language-server");
    assert_eq!(line["client_version"], "7.1.0");
    assert_eq!(line["gitlab_realm"], "self-managed");
    assert_eq!(line["user_agent"], "duo-tests/1");
    assert_eq!(
        line["gitlab_instance_id"],
        "ea8bf810-1d6f-4a6a-b4fd-93e8cbd8b57f"
    );
    assert_eq!(line["gitlab_global_user_id"], SHA256_OF_42);
    assert_eq!(line["stream_cancelled"], false);
    assert_eq!(line["auth_bypassed"], false);
    assert_eq!(line["llm_log"], false);
    let duration = line["duration_s"].as_f64().unwrap();
    let upstream = line["upstream_duration_s"].as_f64().unwrap();
    let first_chunk = line["first_chunk_duration_s"].as_f64().unwrap();
    let response_start = line["response_start_duration_s"].as_f64().unwrap();
    assert!(upstream <= duration && first_chunk <= duration && response_start <= first_chunk);
    assert!(line.get("error_kind").is_none());

    // The model-call line belongs to the same request.
    let model = one(&capture, MODEL_TARGET);
    assert_eq!(model["message"], "Request to LLM complete");
    assert_eq!(model["correlation_id"], "req-1234");
    assert_eq!(model["total_tokens"], 16);
    assert_eq!(model["streaming"], false);

    // Lines logged by the handler carry the correlation id through the request span.
    let handler = capture
        .json_lines()
        .unwrap()
        .into_iter()
        .find(|l| l["message"] == "handler saw the request")
        .unwrap();
    assert_eq!(handler["correlation_id"], "req-1234");
}

#[tokio::test]
async fn a_correlation_id_is_generated_and_echoed_when_absent() {
    let (capture, _guard) = capture();
    let (response, _, _) = send(
        RequestLogSettings::default(),
        Scripted::answering("ok", 1, 1),
        gitlab_request("/v2/code/completions", "x"),
    )
    .await;
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(uuid_version(&id), 4, "{id}");
    assert_eq!(one(&capture, ACCESS_TARGET)["correlation_id"], id.as_str());
    assert_eq!(one(&capture, MODEL_TARGET)["correlation_id"], id.as_str());
}

fn uuid_version(id: &str) -> u32 {
    let parts: Vec<&str> = id.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    parts[2][..1].parse().unwrap()
}

#[tokio::test]
async fn a_streamed_response_is_logged_when_it_ends() {
    let (capture, _guard) = capture();
    let (_, body, metrics) = send(
        RequestLogSettings::default(),
        Scripted::answering("0123456789", 3, 2),
        gitlab_request("/v2/code/stream", "x"),
    )
    .await;
    assert_eq!(body, "0123456789");
    let line = one(&capture, ACCESS_TARGET);
    assert_eq!(line["stream_cancelled"], false);
    assert_eq!(line["output_tokens"], 2);
    assert!(
        line["first_chunk_duration_s"].as_f64().unwrap() <= line["duration_s"].as_f64().unwrap()
    );
    let model = one(&capture, MODEL_TARGET);
    assert_eq!(model["streaming"], true);
    assert!(model["first_token_duration_s"].is_f64());
    let text = metrics.render();
    assert!(
        text.contains(
            r#"model_inferences_in_flight{model_engine="scripted",model_family="codestral"} 0"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_stream_dropped_by_the_client_is_logged_as_cancelled() {
    let (capture, _guard) = capture();
    let metrics = Arc::new(Metrics::new());
    let router = app(
        RequestLogSettings::default(),
        Scripted::with(Script::Endless),
        Arc::clone(&metrics),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let client = reqwest::Client::new();
    let mut response = client
        .post(format!("http://{addr}/v2/code/stream"))
        .header("x-request-id", "cancel-me")
        .header("authorization", format!("Bearer {BEARER}"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "cancel-me");
    let first = response.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"chunk0"));
    drop(response);
    drop(client);

    let line = wait_for_line(&capture, ACCESS_TARGET).await;
    assert_eq!(line["correlation_id"], "cancel-me");
    assert_eq!(line["status_code"], 200);
    assert_eq!(line["stream_cancelled"], true);
    assert!(line["first_chunk_duration_s"].is_f64());
    let model = wait_for_line(&capture, MODEL_TARGET).await;
    assert_eq!(model["stream_cancelled"], true);
    assert_eq!(model["error"], false);
    let text = metrics.render();
    assert!(
        text.contains(
            r#"model_inferences_in_flight{model_engine="scripted",model_family="codestral"} 0"#
        ),
        "{text}"
    );
    assert!(!capture.text().contains(BEARER));
    server.abort();
}

#[tokio::test]
async fn model_errors_are_recorded_and_redacted() {
    let (capture, _guard) = capture();
    let error = Error::from_status(
        "vLLM at http://vllm:8000/v1",
        500,
        format!("echoing your header api_key={API_KEY}"),
        None,
    );
    let (response, _, metrics) = send(
        RequestLogSettings::default(),
        Scripted::with(Script::FailToStart(error)),
        gitlab_request("/v2/code/completions", "x"),
    )
    .await;
    assert_eq!(response.status(), 502);
    let line = one(&capture, ACCESS_TARGET);
    assert_eq!(line["status_code"], 502);
    assert_eq!(line["error_kind"], "upstream_status");
    let message = line["error_message"].as_str().unwrap();
    assert!(message.contains("api_key=**********"), "{message}");
    let model = one(&capture, MODEL_TARGET);
    assert_eq!(model["log_level"], "warning");
    assert_eq!(model["error_type"], "upstream_status");
    assert!(!capture.text().contains(API_KEY));
    assert!(metrics.render().contains(
        r#"inference_errors_total{model_engine="scripted",model_family="codestral",error_type="upstream_status"} 1"#
    ));
}

#[tokio::test]
async fn unmatched_routes_get_a_bounded_label() {
    let (capture, _guard) = capture();
    let (response, _, metrics) = send(
        RequestLogSettings::default(),
        Scripted::answering("x", 1, 1),
        gitlab_request("/wp-admin/../../etc/passwd-1234", "x"),
    )
    .await;
    assert_eq!(response.status(), 404);
    let line = one(&capture, ACCESS_TARGET);
    assert_eq!(line["route"], "unmatched");
    assert_eq!(line["status_code"], 404);
    let text = metrics.render();
    assert!(
        text.contains(r#"http_requests_total{handler="unmatched",method="POST",status="4xx"} 1"#),
        "{text}"
    );
    assert!(!text.contains("passwd"));
}

#[tokio::test]
async fn auth_bypass_is_logged_as_a_warning() {
    let (capture, _guard) = capture();
    let settings = RequestLogSettings {
        bypass_auth_warning: true,
        ..RequestLogSettings::default()
    };
    send(
        settings,
        Scripted::answering("x", 1, 1),
        gitlab_request("/v2/code/completions", "x"),
    )
    .await;
    let line = one(&capture, ACCESS_TARGET);
    assert_eq!(line["log_level"], "warning");
    assert_eq!(line["auth_bypassed"], true);
}

#[tokio::test]
async fn http_metrics_count_requests_by_route_and_status_class() {
    let (_capture, _guard) = capture();
    let metrics = Arc::new(Metrics::new());
    let router = app(
        RequestLogSettings::default(),
        Scripted::answering("ab", 2, 1),
        Arc::clone(&metrics),
    );
    for _ in 0..3 {
        let response = router
            .clone()
            .oneshot(gitlab_request("/v2/code/completions", "x"))
            .await
            .unwrap();
        response.into_body().collect().await.unwrap();
    }
    let text = metrics.render();
    for expected in [
        r#"http_requests_total{handler="/v2/code/completions",method="POST",status="2xx"} 3"#,
        r#"http_request_duration_seconds_count{handler="/v2/code/completions",method="POST",status="2xx"} 3"#,
        r#"model_inferences_total{model_engine="scripted",model_family="codestral",feature="code_completions",streaming="false",error="no"} 3"#,
        r#"inference_input_tokens_total{model_engine="scripted",model_family="codestral",feature="code_completions"} 6"#,
        r#"inference_output_tokens_total{model_engine="scripted",model_family="codestral",feature="code_completions"} 3"#,
        r#"inference_total_tokens_total{model_engine="scripted",model_family="codestral",feature="code_completions"} 9"#,
        r#"inference_request_duration_seconds_count{model_engine="scripted",model_family="codestral",feature="code_completions",streaming="false"} 3"#,
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
}

/// Runs one request with the secrets in headers and prompt; returns the whole log output.
async fn run_llm_case(settings: RequestLogSettings, verbose_header: Option<&str>) -> String {
    let (capture, _guard) = capture();
    let answer = format!("{ANSWER_CANARY} # key {API_KEY}");
    let mut request = gitlab_request("/v2/code/completions", &prompt_with_secrets());
    if let Some(v) = verbose_header {
        request.headers_mut().insert(
            "x-gitlab-enabled-instance-verbose-ai-logs",
            v.parse().unwrap(),
        );
    }
    let (_, body, _) = send(settings, Scripted::answering(&answer, 1, 1), request).await;
    assert_eq!(body, answer);
    let text = capture.text();
    // Whatever the switches, the bearer token and the key never reach the log.
    assert!(!text.contains(BEARER), "bearer token logged:\n{text}");
    assert!(!text.contains(API_KEY), "API key logged:\n{text}");
    assert!(
        !text.contains("S1GNATURE"),
        "part of the token logged:\n{text}"
    );
    capture.json_lines().unwrap(); // every line is valid JSON
    text
}

fn logged_llm_content(text: &str) -> bool {
    let prompt = text.contains(PROMPT_CANARY);
    let answer = text.contains(ANSWER_CANARY);
    assert_eq!(
        prompt, answer,
        "prompt and answer logged together or not at all"
    );
    prompt
}

fn settings(global: bool, allowed_by_header: bool) -> RequestLogSettings {
    let config = LoggingConfig {
        enable_request_logging: global,
        ..LoggingConfig::default()
    };
    RequestLogSettings {
        llm_log_allowed_by_header: allowed_by_header,
        ..RequestLogSettings::from_config(&config).unwrap()
    }
}

#[tokio::test]
async fn llm_content_is_off_by_default_even_when_the_instance_asks() {
    assert!(!logged_llm_content(
        &run_llm_case(settings(false, false), None).await
    ));
    assert!(!logged_llm_content(
        &run_llm_case(settings(false, false), Some("true")).await
    ));
}

#[tokio::test]
async fn the_instance_header_turns_llm_content_on_only_when_allowed() {
    assert!(logged_llm_content(
        &run_llm_case(settings(false, true), Some("true")).await
    ));
    assert!(!logged_llm_content(
        &run_llm_case(settings(false, true), Some("false")).await
    ));
    assert!(!logged_llm_content(
        &run_llm_case(settings(false, true), None).await
    ));
}

#[tokio::test]
async fn the_global_switch_turns_llm_content_on_with_secrets_redacted() {
    let text = run_llm_case(settings(true, false), None).await;
    assert!(logged_llm_content(&text));
    assert!(text.contains("Bearer **********"), "{text}");
    assert!(text.contains(r#"api_key = \"**********\""#), "{text}");
}

#[tokio::test]
async fn llm_lines_have_their_own_target_and_the_request_id() {
    let (capture, _guard) = capture();
    let mut request = gitlab_request("/v2/code/completions", "def f():");
    request
        .headers_mut()
        .insert("x-request-id", "llm-1".parse().unwrap());
    send(
        settings(true, false),
        Scripted::answering("pass", 1, 1),
        request,
    )
    .await;
    let llm = lines(&capture, LLM_TARGET);
    assert_eq!(llm.len(), 2, "{}", capture.text());
    assert_eq!(llm[0]["message"], "LLM prompt");
    assert_eq!(llm[0]["prompt"], "def f():");
    assert_eq!(llm[0]["correlation_id"], "llm-1");
    assert_eq!(llm[1]["message"], "LLM answer");
    assert_eq!(llm[1]["answer"], "pass");
    assert_eq!(llm[1]["finish_reason"], "stop");
    assert_eq!(one(&capture, ACCESS_TARGET)["llm_log"], true);
}

#[tokio::test]
async fn bodies_the_server_never_polls_are_not_called_cancelled() {
    let (capture, _guard) = capture();
    let metrics = Arc::new(Metrics::new());
    let router = axum::Router::new()
        .route(
            "/nothing",
            axum::routing::get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .layer(duo_logging::RequestLogLayer::new(
            RequestLogSettings::default(),
            Arc::clone(&metrics),
        ));
    // Dropped without polling, as hyper does for a 204.
    let response = router
        .clone()
        .oneshot(
            axum::http::Request::get("/nothing")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    drop(response);
    let line = one(&capture, ACCESS_TARGET);
    assert_eq!(line["status_code"], 204);
    assert_eq!(line["stream_cancelled"], false);
    assert_eq!(line["route"], "/nothing");
}
