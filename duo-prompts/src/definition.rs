//! [`PromptDefinition`]: one loaded, compiled definition, and how it renders into a
//! [`ModelRequest`].

use std::sync::Arc;

use duo_core::{GenerationParams, Message, ModelRequest, Prompt, Role, UnitPrimitive};
use minijinja::{Environment, ErrorKind};
use semver::Version;
use serde_json::{Map, Value};

use crate::error::RenderError;

/// How a definition's prompt is sent to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptKind {
    /// Chat turns (system / history / user / assistant prefill) for a chat endpoint: [`Prompt::Chat`].
    Chat,
    /// One raw text (the `user` template) for a `/completions` endpoint: [`Prompt::Text`].
    Text,
}

impl PromptKind {
    /// `chat` or `text`, as written in definition files.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Text => "text",
        }
    }
}

/// Where a definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefinitionSource {
    /// Embedded in this crate.
    Builtin,
    /// Read from the operator's directory (added or overriding a built-in).
    Operator,
}

/// A summary of one loaded definition, as [`PromptRegistry::list`](crate::PromptRegistry::list)
/// returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionInfo {
    /// The prompt id, e.g. `code_suggestions/completions`.
    pub prompt_id: String,
    /// The family folder, e.g. `codestral` or `base`.
    pub family_folder: String,
    /// The definition's version (the file stem).
    pub version: Version,
    /// The display name.
    pub name: String,
    /// Chat or raw text.
    pub kind: PromptKind,
    /// The unit primitive the feature needs.
    pub unit_primitive: UnitPrimitive,
    /// Built in or operator-supplied.
    pub source: DefinitionSource,
}

/// One chat turn (or the raw text) of a definition: a compiled template in the shared environment.
#[derive(Debug, Clone)]
pub(crate) struct Turn {
    pub role: Role,
    /// The template's name in the environment.
    pub template: String,
    /// Top-level variables the template (with its includes) reads, sorted.
    pub variables: Vec<String>,
}

/// A loaded prompt definition: parameters plus compiled templates, ready to render.
#[derive(Debug)]
pub struct PromptDefinition {
    pub(crate) prompt_id: String,
    pub(crate) family_folder: String,
    pub(crate) version: Version,
    pub(crate) name: String,
    pub(crate) kind: PromptKind,
    pub(crate) unit_primitive: UnitPrimitive,
    pub(crate) params: GenerationParams,
    pub(crate) required_inputs: Vec<String>,
    pub(crate) history_input: Option<String>,
    pub(crate) turns: Vec<Turn>,
    pub(crate) source: DefinitionSource,
    pub(crate) file: String,
    pub(crate) env: Arc<Environment<'static>>,
}

impl PromptDefinition {
    /// The prompt id, e.g. `chat/explain_code`.
    #[must_use]
    pub fn prompt_id(&self) -> &str {
        &self.prompt_id
    }

    /// The family folder this definition lives in (`base` for the generic one).
    #[must_use]
    pub fn family_folder(&self) -> &str {
        &self.family_folder
    }

    /// The definition's version.
    #[must_use]
    pub fn version(&self) -> &Version {
        &self.version
    }

    /// The display name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Chat or raw text.
    #[must_use]
    pub fn kind(&self) -> PromptKind {
        self.kind
    }

    /// The unit primitive (token scope) the caller needs.
    #[must_use]
    pub fn unit_primitive(&self) -> UnitPrimitive {
        self.unit_primitive
    }

    /// The default generation parameters: stop sequences, max tokens, temperature, top-p, timeout.
    #[must_use]
    pub fn params(&self) -> &GenerationParams {
        &self.params
    }

    /// Inputs that must be given to [`render`](Self::render).
    #[must_use]
    pub fn required_inputs(&self) -> &[String] {
        &self.required_inputs
    }

