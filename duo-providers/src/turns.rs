//! A prompt as chat-only APIs take it (Bedrock's Converse, Anthropic's Messages): system text
//! lifted out, alternating user and assistant turns starting with a user turn, and text and
//! fill-in-the-middle prompts written as one user turn.

use std::borrow::Cow;

use duo_core::{Error, Message, Prompt, Role, ToolCall};

/// Where the cursor is in a fill-in-the-middle prompt sent to a chat-only API.
pub const FIM_MARKER: &str = "<|fill-here|>";

/// The instruction that turns a fill-in-the-middle prompt into one user turn.
pub const FIM_INSTRUCTION: &str = "Write the code that belongs at the <|fill-here|> marker in \
the file below. Answer with that code only: no explanation, no Markdown fences, and do not \
repeat the code before or after the marker.";

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

/// One piece of a turn.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Block<'a> {
    /// Text.
    Text(Cow<'a, str>),
    /// A tool call the assistant made.
    ToolUse(&'a ToolCall),
    /// A tool's result (in a user turn), answering the call `call_id`.
    ToolResult {
        /// The call answered.
        call_id: &'a str,
        /// The tool's name, found from the assistant's call of that id (Gemini needs it).
        name: Option<&'a str>,
        /// The result.
        content: &'a str,
    },
}

/// One turn: a role (user or assistant) and its blocks, in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Turn<'a> {
    /// [`Role::User`] or [`Role::Assistant`].
    pub role: Role,
    /// The messages merged into this turn.
    pub blocks: Vec<Block<'a>>,
}

impl Turn<'_> {
    /// The turn's texts, without its tool blocks.
    #[cfg(test)]
    pub fn texts(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect()
    }
}

/// A prompt as turns.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ChatTurns<'a> {
    /// The chat prompt's system messages, in order.
    pub system: Vec<&'a str>,
    /// Alternating turns, the first a user turn.
    pub turns: Vec<Turn<'a>>,
}

/// `prompt` as turns for `platform` (named in errors). Text is one user turn; a
/// fill-in-the-middle prompt is [`fim_user_turn`]; in a chat, system messages are lifted out,
/// consecutive messages of one role merge into one turn (these APIs require alternating roles),
/// tool results are user turns of [`Block::ToolResult`]s and an assistant's tool calls are
/// [`Block::ToolUse`]s after its text; blank texts are dropped (these APIs refuse blank text).
///
/// # Errors
/// [`Error::InvalidRequest`] for a chat with no non-blank user or assistant message, one that
/// starts with an assistant turn, or a prompt kind this version does not know.
pub(crate) fn chat_turns<'a>(prompt: &'a Prompt, platform: &str) -> Result<ChatTurns<'a>, Error> {
    let user = |text: Cow<'a, str>| ChatTurns {
        system: Vec::new(),
        turns: vec![Turn {
            role: Role::User,
            blocks: vec![Block::Text(text)],
        }],
    };
    match prompt {
        Prompt::Text(text) => Ok(user(Cow::Borrowed(text))),
        Prompt::FillInTheMiddle { prefix, suffix } => {
            Ok(user(Cow::Owned(fim_user_turn(prefix, suffix))))
        }
        Prompt::Chat(messages) => chat(messages, platform),
        _ => Err(Error::InvalidRequest(format!(
            "this prompt kind is not supported by the {platform} provider"
        ))),
    }
}

/// The blocks one message contributes, and the role of the turn they belong to.
fn blocks<'a>(message: &'a Message, messages: &'a [Message]) -> (Role, Vec<Block<'a>>) {
    let text = (!message.content.trim().is_empty())
        .then_some(Block::Text(Cow::Borrowed(message.content.as_str())));
    match message.role {
        Role::Tool => {
            let call_id = message.tool_call_id.as_deref().unwrap_or_default();
            let name = messages
                .iter()
                .flat_map(|m| &m.tool_calls)
                .find(|c| c.id == call_id)
                .map(|c| c.name.as_str());
            let result = Block::ToolResult {
                call_id,
                name,
                content: &message.content,
            };
            (Role::User, vec![result])
        }
        role => {
            let calls = message.tool_calls.iter().map(Block::ToolUse);
            (role, text.into_iter().chain(calls).collect())
        }
    }
}

