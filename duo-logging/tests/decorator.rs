//! The `Logged` decorator on a scripted model: pass-through, timings, tokens, error kinds,
//! cancellation, the in-flight gauge, and the LLM log's redaction and cap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::task::Poll;

use common::*;
use duo_core::{
    Error, EventStream, FinishReason, Generation, LanguageModel, ModelRequest, Prompt, StreamEvent,
    TimeoutPhase, Usage, async_trait,
};
use duo_logging::{
    LLM_TARGET, Logged, LoggingConfig, MODEL_TARGET, Metrics, RequestLogHandle, RequestLogSettings,
    in_request,
};
use futures::{FutureExt, StreamExt};
use http::HeaderMap;

const IN_FLIGHT: &str =
    r#"model_inferences_in_flight{model_engine="scripted",model_family="codestral"}"#;

fn handle(llm_on: bool, patterns: &[&str], max_chars: usize) -> RequestLogHandle {
    let config = LoggingConfig {
        enable_request_logging: llm_on,
        redact_patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
        max_field_chars: max_chars,
        ..LoggingConfig::default()
    };
    let settings = RequestLogSettings::from_config(&config).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", "dec-1".parse().unwrap());
    RequestLogHandle::from_headers(&settings, &headers)
}

/// A decorated model whose calls run inside `handle`'s request scope, as a handler's calls do
/// behind `RequestLogLayer`; without a handle, outside any request.
struct InRequest<M> {
    model: Logged<M>,
    handle: Option<RequestLogHandle>,
}

#[async_trait]
impl<M: LanguageModel + 'static> LanguageModel for InRequest<M> {
    fn provider(&self) -> &str {
        self.model.provider()
    }

    fn model(&self) -> &str {
        self.model.model()
    }

    fn upstream(&self) -> &str {
        self.model.upstream()
    }

    async fn generate_stream(&self, r: &ModelRequest) -> Result<EventStream, Error> {
        match &self.handle {
            Some(h) => in_request(h.clone(), self.model.generate_stream(r)).await,
            None => self.model.generate_stream(r).await,
        }
    }

    async fn generate(&self, r: &ModelRequest) -> Result<Generation, Error> {
        match &self.handle {
            Some(h) => in_request(h.clone(), self.model.generate(r)).await,
            None => self.model.generate(r).await,
        }
    }
}

/// `model` decorated for code generations on codestral, called in `handle`'s request.
fn in_request_of<M: LanguageModel + 'static>(
    model: M,
    handle: Option<RequestLogHandle>,
    metrics: &Arc<Metrics>,
) -> InRequest<M> {
    if let Some(h) = &handle {
        h.set_feature("code_generations");
        h.set_model_family("codestral");
    }
    InRequest {
        model: Logged::new(model, Arc::clone(metrics), "codestral"),
        handle,
    }
}

fn logged<M: LanguageModel + 'static>(
    model: M,
    handle: Option<RequestLogHandle>,
) -> (InRequest<M>, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    (in_request_of(model, handle, &metrics), metrics)
}

fn request(text: &str) -> ModelRequest {
    ModelRequest::new(Prompt::Text(text.into()))
}

fn gauge(metrics: &Metrics) -> String {
    let text = metrics.render();
    text.lines()
        .find(|l| l.starts_with(IN_FLIGHT))
        .unwrap_or_else(|| panic!("no gauge in {text}"))
        .to_owned()
}

