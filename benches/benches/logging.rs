//! Overhead of duo-logging per request with the LLM log off: the request log layer plus the
//! `Logged` model decorator around a handler that calls an in-memory model, against the same
//! handler without them.
//!
//! - `baseline`: handler and model only.
//! - `logged/no_subscriber`: layer + decorator, no subscriber installed (the instrumentation).
//! - `logged/json_to_sink`: layer + decorator with the JSON subscriber at `info` writing to
//!   `io::sink` (instrumentation plus formatting both lines of the request).
//! - `logged/json_to_sink_no_span`: the same without the per-request span
//!   (`RequestLogSettings::request_span = false`).
//! - `line/access_like`: one JSON line with the access line's fields, alone (the cost of the
//!   formatter per line); `line/message_only`: a line with only a message.
//!
//! Each iteration builds a request from shared parts (as hyper hands them over: header values
//! are shared, not copied), runs it through the service and reads the body to the end; the
//! figure of interest is the difference to `baseline`.
//!
//! Run: `cargo bench -p duo-benches --bench logging`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use duo_core::{
    Error, EventStream, FinishReason, LanguageModel, ModelRequest, Prompt, StreamEvent, Usage,
    async_trait,
};
use duo_logging::{
    Logged, LoggingConfig, Metrics, RequestLogHandle, RequestLogLayer, RequestLogSettings,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use tower::{Layer, Service, ServiceExt, service_fn};

struct Fixed;

#[async_trait]
impl LanguageModel for Fixed {
    fn provider(&self) -> &str {
        "openai_compatible"
    }
    fn model(&self) -> &str {
        "codestral-22b"
    }
    fn upstream(&self) -> &str {
        "vLLM at http://vllm:8000/v1"
    }
    async fn generate_stream(&self, _request: &ModelRequest) -> Result<EventStream, Error> {
        Ok(Box::pin(futures::stream::iter([
            Ok(StreamEvent::Delta("    return a + b".into())),
            Ok(StreamEvent::Finish {
                reason: FinishReason::Stop,
                usage: Some(Usage {
                    input_tokens: 42,
                    output_tokens: 7,
                }),
            }),
        ])))
    }
}

/// The headers GitLab sends with a code completion (values shared, as hyper's are).
fn gitlab_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig"),
        ("x-request-id", "01JD6Z5Y8Q3W2X4V5B6N7M8K9J"),
        (
            "x-gitlab-instance-id",
            "ea8bf810-1d6f-4a6a-b4fd-93e8cbd8b57f",
        ),
        ("x-gitlab-global-user-id", "4242"),
        ("x-gitlab-realm", "self-managed"),
        ("x-gitlab-version", "18.6.0"),
        ("x-gitlab-client-type", "gitlab-language-server"),
        ("x-gitlab-client-version", "7.1.0"),
        ("user-agent", "code-completions/1"),
        ("content-type", "application/json"),
    ] {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    h
}

/// A fresh request from the shared parts (the same work for every variant).
fn request(headers: &HeaderMap, uri: &Uri) -> Request<Full<Bytes>> {
    let mut r = Request::new(Full::new(Bytes::from_static(b"{}")));
    *r.method_mut() = Method::POST;
    *r.uri_mut() = uri.clone();
    *r.headers_mut() = headers.clone();
    r
}

type Handler = Box<
    dyn Fn(
            Request<Full<Bytes>>,
        )
            -> futures::future::BoxFuture<'static, Result<Response<Full<Bytes>>, Infallible>>
        + Send
        + Sync,
>;

fn handler(model: Arc<Fixed>, metrics: Option<Arc<Metrics>>) -> Handler {
    // Decorated once, as the gateway's registry decorates each client.
    let logged = metrics.map(|m| Arc::new(Logged::new(Arc::clone(&model), m, "codestral")));
    Box::new(move |req: Request<Full<Bytes>>| {
        let model = Arc::clone(&model);
        let logged = logged.clone();
        Box::pin(async move {
            let prompt = ModelRequest::new(Prompt::Text("def add(a, b):\n".into()));
            let text = match logged {
                Some(logged) => {
                    if let Some(h) = req.extensions().get::<RequestLogHandle>() {
                        h.set_feature("code_completions");
                        h.set_model_family("codestral");
                    }
                    logged.generate(&prompt).await.unwrap().text
                }
                None => model.generate(&prompt).await.unwrap().text,
            };
            Ok(Response::new(Full::new(Bytes::from(text))))
        })
    })
}

