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
//!
//! Requests are built outside the timed region; each iteration runs one request through the
//! service and reads its body to the end.
//!
//! Run: `cargo bench -p duo-benches --bench logging`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use duo_core::{
    Error, EventStream, FinishReason, LanguageModel, ModelRequest, Prompt, StreamEvent, Usage,
    async_trait,
};
use duo_logging::{
    CallLabels, Logged, LoggingConfig, Metrics, RequestLogHandle, RequestLogLayer,
    RequestLogSettings,
};
use http::{Request, Response};
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

fn request() -> Request<Full<Bytes>> {
    Request::post("/v2/code/completions")
        .header("authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig")
        .header("x-request-id", "01JD6Z5Y8Q3W2X4V5B6N7M8K9J")
        .header(
            "x-gitlab-instance-id",
            "ea8bf810-1d6f-4a6a-b4fd-93e8cbd8b57f",
        )
        .header("x-gitlab-global-user-id", "4242")
        .header("x-gitlab-realm", "self-managed")
        .header("x-gitlab-version", "18.6.0")
        .header("x-gitlab-client-type", "gitlab-language-server")
        .header("x-gitlab-client-version", "7.1.0")
        .header("user-agent", "code-completions/1")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap()
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
    Box::new(move |req: Request<Full<Bytes>>| {
        let model = Arc::clone(&model);
        let metrics = metrics.clone();
        Box::pin(async move {
            let prompt = ModelRequest::new(Prompt::Text("def add(a, b):\n".into()));
            let text = match metrics {
                Some(metrics) => {
                    let handle = req.extensions().get::<RequestLogHandle>().cloned();
                    if let Some(h) = &handle {
                        h.set_feature("code_completions");
                        h.set_model_family("codestral");
                    }
                    let logged = Logged::new(
                        model,
                        handle,
                        metrics,
                        CallLabels::new("code_completions", "codestral"),
                    );
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
    let mut group = c.benchmark_group("logging");

    let h = Arc::new(handler(Arc::clone(&model), None));
    let baseline = service_fn(move |r| (h)(r));
    group.bench_function("baseline", |b| {
        b.iter_batched(request, |r| run(&baseline, r), BatchSize::SmallInput);
    });

    let metrics = Arc::new(Metrics::new());
    let settings = RequestLogSettings::from_config(&LoggingConfig::default()).unwrap();
    let h = Arc::new(handler(Arc::clone(&model), Some(Arc::clone(&metrics))));
    let logged =
        RequestLogLayer::new(settings, Arc::clone(&metrics)).layer(service_fn(move |r| (h)(r)));
    group.bench_function("logged/no_subscriber", |b| {
        b.iter_batched(request, |r| run(&logged, r), BatchSize::SmallInput);
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
            b.iter_batched(request, |r| run(&logged, r), BatchSize::SmallInput);
        });
        group.bench_function("logged/json_to_sink_no_span", |b| {
            b.iter_batched(request, |r| run(&no_span, r), BatchSize::SmallInput);
        });
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
