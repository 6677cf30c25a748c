//! [`BedrockModel`]: one Bedrock model id behind [`LanguageModel`], via Converse and ConverseStream.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConverseOutput, ConverseStreamOutput,
    GuardrailConfiguration, GuardrailStreamConfiguration, TokenUsage,
};
use duo_core::{
    CallOrdinals, Error, EventStream, FinishReason, Generation, LanguageModel, ModelRequest,
    Secret, StreamEvent, ToolCallDelta, Usage, async_trait,
};

use super::error::{ErrorContext, map_sdk_error};
use super::guardrail::GuardrailSettings;
use super::request::converse_input;
use super::tools::tool_call;

/// The SDK's own connect and read timeouts (the read timeout runs until the response headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SdkTimeouts {
    pub connect: Duration,
    pub read: Duration,
}

/// A model on AWS Bedrock, called through the Converse API. Cheap to clone (the SDK client is
/// shared).
#[derive(Debug, Clone)]
pub struct BedrockModel {
    client: Client,
    model_id: Arc<str>,
    upstream: Arc<str>,
    timeouts: SdkTimeouts,
    /// `guardrailConfig` of Converse and of ConverseStream.
    guardrail: Option<(GuardrailConfiguration, GuardrailStreamConfiguration)>,
    /// The Bedrock API key, scrubbed from every error.
    api_key: Option<Secret>,
}

impl BedrockModel {
    pub(crate) fn new(
        client: Client,
        model_id: &str,
        upstream: String,
        timeouts: SdkTimeouts,
    ) -> Self {
        Self {
            client,
            model_id: model_id.into(),
            upstream: upstream.into(),
            timeouts,
            guardrail: None,
            api_key: None,
        }
    }

    /// Applies `guardrail` to every call.
    pub(crate) fn with_guardrail(mut self, guardrail: Option<&GuardrailSettings>) -> Self {
        self.guardrail = guardrail.map(|g| (g.converse(), g.converse_stream()));
        self
    }

    /// Scrubs `api_key` (the key the client sends) from every error.
    pub(crate) fn with_api_key(mut self, api_key: Option<Secret>) -> Self {
        self.api_key = api_key;
        self
    }

    fn scrub(&self, err: Error) -> Error {
        match &self.api_key {
            Some(key) => err.scrubbed(key),
            None => err,
        }
    }

    fn context(&self, in_stream: bool) -> ErrorContext<'_> {
        ErrorContext {
            upstream: &self.upstream,
            in_stream,
            connect_timeout: self.timeouts.connect,
            read_timeout: self.timeouts.read,
        }
    }
}

fn usage(tokens: &TokenUsage) -> Usage {
    Usage {
        input_tokens: u32::try_from(tokens.input_tokens).unwrap_or(0),
        output_tokens: u32::try_from(tokens.output_tokens).unwrap_or(0),
    }
}

#[async_trait]
impl LanguageModel for BedrockModel {
    fn provider(&self) -> &str {
        "bedrock"
    }

    fn model(&self) -> &str {
        &self.model_id
    }

    fn upstream(&self) -> &str {
        &self.upstream
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let input = converse_input(request)?;
        let output = self
            .client
            .converse()
            .model_id(&*self.model_id)
            .set_system(input.system)
            .set_messages(Some(input.messages))
            .set_inference_config(input.inference)
            .set_tool_config(input.tools)
            .set_guardrail_config(self.guardrail.as_ref().map(|(g, _)| g.clone()))
            .send()
            .await
            .map_err(|e| self.scrub(map_sdk_error(&e, self.context(false))))?;
        let Some(ConverseOutput::Message(message)) = output.output else {
            return Err(Error::Protocol {
                upstream: self.upstream.to_string(),
                message: "the Converse answer has no output message".into(),
            });
        };
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in message.content {
            match block {
                ContentBlock::Text(piece) if text.is_empty() => text = piece,
                ContentBlock::Text(piece) => text.push_str(&piece),
                ContentBlock::ToolUse(call) => tool_calls.push(tool_call(&call)),
                _ => {}
            }
        }
        Ok(Generation {
            text,
            tool_calls,
            finish_reason: FinishReason::parse(output.stop_reason.as_str()),
            usage: output.usage.as_ref().map(usage),
        })
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let input = converse_input(request)?;
        let output = self
            .client
            .converse_stream()
            .model_id(&*self.model_id)
            .set_system(input.system)
            .set_messages(Some(input.messages))
            .set_inference_config(input.inference)
            .set_tool_config(input.tools)
            .set_guardrail_config(self.guardrail.as_ref().map(|(_, g)| g.clone()))
            .send()
            .await
            .map_err(|e| self.scrub(map_sdk_error(&e, self.context(false))))?;
        let state = StreamState {
            receiver: Some(output.stream),
            model: self.clone(),
            stop: None,
            usage: None,
            calls: CallOrdinals::default(),
        };
        Ok(Box::pin(futures::stream::unfold(state, next_event)))
    }
}