fn chat<'a>(messages: &'a [Message], platform: &str) -> Result<ChatTurns<'a>, Error> {
    let mut system = Vec::new();
    let mut turns: Vec<Turn<'a>> = Vec::with_capacity(messages.len());
    for message in messages {
        if message.role == Role::System {
            if !message.content.trim().is_empty() {
                system.push(message.content.as_str());
            }
            continue;
        }
        let (role, blocks) = blocks(message, messages);
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == role => last.blocks.extend(blocks),
            _ => turns.push(Turn { role, blocks }),
        }
    }
    match turns.first() {
        None => Err(Error::InvalidRequest(format!(
            "a {platform} chat prompt needs at least one non-empty user message"
        ))),
        Some(first) if first.role == Role::User => Ok(ChatTurns { system, turns }),
        Some(_) => Err(Error::InvalidRequest(format!(
            "a {platform} conversation must start with a user message, not an assistant message"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_merges_same_role_turns_and_lifts_system_messages() {
        let prompt = Prompt::Chat(vec![
            Message::system("be brief"),
            Message::user("a"),
            Message::user("b"),
            Message::assistant("c"),
            Message::system("and kind"),
            Message::user("  "),
            Message::user("d"),
        ]);
        let turns = chat_turns(&prompt, "Test").unwrap();
        assert_eq!(turns.system, ["be brief", "and kind"]);
        let roles: Vec<Role> = turns.turns.iter().map(|t| t.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
        assert_eq!(turns.turns[0].texts(), ["a", "b"]);
        assert_eq!(turns.turns[2].texts(), ["d"]);
    }

    #[test]
    fn chats_that_do_not_start_with_a_user_are_refused_naming_the_platform() {
        for (messages, says) in [
            (
                vec![Message::system("s")],
                "needs at least one non-empty user",
            ),
            (
                vec![Message::assistant("hi"), Message::user("q")],
                "must start with a user message",
            ),
            (vec![], "needs at least one"),
        ] {
            let err = chat_turns(&Prompt::Chat(messages), "Test").unwrap_err();
            assert_eq!(err.kind(), "invalid_request");
            assert!(err.to_string().contains(says), "{err}");
            assert!(err.to_string().contains("Test"), "{err}");
        }
    }

    #[test]
    fn text_and_fim_are_one_user_turn() {
        let fim = Prompt::FillInTheMiddle {
            prefix: "def add(a, b):\n    ".into(),
            suffix: "\n\nprint(add(1, 2))".into(),
        };
        let turns = chat_turns(&fim, "Test").unwrap();
        assert!(turns.system.is_empty());
        assert_eq!(turns.turns.len(), 1);
        let text = turns.turns[0].texts()[0];
        assert!(text.starts_with(FIM_INSTRUCTION));
        assert!(text.contains("def add(a, b):\n    <|fill-here|>\n\nprint(add(1, 2))\n</code>"));
        let plain = Prompt::Text("x".into());
        assert_eq!(chat_turns(&plain, "Test").unwrap().turns[0].texts(), ["x"]);
    }

    #[test]
    fn tool_calls_and_results_become_blocks_of_alternating_turns() {
        let call = ToolCall::new("c1", "read_file", "{\"path\":\"a.rs\"}");
        let prompt = Prompt::Chat(vec![
            Message::user("read a.rs"),
            Message::assistant_tool_calls("", vec![call.clone()]),
            Message::tool_result("c1", "fn main() {}"),
            Message::tool_result("unknown", ""),
            Message::user("and now?"),
        ]);
        let turns = chat_turns(&prompt, "Test").unwrap().turns;
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[1].role, Role::Assistant);
        assert_eq!(turns[1].blocks, [Block::ToolUse(&call)]);
        assert_eq!(turns[2].role, Role::User);
        assert_eq!(
            turns[2].blocks,
            [
                Block::ToolResult {
                    call_id: "c1",
                    name: Some("read_file"),
                    content: "fn main() {}"
                },
                Block::ToolResult {
                    call_id: "unknown",
                    name: None,
                    content: ""
                },
                Block::Text(Cow::Borrowed("and now?")),
            ]
        );
    }
}
