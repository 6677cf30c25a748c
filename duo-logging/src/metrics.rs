//! [`Metrics`]: the Prometheus metrics of HTTP requests and model calls, in a registry the
//! application owns (no global recorder).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use http::{Method, StatusCode};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

const LATENCY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const FIRST_TOKEN_BUCKETS: [f64; 9] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A label value shared between series without copying.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct Label(pub(crate) Arc<str>);

impl From<&str> for Label {
    fn from(value: &str) -> Self {
        Self(Arc::from(value))
    }
}

impl EncodeLabelValue for Label {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&&*self.0, encoder)
    }
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn first_token_histogram() -> Histogram {
    Histogram::new(FIRST_TOKEN_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    handler: Label,
    method: &'static str,
    status: &'static str,
}

/// The labels of one model call's series: provider, family and feature.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ModelLabels {
    pub(crate) model_engine: Label,
    pub(crate) model_family: Label,
    pub(crate) feature: Label,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabelSet {
    model_engine: Label,
    model_family: Label,
    feature: Label,
    streaming: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    model_engine: Label,
    model_family: Label,
    feature: Label,
    streaming: &'static str,
    error: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    model_engine: Label,
    model_family: Label,
    error_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineLabels {
    model_engine: Label,
    model_family: Label,
}

/// What one finished model call adds to the metrics.
pub(crate) struct CallRecord {
    pub(crate) streaming: bool,
    pub(crate) duration: Duration,
    pub(crate) first_token: Option<Duration>,
    pub(crate) tokens: Option<(u32, u32)>,
    pub(crate) error_type: Option<&'static str>,
}

/// The gateway's Prometheus metrics. Create one at start-up, share it as `Arc<Metrics>`, and
/// serve [`render`](Self::render) on the metrics port.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `http_requests_total` | counter | handler, method, status (`2xx` …) |
/// | `http_request_duration_seconds` | histogram | handler, method, status |
/// | `model_inferences_total` | counter | model_engine, model_family, feature, streaming, error |
/// | `inference_request_duration_seconds` | histogram | model_engine, model_family, feature, streaming |
/// | `inference_first_token_seconds` | histogram | model_engine, model_family, feature, streaming |
/// | `inference_input_tokens_total`, `inference_output_tokens_total`, `inference_total_tokens_total` | counter | model_engine, model_family, feature |
/// | `inference_errors_total` | counter | model_engine, model_family, error_type |
/// | `model_inferences_in_flight` | gauge | model_engine, model_family |
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<HttpLabels>,
    inferences: Family<OutcomeLabels, Counter>,
    inference_duration: HistogramFamily<CallLabelSet>,
    first_token: HistogramFamily<CallLabelSet>,
    input_tokens: Family<ModelLabels, Counter>,
    output_tokens: Family<ModelLabels, Counter>,
    total_tokens: Family<ModelLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    in_flight: Family<EngineLabels, Gauge>,
    /// Series handles by route, so a request costs no label hashing or allocation.
    http_cache: RwLock<HashMap<Box<str>, Vec<HttpSeries>>>,
    /// Series handles by (family, feature) then provider.
    model_cache: RwLock<ModelCache>,
}

/// Model series by (family, feature), then by provider.
type ModelCache = HashMap<(&'static str, &'static str), Vec<Arc<ModelSeries>>>;

/// The two series one HTTP request updates.
#[derive(Debug, Clone)]
struct HttpSeries {
    method: &'static str,
    status: &'static str,
    requests: Counter,
    duration: Histogram,
}

/// The series of one (provider, family, feature), resolved once and shared by every call.
#[derive(Debug)]
pub(crate) struct ModelSeries {
    pub(crate) labels: ModelLabels,
    pub(crate) in_flight: Gauge,
    input_tokens: Counter,
    output_tokens: Counter,
    total_tokens: Counter,
    /// Index 0: not streaming, 1: streaming.
    modes: [OnceLock<ModeSeries>; 2],
    failed: [OnceLock<Counter>; 2],
}

#[derive(Debug)]
struct ModeSeries {
    ok: Counter,
    duration: Histogram,
    first_token: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// The content type of [`render`](Self::render)'s output (OpenMetrics text, which
    /// Prometheus scrapes).
    pub const CONTENT_TYPE: &'static str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// The metrics in a registry of their own.
    #[must_use]
    pub fn new() -> Self {
        Self::with_registry(Registry::default())
    }

    /// The metrics added to `registry`, which may already hold the application's own.
    #[must_use]
    pub fn with_registry(mut registry: Registry) -> Self {
        let m = Self {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            inferences: Family::default(),
            inference_duration: Family::new_with_constructor(latency_histogram),
            first_token: Family::new_with_constructor(first_token_histogram),
            input_tokens: Family::default(),
            output_tokens: Family::default(),
            total_tokens: Family::default(),
            errors: Family::default(),
            in_flight: Family::default(),
            http_cache: RwLock::default(),
            model_cache: RwLock::default(),
        };
        let r = &mut registry;
        r.register(
            "http_requests",
            "HTTP requests served",
            m.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "HTTP request duration until the response body ended",
            m.http_duration.clone(),
        );
        r.register("model_inferences", "Model calls", m.inferences.clone());
        r.register(
            "inference_request_duration_seconds",
            "Model call duration until the answer ended",
            m.inference_duration.clone(),
        );
        r.register(
            "inference_first_token_seconds",
            "Time from a streamed model call's start to its first text",
            m.first_token.clone(),
        );
        r.register(
            "inference_input_tokens",
            "Prompt tokens",
            m.input_tokens.clone(),
        );
        r.register(
            "inference_output_tokens",
            "Generated tokens",
            m.output_tokens.clone(),
        );
        r.register(
            "inference_total_tokens",
            "Prompt plus generated tokens",
            m.total_tokens.clone(),
        );
        r.register(
            "inference_errors",
            "Failed model calls by error kind",
            m.errors.clone(),
        );
        r.register(
            "model_inferences_in_flight",
            "Model calls (and streams) in progress",
            m.in_flight.clone(),
        );
        Self { registry, ..m }
    }

    /// The registry, to encode it elsewhere or with other registries.
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Every metric in the Prometheus (OpenMetrics) text format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub(crate) fn record_http(
        &self,
        route: &str,
        method: &Method,
        status: StatusCode,
        duration: Duration,
    ) {
        let (method, status) = (method_label(method), status_class(status));
        let find = |series: &[HttpSeries]| {
            series
                .iter()
                .find(|s| s.method == method && s.status == status)
                .cloned()
        };
        let cached = read(&self.http_cache).get(route).and_then(|v| find(v));
        let series = match cached {
            Some(series) => series,
            None => {
                let mut cache = write(&self.http_cache);
                let entry = cache.entry(Box::from(route)).or_default();
                match find(entry) {
                    Some(series) => series,
                    None => {
                        let labels = HttpLabels {
                            handler: Label::from(route),
                            method,
                            status,
                        };
                        let series = HttpSeries {
                            method,
                            status,
                            requests: self.http_requests.get_or_create(&labels).clone(),
                            duration: self.http_duration.get_or_create(&labels).clone(),
                        };
                        entry.push(series.clone());
                        series
                    }
                }
            }
        };
        series.requests.inc();
        series.duration.observe(duration.as_secs_f64());
    }

    /// The series of `provider` serving `feature` with `family` (both already bounded).
    pub(crate) fn model_series(
        &self,
        provider: &str,
        family: &'static str,
        feature: &'static str,
    ) -> Arc<ModelSeries> {
        let find = |v: &[Arc<ModelSeries>]| {
            v.iter()
                .find(|s| &*s.labels.model_engine.0 == provider)
                .cloned()
        };
        if let Some(series) = read(&self.model_cache)
            .get(&(family, feature))
            .and_then(|v| find(v))
        {
            return series;
        }
        let mut cache = write(&self.model_cache);
        let entry = cache.entry((family, feature)).or_default();
        if let Some(series) = find(entry) {
            return series;
        }
        let labels = ModelLabels {
            model_engine: Label::from(provider),
            model_family: Label::from(family),
            feature: Label::from(feature),
        };
        let engine = EngineLabels {
            model_engine: labels.model_engine.clone(),
            model_family: labels.model_family.clone(),
        };
        let series = Arc::new(ModelSeries {
            in_flight: self.in_flight.get_or_create(&engine).clone(),
            input_tokens: self.input_tokens.get_or_create(&labels).clone(),
            output_tokens: self.output_tokens.get_or_create(&labels).clone(),
            total_tokens: self.total_tokens.get_or_create(&labels).clone(),
            modes: [OnceLock::new(), OnceLock::new()],
            failed: [OnceLock::new(), OnceLock::new()],
            labels,
        });
        entry.push(Arc::clone(&series));
        series
    }

    pub(crate) fn record_call(&self, series: &ModelSeries, call: &CallRecord) {
        let l = &series.labels;
        let mode = usize::from(call.streaming);
        let streaming = if call.streaming { "true" } else { "false" };
        let call_labels = || CallLabelSet {
            model_engine: l.model_engine.clone(),
            model_family: l.model_family.clone(),
            feature: l.feature.clone(),
            streaming,
        };
        let outcome = |error: &'static str| OutcomeLabels {
            model_engine: l.model_engine.clone(),
            model_family: l.model_family.clone(),
            feature: l.feature.clone(),
            streaming,
            error,
        };
        let m = series.modes[mode].get_or_init(|| ModeSeries {
            ok: self.inferences.get_or_create(&outcome("no")).clone(),
            duration: self
                .inference_duration
                .get_or_create(&call_labels())
                .clone(),
            first_token: self.first_token.get_or_create(&call_labels()).clone(),
        });
        m.duration.observe(call.duration.as_secs_f64());
        if let Some(first) = call.first_token {
            m.first_token.observe(first.as_secs_f64());
        }
        if let Some((input, output)) = call.tokens {
            series.input_tokens.inc_by(input.into());
            series.output_tokens.inc_by(output.into());
            series
                .total_tokens
                .inc_by(u64::from(input) + u64::from(output));
        }
        match call.error_type {
            None => {
                m.ok.inc();
            }
            Some(error_type) => {
                series.failed[mode]
                    .get_or_init(|| self.inferences.get_or_create(&outcome("yes")).clone())
                    .inc();
                self.errors
                    .get_or_create(&ErrorLabels {
                        model_engine: l.model_engine.clone(),
                        model_family: l.model_family.clone(),
                        error_type,
                    })
                    .inc();
            }
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_series_are_grouped_by_status_class() {
        let m = Metrics::new();
        m.record_http(
            "/v2/code/completions",
            &Method::POST,
            StatusCode::OK,
            Duration::from_millis(120),
        );
        m.record_http(
            "/v2/code/completions",
            &Method::POST,
            StatusCode::CREATED,
            Duration::from_millis(80),
        );
        m.record_http(
            "unmatched",
            &Method::from_bytes(b"BREW").unwrap(),
            StatusCode::NOT_FOUND,
            Duration::ZERO,
        );
        let text = m.render();
        assert!(
            text.contains(
                r#"http_requests_total{handler="/v2/code/completions",method="POST",status="2xx"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"http_requests_total{handler="unmatched",method="other",status="4xx"} 1"#
            )
        );
        assert!(text.contains(
            r#"http_request_duration_seconds_bucket{le="0.1",handler="/v2/code/completions",method="POST",status="2xx"} 1"#
        ), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn with_registry_keeps_the_applications_metrics() {
        let mut registry = Registry::default();
        let mine: Counter = Counter::default();
        registry.register("my_thing", "mine", mine.clone());
        mine.inc();
        let m = Metrics::with_registry(registry);
        let text = m.render();
        assert!(text.contains("my_thing_total 1"));
        assert!(text.contains("# TYPE model_inferences_in_flight gauge"));
    }
}