#[tokio::test]
async fn generate_counts_tokens_and_feeds_the_request() {
    let (capture, _guard) = capture();
    let h = handle(false, &[], 100);
    let (model, metrics) = logged(Scripted::answering("hello", 7, 3), Some(h.clone()));
    assert_eq!(model.provider(), "scripted");
    assert_eq!(model.model(), "scripted-model-1");
    let g = model.generate(&request("hi")).await.unwrap();
    assert_eq!(g.text, "hello");

    let line = one(&capture, MODEL_TARGET);
    assert_eq!(line["correlation_id"], "dec-1");
    assert_eq!(line["model_engine"], "scripted");
    assert_eq!(line["model_name"], "scripted-model-1");
    assert_eq!(line["model_family"], "codestral");
    assert_eq!(line["feature"], "code_generations");
    assert_eq!(line["input_tokens"], 7);
    assert_eq!(line["output_tokens"], 3);
    assert_eq!(line["total_tokens"], 10);
    assert_eq!(line["finish_reason"], "stop");
    assert_eq!(line["error"], false);
    assert!(line["duration_s"].as_f64().unwrap() >= 0.0);
    assert!(lines(&capture, LLM_TARGET).is_empty());

    let record = h.snapshot();
    assert_eq!(
        (record.input_tokens, record.output_tokens),
        (Some(7), Some(3))
    );
    assert_eq!(record.model_provider.as_deref(), Some("scripted"));
    assert!(record.upstream_duration.is_some());

    let text = metrics.render();
    assert!(text.contains(r#"inference_input_tokens_total{model_engine="scripted",model_family="codestral",feature="code_generations"} 7"#), "{text}");
    assert!(text.contains(r#"inference_output_tokens_total{model_engine="scripted",model_family="codestral",feature="code_generations"} 3"#));
    assert_eq!(gauge(&metrics), format!("{IN_FLIGHT} 0"));
}

#[tokio::test]
async fn streams_pass_events_through_and_account_at_the_end() {
    let (capture, _guard) = capture();
    let events = vec![
        Ok(StreamEvent::Delta("def ".into())),
        Ok(StreamEvent::Delta("add".into())),
        Ok(StreamEvent::Finish {
            reason: FinishReason::Length,
            usage: Some(Usage {
                input_tokens: 20,
                output_tokens: 2,
            }),
        }),
    ];
    let (model, metrics) = logged(Scripted::with(Script::Events(events.clone())), None);
    let mut stream = model.generate_stream(&request("x")).await.unwrap();
    assert_eq!(gauge(&metrics), format!("{IN_FLIGHT} 1"));
    let mut seen = Vec::new();
    while let Some(e) = stream.next().await {
        seen.push(e);
    }
    assert_eq!(seen, events);
    drop(stream);
    assert_eq!(gauge(&metrics), format!("{IN_FLIGHT} 0"));
    let line = one(&capture, MODEL_TARGET);
    assert_eq!(line["streaming"], true);
    assert_eq!(line["finish_reason"], "length");
    assert_eq!(line["total_tokens"], 22);
    assert!(
        line["first_token_duration_s"].as_f64().unwrap() <= line["duration_s"].as_f64().unwrap()
    );
    assert!(line.get("correlation_id").is_none());
    let text = metrics.render();
    // Outside any request the call has no feature; the family is the one decorated for.
    assert!(text.contains(r#"inference_first_token_seconds_count{model_engine="scripted",model_family="codestral",feature="other",streaming="true"} 1"#), "{text}");
}

/// A model whose stream yields what the test sends it, when the test sends it.
struct Channel(
    std::sync::Mutex<Option<futures::channel::mpsc::UnboundedReceiver<Result<StreamEvent, Error>>>>,
);

#[async_trait]
impl LanguageModel for Channel {
    fn provider(&self) -> &str {
        "scripted"
    }
    fn model(&self) -> &str {
        "chan"
    }
    fn upstream(&self) -> &str {
        "channel"
    }
    async fn generate_stream(&self, _r: &ModelRequest) -> Result<EventStream, Error> {
        Ok(Box::pin(self.0.lock().unwrap().take().unwrap()))
    }
}

#[tokio::test]
async fn each_event_is_passed_on_before_the_next_exists() {
    let (tx, rx) = futures::channel::mpsc::unbounded();
    let (model, _metrics) = logged(Channel(std::sync::Mutex::new(Some(rx))), None);
    let mut stream = model.generate_stream(&request("x")).await.unwrap();
    assert!(stream.next().now_or_never().is_none(), "nothing sent yet");
    tx.unbounded_send(Ok(StreamEvent::Delta("first".into())))
        .unwrap();
    assert_eq!(
        stream.next().now_or_never(),
        Some(Some(Ok(StreamEvent::Delta("first".into()))))
    );
    assert!(matches!(futures::poll!(stream.next()), Poll::Pending));
}

#[tokio::test]
async fn a_dropped_stream_is_cancelled_and_leaves_nothing_in_flight() {
    let (capture, _guard) = capture();
    let h = handle(false, &[], 100);
    let (model, metrics) = logged(Scripted::with(Script::Endless), Some(h));
    let mut stream = model.generate_stream(&request("x")).await.unwrap();
    stream.next().await.unwrap().unwrap();
    assert_eq!(gauge(&metrics), format!("{IN_FLIGHT} 1"));
    drop(stream);
    assert_eq!(gauge(&metrics), format!("{IN_FLIGHT} 0"));
    let line = one(&capture, MODEL_TARGET);
    assert_eq!(line["stream_cancelled"], true);
    assert_eq!(line["error"], false);
    assert!(line["first_token_duration_s"].is_f64());
}

#[tokio::test]
async fn a_dropped_generate_call_leaves_nothing_in_flight() {
    let (capture, _guard) = capture();
    let (model, metrics) = logged(Scripted::with(Script::Endless), None);
    let req = request("x");
    let mut call = Box::pin(model.generate(&req));
    assert!(futures::poll!(call.as_mut()).is_pending());
    assert_eq!(gauge(&metrics), format!("{IN_FLIGHT} 1"));
    drop(call);
    assert_eq!(gauge(&metrics), format!("{IN_FLIGHT} 0"));
    assert_eq!(one(&capture, MODEL_TARGET)["stream_cancelled"], true);
}

#[tokio::test]
async fn errors_are_counted_by_kind() {
    let (capture, _guard) = capture();
    let metrics = Arc::new(Metrics::new());
    let cases: Vec<(Script, &str)> = vec![
        (
            Script::FailToStart(Error::Connect {
                upstream: "u".into(),
                message: "refused".into(),
            }),
            "connect",
        ),
        (
            Script::Events(vec![
                Ok(StreamEvent::Delta("a".into())),
                Err(Error::Timeout {
                    upstream: "u".into(),
                    phase: TimeoutPhase::Idle,
                    after: std::time::Duration::from_secs(1),
                }),
            ]),
            "timeout",
        ),
        // Ends without `Finish`: cut short.
        (
            Script::Events(vec![Ok(StreamEvent::Delta("a".into()))]),
            "broken_stream",
        ),
    ];
    for (script, kind) in &cases {
        let h = handle(false, &[], 100);
        let model = in_request_of(Scripted::with(script.clone()), Some(h.clone()), &metrics);
        if let Ok(mut s) = model.generate_stream(&request("x")).await {
            while s.next().await.is_some() {}
        }
        assert_eq!(h.snapshot().error_kind.as_deref(), Some(*kind));
        let line = lines(&capture, MODEL_TARGET).pop().unwrap();
        assert_eq!(line["error_type"], *kind);
        assert_eq!(line["error"], true);
        assert_eq!(line["log_level"], "warning");
    }
    let text = metrics.render();
    for (_, kind) in &cases {
        let series = format!(
            r#"inference_errors_total{{model_engine="scripted",model_family="codestral",error_type="{kind}"}} 1"#
        );
        assert!(text.contains(&series), "missing {series} in\n{text}");
    }
    assert!(text.contains(r#"model_inferences_total{model_engine="scripted",model_family="codestral",feature="code_generations",streaming="true",error="yes"} 3"#));
    assert_eq!(gauge(&metrics), format!("{IN_FLIGHT} 0"));
}

#[tokio::test]
async fn unknown_families_and_features_are_labelled_other() {
    let (_capture, _guard) = capture();
    let metrics = Arc::new(Metrics::new());
    let handle = handle(false, &[], 100);
    handle.set_feature("made-up feature");
    handle.set_model_family("my-private-model-v9");
    let model = InRequest {
        model: Logged::new(
            Scripted::answering("x", 1, 1),
            Arc::clone(&metrics),
            "codestral",
        ),
        handle: Some(handle),
    };
    model.generate(&request("x")).await.unwrap();
    let text = metrics.render();
    assert!(text.contains(r#"model_inferences_total{model_engine="scripted",model_family="other",feature="other",streaming="false",error="no"} 1"#), "{text}");
    assert!(!text.contains("my-private-model"));
}

#[tokio::test]
async fn llm_log_redacts_every_secret_kind_and_caps_fields() {
    let (capture, _guard) = capture();
    let secrets = [
        "Bearer abcdefghijklmnop.qrstuvwx",
        "api-key: key-0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----",
        "INTERNAL-778899",
    ];
    let prompt = secrets.join("\n");
    let h = handle(true, &["INTERNAL-[0-9]{6}"], 10_000);
    let (model, _) = logged(Scripted::answering("fine", 1, 1), Some(h));
    model.generate(&request(&prompt)).await.unwrap();
    let logged_prompt = lines(&capture, LLM_TARGET)[0]["prompt"]
        .as_str()
        .unwrap()
        .to_owned();
    for leaked in [
        "abcdefghijklmnop",
        "key-0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI",
        "MHcCAQEEIBkg",
        "778899",
    ] {
        assert!(
            !capture.text().contains(leaked),
            "{leaked} leaked: {logged_prompt}"
        );
    }
    assert_eq!(
        logged_prompt.matches("**********").count(),
        secrets.len(),
        "{logged_prompt}"
    );

    // The cap: a long streamed answer is logged cut to `max_field_chars`.
    let (capture, _guard2) = self::capture();
    let long = "x".repeat(500);
    let h = handle(true, &[], 100);
    let (model, _) = logged(Scripted::answering(&long, 1, 1), Some(h));
    let mut s = model
        .generate_stream(&request(&"p".repeat(300)))
        .await
        .unwrap();
    while s.next().await.is_some() {}
    let llm = lines(&capture, LLM_TARGET);
    assert_eq!(llm[0]["prompt"].as_str().unwrap().len(), 100);
    assert_eq!(llm[0]["prompt_truncated_chars"], 200);
    assert_eq!(llm[1]["answer"].as_str().unwrap(), &long[..100]);
    assert_eq!(llm[1]["answer_truncated_chars"], 400);
}

#[tokio::test]
async fn chat_and_fim_prompts_are_logged_by_part() {
    let (capture, _guard) = capture();
    let h = handle(true, &[], 1000);
    let (model, _) = logged(Scripted::answering("ok", 1, 1), Some(h));
    let fim = ModelRequest::new(Prompt::FillInTheMiddle {
        prefix: "def add(a, b):\n".into(),
        suffix: "\nprint(add(1, 2))".into(),
    });
    model.generate(&fim).await.unwrap();
    let chat = ModelRequest::new(Prompt::Chat(vec![
        duo_core::Message::system("You are terse."),
        duo_core::Message::user("Explain this code"),
    ]));
    model.generate(&chat).await.unwrap();
    let llm = lines(&capture, LLM_TARGET);
    assert_eq!(llm[0]["prefix"], "def add(a, b):\n");
    assert_eq!(llm[0]["suffix"], "\nprint(add(1, 2))");
    assert_eq!(
        llm[2]["prompt"],
        "[system]\nYou are terse.\n[user]\nExplain this code"
    );
}

#[tokio::test]
async fn one_decorated_client_logs_each_call_on_the_request_that_makes_it() {
    let (capture, _guard) = capture();
    let metrics = Arc::new(Metrics::new());
    // Built once, as the registry's decorator builds it, and shared by two requests at once.
    let model = Logged::new(
        Scripted::answering("ok", 2, 1),
        Arc::clone(&metrics),
        "mistral",
    );
    let settings = RequestLogSettings::default();
    let request_with = |id: &str, feature: &str| {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", id.parse().unwrap());
        let h = RequestLogHandle::from_headers(&settings, &headers);
        h.set_feature(feature);
        h
    };
    let a = request_with("req-a", "code_completions");
    let b = request_with("req-b", "code_generations");
    let (x, y) = (request("x"), request("y"));
    let (ra, rb) = futures::join!(
        in_request(a.clone(), model.generate(&x)),
        in_request(b.clone(), model.generate(&y))
    );
    ra.unwrap();
    rb.unwrap();
    for h in [&a, &b] {
        let record = h.snapshot();
        assert_eq!(
            (record.input_tokens, record.output_tokens),
            (Some(2), Some(1))
        );
    }
    let mut seen: Vec<(String, String, String)> = lines(&capture, MODEL_TARGET)
        .iter()
        .map(|l| {
            let field = |k: &str| l[k].as_str().unwrap_or_default().to_owned();
            (
                field("correlation_id"),
                field("feature"),
                field("model_family"),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("req-a".into(), "code_completions".into(), "mistral".into()),
            ("req-b".into(), "code_generations".into(), "mistral".into()),
        ]
    );
    let text = metrics.render();
    for feature in ["code_completions", "code_generations"] {
        let series = format!(
            r#"model_inferences_total{{model_engine="scripted",model_family="mistral",feature="{feature}",streaming="false",error="no"}} 1"#
        );
        assert!(text.contains(&series), "missing {series} in\n{text}");
    }
}
