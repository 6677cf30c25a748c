//! Entry points for the fuzz targets in `fuzz/`, compiled only with `--cfg fuzzing` (as
//! `cargo fuzz` builds): not public API.
//!
//! In these builds [`Registry::model`](crate::Registry::model) validates and builds the client as
//! always, then hands out a [`StandIn`] for it: the gateway's routes run to the end without a
//! model server (see `duo_gateway::fuzzing`).
//!
//! The SSE decoder needs nothing here ([`crate::openai::decode_sse_limited`] is public); the
//! Bedrock event-stream path does: a [`BedrockModel`](crate::bedrock::BedrockModel) built the
//! way [`BedrockProvider::model`](crate::bedrock::BedrockProvider::model) builds it, except that
//! its SDK client hands every request to the fuzz target's HTTP client, which answers with the
//! fuzzed body. Everything after the HTTP response (the SDK's frame decoder and unmarshaller,
//! the crate's event translation and error mapping) is the production code.

use std::sync::Arc;

use duo_core::{
    Error, EventStream, FinishReason, LanguageModel, ModelRequest, Prompt, StreamEvent, Usage,
    async_trait,
};

#[cfg(feature = "bedrock")]
pub use bedrock::bedrock_model;

/// A model that answers every request at once, without I/O, in place of the client `real` (whose
/// provider, model and upstream it reports): a short ReAct answer quoting the prompt's start,
/// with a reasoning block, in three deltas, then `stop` with usage.
pub struct StandIn {
    real: Arc<dyn LanguageModel>,
}

impl StandIn {
    /// Stands in for `real`.
    pub fn wrap(real: Arc<dyn LanguageModel>) -> Arc<dyn LanguageModel> {
        Arc::new(Self { real })
    }
}

#[async_trait]
impl LanguageModel for StandIn {
    fn provider(&self) -> &str {
        self.real.provider()
    }

    fn model(&self) -> &str {
        self.real.model()
    }

    fn upstream(&self) -> &str {
        self.real.upstream()
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let start = match &request.prompt {
            Prompt::Text(text) => text.as_str(),
            Prompt::FillInTheMiddle { prefix, .. } => prefix.as_str(),
            Prompt::Chat(messages) => messages.last().map_or("", |m| m.content.as_str()),
            _ => "",
        };
        let quote: String = start.chars().take(40).collect();
        let events = vec![
            Ok(StreamEvent::Delta(
                "<think>plan</think>Thought: fine\n".into(),
            )),
            Ok(StreamEvent::Delta("Final Answer: ".into())),
            Ok(StreamEvent::Delta(quote)),
            Ok(StreamEvent::Finish {
                reason: FinishReason::Stop,
                usage: Some(Usage {
                    input_tokens: 3,
                    output_tokens: 5,
                }),
            }),
        ];
        Ok(Box::pin(futures::stream::iter(events)))
    }
}

#[cfg(feature = "bedrock")]
mod bedrock {
    use aws_sdk_bedrockruntime::config::{HttpClient, SharedHttpClient};
    use duo_core::{Error, ModelEndpoint, ModelFamily, ModelIdentifier, Secret};

    use crate::bedrock::{BedrockModel, BedrockProvider, BedrockSettings};

    /// The model `bedrock/<model_id>` in region `us-east-1` with static (fake) keys, built as
    /// [`BedrockProvider::model`] builds it (SDK configuration, egress check of the endpoint URL
    /// before signing), except that its service client sends requests to `http` instead of the
    /// egress policy's client.
    ///
    /// # Errors
    /// As [`BedrockProvider::model`].
    pub async fn bedrock_model(
        http: impl HttpClient + 'static,
        model_id: &str,
    ) -> Result<BedrockModel, Error> {
        let settings = BedrockSettings {
            region: Some("us-east-1".into()),
            access_key_id: Some("AKIDFUZZ".into()),
            secret_access_key: Some(Secret::new("fuzz-secret")),
            ..BedrockSettings::default()
        };
        let provider =
            BedrockProvider::with_http_client(settings, SharedHttpClient::new(http)).await?;
        let identifier = ModelIdentifier::parse(&format!("bedrock/{model_id}"))?;
        provider
            .model(&ModelEndpoint::new(identifier, ModelFamily::Mistral))
            .await
    }
}