fn run<S, B>(service: &S, request: Request<Full<Bytes>>)
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible> + Clone,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    futures::executor::block_on(async {
        let response = service.clone().oneshot(request).await.unwrap();
        response.into_body().collect().await.unwrap();
    });
}

fn overhead(c: &mut Criterion) {
    let model = Arc::new(Fixed);
    let headers = gitlab_headers();
    let uri = Uri::from_static("/v2/code/completions");
    let mut group = c.benchmark_group("logging");

    let h = Arc::new(handler(Arc::clone(&model), None));
    let baseline = service_fn(move |r| (h)(r));
    group.bench_function("baseline", |b| {
        b.iter(|| run(&baseline, request(&headers, &uri)));
    });

    let metrics = Arc::new(Metrics::new());
    let settings = RequestLogSettings::from_config(&LoggingConfig::default()).unwrap();
    let h = Arc::new(handler(Arc::clone(&model), Some(Arc::clone(&metrics))));
    let logged =
        RequestLogLayer::new(settings, Arc::clone(&metrics)).layer(service_fn(move |r| (h)(r)));
    group.bench_function("logged/no_subscriber", |b| {
        b.iter(|| run(&logged, request(&headers, &uri)));
    });

    let settings = RequestLogSettings {
        request_span: false,
        ..RequestLogSettings::from_config(&LoggingConfig::default()).unwrap()
    };
    let h = Arc::new(handler(Arc::clone(&model), Some(Arc::clone(&metrics))));
    let no_span =
        RequestLogLayer::new(settings, Arc::clone(&metrics)).layer(service_fn(move |r| (h)(r)));

    let sub = duo_logging::subscriber(&LoggingConfig::default(), std::io::sink).unwrap();
    tracing::subscriber::with_default(sub, || {
        group.bench_function("logged/json_to_sink", |b| {
            b.iter(|| run(&logged, request(&headers, &uri)));
        });
        group.bench_function("logged/json_to_sink_no_span", |b| {
            b.iter(|| run(&no_span, request(&headers, &uri)));
        });
    });
    group.finish();
}

/// The cost of formatting one line, without the request around it.
fn one_line(c: &mut Criterion) {
    let sub = duo_logging::subscriber(&LoggingConfig::default(), std::io::sink).unwrap();
    tracing::subscriber::with_default(sub, || {
        c.bench_function("line/access_like", |b| b.iter(access_like_line));
        c.bench_function("line/message_only", |b| {
            b.iter(|| tracing::info!(target: "duo::access", parent: None, "hello"));
        });
    });
}

/// A line with the fields the access line has for a successful completion.
fn access_like_line() {
    let none: Option<&str> = None;
    tracing::info!(
        target: "duo::access",
        parent: None,
        correlation_id = "01JD6Z5Y8Q3W2X4V5B6N7M8K9J",
        method = "POST",
        path = "/v2/code/completions",
        route = "/v2/code/completions",
        status_code = 200u16,
        duration_s = 0.0123f64,
        response_start_duration_s = 0.0101f64,
        first_chunk_duration_s = 0.0111f64,
        stream_cancelled = false,
        feature = "code_completions",
        model_family = "codestral",
        model_provider = "openai_compatible",
        input_tokens = 42u64,
        output_tokens = 7u64,
        upstream_duration_s = 0.0099f64,
        client_type = "gitlab-language-server",
        client_version = "7.1.0",
        gitlab_instance_id = "ea8bf810-1d6f-4a6a-b4fd-93e8cbd8b57f",
        gitlab_global_user_id = "73475cb40a568e8da8a045ced110137e",
        gitlab_realm = "self-managed",
        gitlab_version = "18.6.0",
        user_agent = "code-completions/1",
        auth_bypassed = false,
        llm_log = false,
        error_kind = none,
        error_message = none,
        "{} {} {}",
        "POST",
        "/v2/code/completions",
        200
    );
}

criterion_group!(benches, overhead, one_line);
criterion_main!(benches);
