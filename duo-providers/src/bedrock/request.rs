//! A [`ModelRequest`] as the Converse API's `system`, `messages` and `inferenceConfig`.

use aws_sdk_bedrockruntime::types::{
    ConversationRole, InferenceConfiguration, Message as BedrockMessage, SystemContentBlock,
    ToolConfiguration,
};
use duo_core::{Error, GenerationParams, ModelRequest, Role};

use super::tools::{content_block, tool_config};
use crate::turns::{ChatTurns, chat_turns};

/// The Converse input built from one request.
#[derive(Debug)]
pub(crate) struct ConverseInput {
    /// `system`: the chat prompt's system messages, in order.
    pub system: Option<Vec<SystemContentBlock>>,
    /// `messages`: alternating user/assistant turns, starting with a user turn.
    pub messages: Vec<BedrockMessage>,
    /// `inferenceConfig`, when any parameter is set.
    pub inference: Option<InferenceConfiguration>,
    /// `toolConfig`, when the request offers tools.
    pub tools: Option<ToolConfiguration>,
}

pub(crate) fn converse_input(request: &ModelRequest) -> Result<ConverseInput, Error> {
    let chat = chat_turns(&request.prompt, "Bedrock")?;
    let tools = tool_config(request, &chat)?;
    let ChatTurns { system, turns } = chat;
    let messages = turns
        .into_iter()
        .map(|turn| {
            let role = match turn.role {
                Role::Assistant => ConversationRole::Assistant,
                Role::User | Role::System | Role::Tool => ConversationRole::User,
            };
            let content = turn
                .blocks
                .into_iter()
                .map(content_block)
                .collect::<Result<Vec<_>, _>>()?;
            BedrockMessage::builder()
                .role(role)
                .set_content(Some(content))
                .build()
                .map_err(|e| Error::InvalidRequest(format!("bedrock message: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let system: Vec<SystemContentBlock> = system
        .into_iter()
        .map(|text| SystemContentBlock::Text(text.to_owned()))
        .collect();
    Ok(ConverseInput {
        system: (!system.is_empty()).then_some(system),
        messages,
        inference: inference_config(&request.params),
        tools,
    })
}

fn inference_config(params: &GenerationParams) -> Option<InferenceConfiguration> {
    let stop: Vec<String> = params
        .stop
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    if params.max_tokens.is_none()
        && params.temperature.is_none()
        && params.top_p.is_none()
        && stop.is_empty()
    {
        return None;
    }
    Some(
        InferenceConfiguration::builder()
            .set_max_tokens(
                params
                    .max_tokens
                    .map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            )
            .set_temperature(params.temperature)
            .set_top_p(params.top_p)
            .set_stop_sequences((!stop.is_empty()).then_some(stop))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo_core::{Message, Prompt};

    fn texts(message: &BedrockMessage) -> Vec<&str> {
        message
            .content()
            .iter()
            .map(|b| b.as_text().unwrap().as_str())
            .collect()
    }

    #[test]
    fn turns_become_converse_messages_and_system_blocks() {
        // How turns are formed is `turns`' job (tested there); this is their Converse shape.
        let request = ModelRequest::new(Prompt::Chat(vec![
            Message::system("be brief"),
            Message::user("a"),
            Message::user("b"),
            Message::assistant("c"),
            Message::system("and kind"),
            Message::user("  "),
            Message::user("d"),
        ]));
        let input = converse_input(&request).unwrap();
        let system: Vec<&str> = input
            .system
            .as_deref()
            .unwrap()
            .iter()
            .map(|b| b.as_text().unwrap().as_str())
            .collect();
        assert_eq!(system, ["be brief", "and kind"]);
        let roles: Vec<&ConversationRole> = input.messages.iter().map(|m| m.role()).collect();
        assert_eq!(
            roles,
            [
                &ConversationRole::User,
                &ConversationRole::Assistant,
                &ConversationRole::User
            ]
        );
        assert_eq!(texts(&input.messages[0]), ["a", "b"]);
        assert_eq!(texts(&input.messages[2]), ["d"]);
        assert!(input.inference.is_none());
    }

    #[test]
    fn params_become_inference_config() {
        let request = ModelRequest::new(Prompt::Text("x".into())).with_params(GenerationParams {
            max_tokens: Some(u32::MAX),
            temperature: Some(0.2),
            top_p: None,
            stop: vec!["".into(), "\n\n".into()],
            timeout: None,
            reasoning_effort: None,
        });
        let config = converse_input(&request).unwrap().inference.unwrap();
        assert_eq!(config.max_tokens(), Some(i32::MAX));
        assert_eq!(config.temperature(), Some(0.2));
        assert_eq!(config.top_p(), None);
        assert_eq!(config.stop_sequences(), ["\n\n"]);
    }
}
