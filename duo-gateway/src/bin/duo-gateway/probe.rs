//! `duo-gateway check-config --probe`: a one-token "ping" chat to every model the configuration
//! names (`[readiness] models` and `[openai_api] models`), through the gateway's own provider
//! registry and egress policy, all at once, then a table of the results.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use duo_core::{
    GenerationParams, LanguageModel, Message, ModelEndpoint, ModelIdentifier, ModelRequest, Prompt,
    ProviderKind,
};
use duo_gateway::AppState;
use duo_logging::upstream_text::redacted;
use duo_providers::{ProviderConfig, Registry};
use indicatif::{ProgressBar, ProgressStyle};

/// The longest failure reason shown in the table, in characters.
const MAX_REASON: usize = 120;

/// One model to probe, as the configuration names it.
struct Target {
    /// The name as configured (a readiness identifier, or an `openai_api` model's name).
    name: String,
    /// The platform, e.g. `openai_compatible`.
    provider: String,
    /// Where it is served: a URL with any password masked, or Bedrock's region.
    endpoint: String,
    /// The endpoint to call, or why none could be built from the configuration.
    call: Result<ModelEndpoint, String>,
}

/// One probe's result: a table row.
struct Row {
    /// The target's name.
    name: String,
    /// The target's provider.
    provider: String,
    /// The target's shown endpoint.
    endpoint: String,
    /// How long the probe took.
    latency: Duration,
    /// `None` when the model answered, else why not (redacted and shortened).
    failure: Option<String>,
}

/// Probes every configured model and prints the table; exit 1 when one failed.
pub(crate) fn run(state: &AppState) -> ExitCode {
    let config = state.config();
    let providers = state.models().config();
    let targets = targets(state, providers);
    if targets.is_empty() {
        println!("no models to probe (readiness.models and openai_api.models are empty)");
        return ExitCode::SUCCESS;
    }
    let timeout = Duration::from_secs(config.readiness.timeout_s.max(1));
    let runtime = match crate::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let bar = progress(targets.len());
    let rows = runtime.block_on(probe_all(state.models(), targets, timeout, &bar));
    bar.finish_and_clear();
    println!();
    print!("{}", table(&rows));
    let failed = rows.iter().filter(|r| r.failure.is_some()).count();
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "duo-gateway: {failed} of {} models failed the probe",
            rows.len()
        );
        ExitCode::FAILURE
    }
}

/// The models of `[readiness]` and `[openai_api]` (as the API resolved them at start), in
/// configuration order.
fn targets(state: &AppState, providers: &ProviderConfig) -> Vec<Target> {
    #[cfg_attr(not(feature = "openai-api"), allow(unused_mut))]
    let mut out: Vec<Target> = state
        .config()
        .readiness
        .models
        .iter()
        .map(|m| {
            let call = m.endpoint().map_err(|e| e.to_string());
            target(
                m.identifier.trim(),
                &m.identifier,
                m.endpoint.as_deref(),
                call,
                providers,
            )
        })
        .collect();
    #[cfg(feature = "openai-api")]
    out.extend(state.openai_api().endpoints().map(|(name, endpoint)| {
        target(
            name,
            &endpoint.identifier().to_string(),
            endpoint.base_url(),
            Ok(endpoint.clone()),
            providers,
        )
    }));
    out
}

/// A target from its configured name, identifier and endpoint.
fn target(
    name: &str,
    identifier: &str,
    url: Option<&str>,
    call: Result<ModelEndpoint, String>,
    providers: &ProviderConfig,
) -> Target {
    let provider = ModelIdentifier::parse(identifier)
        .ok()
        .map(|id| id.provider());
    let url = url.map(str::trim).filter(|u| !u.is_empty());
    let endpoint = match (provider, url) {
        (Some(kind), _) if kind.endpoint_from_operator_only() => operator_endpoint(kind, providers),
        (_, Some(url)) => mask_url(url),
        (Some(kind), None) => operator_endpoint(kind, providers),
        (None, None) => "-".to_owned(),
    };
    Target {
        name: name.to_owned(),
        provider: provider.map_or("-", ProviderKind::as_str).to_owned(),
        endpoint,
        call,
    }
}

/// Where a model without its own endpoint is served: the operator's settings for its platform.
fn operator_endpoint(kind: ProviderKind, providers: &ProviderConfig) -> String {
    match kind {
        ProviderKind::Bedrock => {
            let bedrock = &providers.bedrock;
            let region = bedrock
                .region
                .clone()
                .or_else(|| std::env::var("AWS_REGION").ok())
                .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "(AWS default region)".to_owned());
            match &bedrock.endpoint_url {
                Some(url) => format!("{region} via {}", mask_url(url)),
                None => region,
            }
        }
        ProviderKind::VertexAi => {
            let vertex = &providers.vertex;
            match (&vertex.endpoint, &vertex.location) {
                (Some(url), _) => mask_url(url),
                (None, Some(location)) => location.clone(),
                (None, None) => "(Vertex AI default location)".to_owned(),
            }
        }
        ProviderKind::Anthropic => mask_url(&providers.anthropic.base_url),
        ProviderKind::OpenAi => mask_url(&providers.openai.base_url),
        ProviderKind::OpenAiCompatible | ProviderKind::AzureOpenAi => "(no endpoint)".to_owned(),
    }
}