    /// Every top-level variable the templates read (required or optional), sorted, deduplicated.
    #[must_use]
    pub fn variables(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .turns
            .iter()
            .flat_map(|t| t.variables.iter().map(String::as_str))
            .chain(self.history_input.as_deref())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Where the definition was read from: `builtin:<path>` or the operator file's path.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// A summary of this definition.
    #[must_use]
    pub fn info(&self) -> DefinitionInfo {
        DefinitionInfo {
            prompt_id: self.prompt_id.clone(),
            family_folder: self.family_folder.clone(),
            version: self.version.clone(),
            name: self.name.clone(),
            kind: self.kind,
            unit_primitive: self.unit_primitive,
            source: self.source,
        }
    }

    /// A request that sends `prompt` untouched with this definition's parameters: the
    /// `prompt_version` 2 / 3 pass-through of code suggestions (client-built text or messages).
    #[must_use]
    pub fn passthrough(&self, prompt: Prompt) -> ModelRequest {
        ModelRequest::new(prompt).with_params(self.params.clone())
    }

    /// Renders the templates with `inputs` into a request (chat turns or raw text) carrying the
    /// definition's parameters.
    ///
    /// Input values are data, never template code: `{{ … }}` inside an input renders as text.
    ///
    /// # Errors
    /// [`RenderError::MissingVariable`] when a required input, or a variable a template prints,
    /// is absent; [`RenderError::InvalidInput`] for a malformed chat history;
    /// [`RenderError::Template`] for other template failures.
    pub fn render(&self, inputs: &Map<String, Value>) -> Result<ModelRequest, RenderError> {
        if let Some(name) = self
            .required_inputs
            .iter()
            .find(|name| !inputs.contains_key(name.as_str()))
        {
            return Err(RenderError::MissingVariable { name: name.clone() });
        }
        let ctx = minijinja::Value::from_serialize(inputs);
        let prompt = match self.kind {
            PromptKind::Text => {
                let mut text = String::new();
                for turn in &self.turns {
                    text.push_str(&self.render_turn(turn, &ctx, inputs)?);
                }
                Prompt::Text(text)
            }
            PromptKind::Chat => Prompt::Chat(self.render_chat(&ctx, inputs)?),
        };
        Ok(ModelRequest::new(prompt).with_params(self.params.clone()))
    }

    fn render_chat(
        &self,
        ctx: &minijinja::Value,
        inputs: &Map<String, Value>,
    ) -> Result<Vec<Message>, RenderError> {
        let mut messages = Vec::with_capacity(self.turns.len() + 4);
        let mut history_done = self.history_input.is_none();
        for turn in &self.turns {
            if !history_done && turn.role != Role::System {
                self.push_history(inputs, &mut messages)?;
                history_done = true;
            }
            let content = self.render_turn(turn, ctx, inputs)?;
            // A system or assistant template that renders to nothing (an empty scratchpad, a
            // conditional block) is not sent: empty turns confuse some chat templates.
            if turn.role != Role::User && content.trim().is_empty() {
                continue;
            }
            messages.push(Message::new(turn.role, content));
        }
        if !history_done {
            self.push_history(inputs, &mut messages)?;
        }
        Ok(messages)
    }

    fn push_history(
        &self,
        inputs: &Map<String, Value>,
        messages: &mut Vec<Message>,
    ) -> Result<(), RenderError> {
        let Some(name) = self.history_input.as_deref() else {
            return Ok(());
        };
        let invalid = |message: String| RenderError::InvalidInput {
            name: name.to_owned(),
            message,
        };
        let items = match inputs.get(name) {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(invalid("expected a list of {role, content}".into())),
        };
        for (i, item) in items.iter().enumerate() {
            let role = match item.get("role").and_then(Value::as_str) {
                Some("system") => Role::System,
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                _ => return Err(invalid(format!("item {i} has no valid role"))),
            };
            match item.get("content") {
                Some(Value::String(content)) => messages.push(Message::new(role, content.clone())),
                None | Some(Value::Null) => {}
                Some(_) => return Err(invalid(format!("item {i}: content must be a string"))),
            }
        }
        Ok(())
    }

    fn render_turn(
        &self,
        turn: &Turn,
        ctx: &minijinja::Value,
        inputs: &Map<String, Value>,
    ) -> Result<String, RenderError> {
        let rendered = self
            .env
            .get_template(&turn.template)
            .and_then(|t| t.render(ctx));
        rendered.map_err(|err| {
            if err.kind() == ErrorKind::UndefinedError {
                // The engine points at the undefined expression: name it when it is an input
                // that was not given; else the first of the template's variables not given.
                let pointed = self
                    .undefined_expression(&err)
                    .filter(|name| !inputs.contains_key(name.as_str()));
                let first_missing = || {
                    turn.variables
                        .iter()
                        .find(|v| !inputs.contains_key(v.as_str()))
                        .cloned()
                };
                if let Some(name) = pointed.or_else(first_missing) {
                    return RenderError::MissingVariable { name };
                }
            }
            RenderError::Template {
                template: turn.template.clone(),
                message: err.to_string(),
            }
        })
    }

    /// The identifier at the start of the expression an undefined-value error points at.
    fn undefined_expression(&self, err: &minijinja::Error) -> Option<String> {
        let template = self.env.get_template(err.name()?).ok()?;
        let snippet = template.source().get(err.range()?)?;
        let ident: String = snippet
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!ident.is_empty()).then_some(ident)
    }
}
