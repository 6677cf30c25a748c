//! Helpers shared by the integration tests: endpoints, clients and stream collection.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use duo_core::{
    Error, GenerationParams, LanguageModel, Message, ModelEndpoint, ModelFamily, ModelIdentifier,
    ModelRequest, Prompt, Secret, StreamEvent,
};
use duo_providers::{HttpClient, HttpSettings, ResilienceConfig};
use futures::StreamExt;

/// An endpoint for `identifier` at `url`, with `key` if given.
pub fn endpoint(identifier: &str, url: &str, key: Option<&str>) -> ModelEndpoint {
    let ep = ModelEndpoint::new(
        ModelIdentifier::parse(identifier).unwrap(),
        ModelFamily::parse("mistral"),
    )
    .with_base_url(url);
    match key {
        Some(k) => ep.with_api_key(Secret::new(k)),
        None => ep,
    }
}

/// One `custom_openai/codestral` text completion at `url` through `registry`: the answer's text.
pub async fn complete_at(registry: &duo_providers::Registry, url: &str) -> Result<String, Error> {
    let endpoint = ModelEndpoint::new(
        ModelIdentifier::parse("custom_openai/codestral").unwrap(),
        ModelFamily::Codestral,
    )
    .with_base_url(url);
    let model = registry.model(&endpoint).await?;
    let request = ModelRequest::new(Prompt::Text("def add(a, b):".into()));
    model.generate(&request).await.map(|g| g.text)
}

/// A fresh pooled HTTP client with default settings.
pub fn http() -> HttpClient {
    HttpClient::new(
        &HttpSettings::default(),
        Duration::from_secs(5),
        &duo_providers::EgressPolicy::default(),
    )
    .unwrap()
}

/// Resilience with generous limits and fast backoff (tests tighten one limit at a time).
pub fn fast_retries() -> ResilienceConfig {
    ResilienceConfig {
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..ResilienceConfig::default()
    }
}

/// A chat request with one user message.
pub fn chat(text: &str) -> ModelRequest {
    ModelRequest::new(Prompt::Chat(vec![Message::user(text)]))
}

/// A text-completion request with sampling parameters and five stop sequences.
pub fn completion(text: &str) -> ModelRequest {
    ModelRequest::new(Prompt::Text(text.into())).with_params(GenerationParams {
        max_tokens: Some(64),
        temperature: Some(0.25),
        top_p: Some(0.5),
        stop: ["[INST]", "[/INST]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]"]
            .map(String::from)
            .to_vec(),
        timeout: None,
        reasoning_effort: None,
    })
}

/// Everything a stream yields until its end, or its first error.
pub async fn drain(
    model: &dyn LanguageModel,
    request: &ModelRequest,
) -> Result<(Vec<StreamEvent>, Option<Error>), Error> {
    let mut stream = model.generate_stream(request).await?;
    let mut events = Vec::new();
    let collect = async {
        while let Some(item) = stream.next().await {
            match item {
                Ok(e) => events.push(e),
                Err(e) => return Some(e),
            }
        }
        None
    };
    let error = tokio::time::timeout(Duration::from_secs(20), collect)
        .await
        .expect("the stream hung");
    Ok((events, error))
}

/// The text of the deltas in `events`.
pub fn text(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// How many deltas `events` holds.
pub fn deltas(events: &[StreamEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Delta(_)))
        .count()
}