/// `url` with its password (if any) masked and secret-shaped query values redacted.
fn mask_url(url: &str) -> String {
    let shown = match url::Url::parse(url.trim()) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only URLs that cannot have a password fail to take one; those have none to mask.
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        // Shown as written (`Url` would add a `/` to a bare origin).
        _ => url.trim().to_owned(),
    };
    redacted(&shown)
}

/// A spinner "probing N models" on standard error when it is a terminal; hidden otherwise.
fn progress(models: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(models as u64);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}: {pos}/{len} done") {
        bar.set_style(style);
    }
    let plural = if models == 1 { "" } else { "s" };
    bar.set_message(format!("probing {models} model{plural}"));
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Probes every target concurrently, each within `timeout`; rows in the targets' order.
async fn probe_all(
    registry: &Registry,
    targets: Vec<Target>,
    timeout: Duration,
    bar: &ProgressBar,
) -> Vec<Row> {
    let probes = targets.into_iter().map(|t| async move {
        let started = Instant::now();
        let result = match &t.call {
            Ok(endpoint) => ping(registry, endpoint, timeout).await,
            Err(reason) => Err(reason.clone()),
        };
        let latency = started.elapsed();
        bar.inc(1);
        Row {
            name: t.name,
            provider: t.provider,
            endpoint: t.endpoint,
            latency,
            failure: result.err().map(|text| reason(&text)),
        }
    });
    futures::future::join_all(probes).await
}

/// One one-token "ping" chat to `endpoint` through the registry's client for it.
async fn ping(
    registry: &Registry,
    endpoint: &ModelEndpoint,
    timeout: Duration,
) -> Result<(), String> {
    let request = ModelRequest::new(Prompt::Chat(vec![Message::user("ping")])).with_params(
        GenerationParams {
            max_tokens: Some(1),
            ..GenerationParams::default()
        },
    );
    let call = async {
        let model = registry.model(endpoint).await?;
        model.generate(&request).await.map(|_| ())
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("timeout: no answer within {}s", timeout.as_secs())),
    }
}

/// `text` on one line, secrets redacted, cut to [`MAX_REASON`] characters by dropping its middle.
fn reason(text: &str) -> String {
    // The head names the upstream and status, the tail often the cause (the egress rule).
    let one_line = redacted(&text.split_whitespace().collect::<Vec<_>>().join(" "));
    let chars: Vec<char> = one_line.chars().collect();
    if chars.len() <= MAX_REASON {
        return one_line;
    }
    let tail = MAX_REASON / 3;
    let head: String = chars[..MAX_REASON - tail - 3].iter().collect();
    let tail: String = chars[chars.len() - tail..].iter().collect();
    // Cut at spaces where there are some, not inside a word.
    let head = head.rsplit_once(' ').map_or(head.as_str(), |(h, _)| h);
    let tail = tail.split_once(' ').map_or(tail.as_str(), |(_, t)| t);
    format!("{} … {}", head.trim_end(), tail.trim_start())
}

/// The rows as a table under a header, every column but the last padded to its widest cell.
fn table(rows: &[Row]) -> String {
    let header = [
        "model", "provider", "endpoint", "status", "latency", "reason",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.provider.clone(),
                r.endpoint.clone(),
                if r.failure.is_some() { "failed" } else { "ok" }.to_owned(),
                format!("{} ms", r.latency.as_millis()),
                r.failure.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[&str]| {
        let mut text = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                text.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &cells {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords_and_tables_align() {
        assert_eq!(
            mask_url("https://user:hunter2@vllm.internal:8000/v1"),
            "https://user:****@vllm.internal:8000/v1"
        );
        let rows = [
            Row {
                name: "a".into(),
                provider: "anthropic".into(),
                endpoint: "http://h".into(),
                latency: Duration::from_millis(7),
                failure: None,
            },
            Row {
                name: "longer-name".into(),
                provider: "bedrock".into(),
                endpoint: "us-east-1".into(),
                latency: Duration::from_millis(1234),
                failure: Some("nope".into()),
            },
        ];
        let long = format!(
            "upstream answered HTTP 401: Bearer abcdefghijklmnop {} (rule x)",
            "y".repeat(200)
        );
        let cut = reason(&long);
        assert!(cut.chars().count() <= MAX_REASON, "{cut}");
        assert!(cut.starts_with("upstream answered HTTP 401"), "{cut}");
        assert!(
            cut.ends_with("(rule x)") && !cut.contains("abcdefghijklmnop"),
            "{cut}"
        );
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "model        provider   endpoint   status  latency  reason",
                "a            anthropic  http://h   ok      7 ms",
                "longer-name  bedrock    us-east-1  failed  1234 ms  nope",
            ]
        );
    }
}
