//! A [`ModelRequest`] as the Converse API's `system`, `messages` and `inferenceConfig`.

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, InferenceConfiguration, Message as BedrockMessage,
    SystemContentBlock,
};
use duo_core::{Error, GenerationParams, Message, ModelRequest, Prompt, Role};

/// Where the cursor is in a fill-in-the-middle prompt sent to Bedrock.
pub const FIM_MARKER: &str = "<|fill-here|>";

/// The instruction that turns a fill-in-the-middle prompt into one user turn.
pub const FIM_INSTRUCTION: &str = "Write the code that belongs at the <|fill-here|> marker in \
the file below. Answer with that code only: no explanation, no Markdown fences, and do not \
repeat the code before or after the marker.";

/// The Converse input built from one request.
#[derive(Debug)]
pub(crate) struct ConverseInput {
    /// `system`: the chat prompt's system messages, in order.
    pub system: Option<Vec<SystemContentBlock>>,
    /// `messages`: alternating user/assistant turns, starting with a user turn.
    pub messages: Vec<BedrockMessage>,
    /// `inferenceConfig`, when any parameter is set.
    pub inference: Option<InferenceConfiguration>,
}

/// The user turn a fill-in-the-middle prompt becomes: the instruction, then the file with the
/// marker at the cursor, inside `<code>` tags.
#[must_use]
pub fn fim_user_turn(prefix: &str, suffix: &str) -> String {
    let mut turn = String::with_capacity(
        FIM_INSTRUCTION.len() + prefix.len() + FIM_MARKER.len() + suffix.len() + 20,
    );
    turn.push_str(FIM_INSTRUCTION);
    turn.push_str("\n\n<code>\n");
    turn.push_str(prefix);
    turn.push_str(FIM_MARKER);
    turn.push_str(suffix);
    turn.push_str("\n</code>");
    turn
}

pub(crate) fn converse_input(request: &ModelRequest) -> Result<ConverseInput, Error> {
    let (system, turns) = match &request.prompt {
        Prompt::Text(text) => (Vec::new(), vec![user_turn(text.clone())]),
        Prompt::FillInTheMiddle { prefix, suffix } => {
            (Vec::new(), vec![user_turn(fim_user_turn(prefix, suffix))])
        }
        Prompt::Chat(messages) => chat_turns(messages)?,
        _ => {
            return Err(Error::InvalidRequest(
                "this prompt kind is not supported by the Bedrock provider".into(),
            ));
        }
    };
    let messages = turns
        .into_iter()
        .map(|(role, content)| {
            BedrockMessage::builder()
                .role(role)
                .set_content(Some(content))
                .build()
                .map_err(|e| Error::InvalidRequest(format!("bedrock message: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ConverseInput {
        system: (!system.is_empty()).then_some(system),
        messages,
        inference: inference_config(&request.params),
    })
}

fn user_turn(text: String) -> (ConversationRole, Vec<ContentBlock>) {
    (ConversationRole::User, vec![ContentBlock::Text(text)])
}

type Turns = Vec<(ConversationRole, Vec<ContentBlock>)>;

/// System messages go to `system`; consecutive user (or assistant) messages merge into one
/// turn of several text blocks, because Bedrock requires alternating roles. Blank messages are
/// dropped (Bedrock rejects blank text blocks).
fn chat_turns(messages: &[Message]) -> Result<(Vec<SystemContentBlock>, Turns), Error> {
    let mut system = Vec::new();
    let mut turns: Turns = Vec::with_capacity(messages.len());
    for message in messages {
        if message.content.trim().is_empty() {
            continue;
        }
        let role = match message.role {
            Role::System => {
                system.push(SystemContentBlock::Text(message.content.clone()));
                continue;
            }
            Role::User => ConversationRole::User,
            Role::Assistant => ConversationRole::Assistant,
        };
        let block = ContentBlock::Text(message.content.clone());
        match turns.last_mut() {
            Some((last, blocks)) if *last == role => blocks.push(block),
            _ => turns.push((role, vec![block])),
        }
    }
    match turns.first() {
        None => Err(Error::InvalidRequest(
            "a Bedrock chat prompt needs at least one non-empty user message".into(),
        )),
        Some((ConversationRole::User, _)) => Ok((system, turns)),
        Some(_) => Err(Error::InvalidRequest(
            "a Bedrock conversation must start with a user message, not an assistant message"
                .into(),
        )),
    }
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

    fn texts(message: &BedrockMessage) -> Vec<&str> {
        message
            .content()
            .iter()
            .map(|b| b.as_text().unwrap().as_str())
            .collect()
    }

    #[test]
    fn chat_merges_same_role_turns_and_lifts_system_messages() {
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
    fn chats_that_do_not_start_with_a_user_are_rejected_locally() {
        for messages in [
            vec![Message::system("s")],
            vec![Message::assistant("hi"), Message::user("q")],
            vec![],
        ] {
            let err = converse_input(&ModelRequest::new(Prompt::Chat(messages))).unwrap_err();
            assert_eq!(err.kind(), "invalid_request");
        }
    }

    #[test]
    fn fim_is_one_user_turn_with_the_marker_at_the_cursor() {
        let request = ModelRequest::new(Prompt::FillInTheMiddle {
            prefix: "def add(a, b):\n    ".into(),
            suffix: "\n\nprint(add(1, 2))".into(),
        });
        let input = converse_input(&request).unwrap();
        assert_eq!(input.messages.len(), 1);
        assert!(input.system.is_none());
        let text = texts(&input.messages[0])[0];
        assert!(text.starts_with(FIM_INSTRUCTION));
        assert!(text.contains("def add(a, b):\n    <|fill-here|>\n\nprint(add(1, 2))\n</code>"));
    }

    #[test]
    fn params_become_inference_config() {
        let request = ModelRequest::new(Prompt::Text("x".into())).with_params(GenerationParams {
            max_tokens: Some(u32::MAX),
            temperature: Some(0.2),
            top_p: None,
            stop: vec!["".into(), "\n\n".into()],
            timeout: None,
        });
        let config = converse_input(&request).unwrap().inference.unwrap();
        assert_eq!(config.max_tokens(), Some(i32::MAX));
        assert_eq!(config.temperature(), Some(0.2));
        assert_eq!(config.top_p(), None);
        assert_eq!(config.stop_sequences(), ["\n\n"]);
    }
}