type Receiver = aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver<
    ConverseStreamOutput,
    aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError,
>;

struct StreamState {
    /// `None` once the stream has ended (with `Finish` or an error).
    receiver: Option<Receiver>,
    model: BedrockModel,
    stop: Option<FinishReason>,
    usage: Option<Usage>,
    /// Tool calls by the content block they started in.
    calls: CallOrdinals,
}

/// Translates ConverseStream events: text deltas become [`StreamEvent::Delta`]; a `toolUse`
/// block start becomes a [`StreamEvent::ToolCall`] with its id and name, and its input deltas
/// more of its arguments (calls numbered 0, 1, … by ordinal, not by block); `messageStop`
/// gives the finish reason and `metadata` the usage, and [`StreamEvent::Finish`] follows once
/// both arrived (or at the end of the body, if `metadata` never came). A body that ends before
/// `messageStop` is a [`Error::BrokenStream`].
async fn next_event(mut state: StreamState) -> Option<(Result<StreamEvent, Error>, StreamState)> {
    let mut receiver = state.receiver.take()?;
    loop {
        match receiver.recv().await {
            Ok(Some(ConverseStreamOutput::ContentBlockStart(event))) => {
                if let Some(ContentBlockStart::ToolUse(start)) = event.start {
                    let block = u64::try_from(event.content_block_index).unwrap_or(0);
                    let index = state.calls.start(block);
                    let delta = ToolCallDelta::start(index, start.tool_use_id, start.name);
                    state.receiver = Some(receiver);
                    return Some((Ok(StreamEvent::ToolCall(delta)), state));
                }
            }
            Ok(Some(ConverseStreamOutput::ContentBlockDelta(event))) => {
                let block = u64::try_from(event.content_block_index).unwrap_or(0);
                let out = match event.delta {
                    Some(ContentBlockDelta::Text(text)) if !text.is_empty() => {
                        StreamEvent::Delta(text)
                    }
                    Some(ContentBlockDelta::ToolUse(input)) if !input.input.is_empty() => {
                        let index = state.calls.start(block);
                        StreamEvent::ToolCall(ToolCallDelta::arguments(index, input.input))
                    }
                    _ => continue,
                };
                state.receiver = Some(receiver);
                return Some((Ok(out), state));
            }
            Ok(Some(ConverseStreamOutput::MessageStop(event))) => {
                state.stop = Some(FinishReason::parse(event.stop_reason.as_str()));
            }
            Ok(Some(ConverseStreamOutput::Metadata(event))) => {
                state.usage = event.usage.as_ref().map(usage);
                if let Some(reason) = state.stop.take() {
                    let usage = state.usage;
                    return Some((Ok(StreamEvent::Finish { reason, usage }), state));
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                let event = match state.stop.take() {
                    Some(reason) => Ok(StreamEvent::Finish {
                        reason,
                        usage: state.usage,
                    }),
                    None => Err(Error::BrokenStream {
                        upstream: state.model.upstream.to_string(),
                        message: "the event stream ended before messageStop".into(),
                    }),
                };
                return Some((event, state));
            }
            Err(e) => {
                let error = state
                    .model
                    .scrub(map_sdk_error(&e, state.model.context(true)));
                return Some((Err(error), state));
            }
        }
    }
}
