//! The one path every code-suggestion route (v2, v3, v4) takes once its body is parsed: model
//! selection, prompt resolution, building the model input, and the model call.
//!
//! Each API generation turns its body into a [`Suggestion`] and shapes the [`Served`] answer its
//! own way; nothing between those two ends differs per version.

use duo_core::{EventStream, Feature, Generation, ModelFamily, ModelRequest, Prompt};
use duo_prompts::PromptDefinition;
use duo_prompts::code::{ContextItem, CurrentFile, completion_inputs, generation_inputs};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::model_selection::{ModelFields, select};
use crate::state::{AppState, RequestLog};
use duo_auth::Caller;

/// Which of the two features a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Code completion (fill in at the cursor), unit primitive `complete_code`.
    Completions,
    /// Code generation (from an instruction or comment), unit primitive `generate_code`.
    Generations,
}

impl Kind {
    /// The Duo feature served.
    pub(super) fn feature(self) -> Feature {
        match self {
            Self::Completions => Feature::CodeCompletions,
            Self::Generations => Feature::CodeGenerations,
        }
    }
}

/// Template variables the gateway computes from the request itself; a `prompt_enhancer` cannot
/// replace them.
const COMPUTED_INPUTS: &[&str] = &["prefix", "suffix", "file_name", "language", "context"];

/// Where the model input comes from.
pub(super) enum PromptSource {
    /// A prompt the client built (v2 `prompt_version` 2 and 3), sent with the definition's
    /// parameters.
    Passthrough(Prompt),
    /// The definition rendered from the file around the cursor.
    Render {
        /// The user's instruction (generations only).
        instruction: Option<String>,
        /// Extra template variables from the client (`prompt_enhancer`, generations only).
        enhancer: Option<Map<String, Value>>,
    },
}

/// A code-suggestion request, whatever API generation it came in.
pub(super) struct Suggestion<'a> {
    /// Completion or generation.
    pub(super) kind: Kind,
    /// The model the request names.
    pub(super) model: ModelFields<'a>,
    /// The prompt definition to use.
    pub(super) prompt_id: &'a str,
    /// Its semver constraint.
    pub(super) constraint: &'a str,
    /// The file being edited.
    pub(super) file: CurrentFile,
    /// Extra context items (other files, snippets).
    pub(super) context: Vec<ContextItem>,
    /// How the model input is built.
    pub(super) source: PromptSource,
    /// Whether the client asked for a stream.
    pub(super) stream: bool,
    /// The 403 `detail` when the caller lacks the resolved prompt's unit primitive.
    pub(super) denied: &'static str,
}

/// What the model answered.
pub(super) enum Answer {
    /// The answer as it arrives.
    Stream(EventStream),
    /// The whole answer (empty, without a model call, when a completion has no language).
    Done(Generation),
}

/// The outcome of [`serve`], with what the response shapes need.
pub(super) struct Served {
    /// The model family that served the request.
    pub(super) family: ModelFamily,
    /// The file's language, if known.
    pub(super) lang: Option<String>,
    /// The answer.
    pub(super) answer: Answer,
}

/// Selects the model, resolves and renders the prompt, and calls the model.
///
/// # Errors
/// 422 for a bad model choice or inputs the prompt cannot render, 404/400 for an unknown prompt
/// or version, 403 when the caller lacks the prompt's unit primitive, the model's error mapped
/// by [`ApiError::model`] (before the first byte of a stream).
pub(super) async fn serve(
    state: &AppState,
    caller: &Caller,
    log: &RequestLog,
    s: Suggestion<'_>,
) -> Result<Served, ApiError> {
    let endpoint = select(s.model, &state.config().custom_models, log)?;
    log.set_model(&endpoint);
    let family = endpoint.family().clone();
    let definition = state.resolve_prompt(s.prompt_id, &family, s.constraint)?;
    if !caller.can(definition.unit_primitive()) {
        return Err(ApiError::Forbidden(s.denied.into()));
    }
    let lang = duo_prompts::code::language_of(&s.file);
    let Some(request) = model_input(definition, &family, s.kind, &s.file, &s.context, s.source)?
    else {
        // As the reference: no language, no suggestion, and no model call.
        return Ok(Served {
            family,
            lang,
            answer: Answer::Done(Generation::default()),
        });
    };
    let model = state.model(&endpoint).await?;
    let answer = if s.stream {
        Answer::Stream(
            model
                .generate_stream(&request)
                .await
                .map_err(ApiError::model)?,
        )
    } else {
        Answer::Done(model.generate(&request).await.map_err(ApiError::model)?)
    };
    Ok(Served {
        family,
        lang,
        answer,
    })
}

/// The model input; `None` for a completion whose language cannot be determined.
fn model_input(
    definition: &PromptDefinition,
    family: &ModelFamily,
    kind: Kind,
    file: &CurrentFile,
    context: &[ContextItem],
    source: PromptSource,
) -> Result<Option<ModelRequest>, ApiError> {
    let (instruction, enhancer) = match source {
        PromptSource::Passthrough(prompt) => return Ok(Some(definition.passthrough(prompt))),
        PromptSource::Render {
            instruction,
            enhancer,
        } => (instruction, enhancer),
    };
    let inputs = match kind {
        Kind::Completions => match completion_inputs(family, file, context) {
            Some(inputs) => inputs,
            None => return Ok(None),
        },
        Kind::Generations => {
            let mut inputs = generation_inputs(family, file, instruction.as_deref(), context);
            if let Some(enhancer) = enhancer {
                merge_enhancer(&mut inputs, enhancer);
            }
            inputs
        }
    };
    definition
        .render(&inputs)
        .map(Some)
        .map_err(|e| ApiError::Validation(e.to_string()))
}

/// Adds the `prompt_enhancer` keys to the template variables: they replace the gateway's own
/// values (e.g. `trimmed_content_above_cursor`, trimmed by the instance for the model), except the
/// variables computed from the request itself ([`COMPUTED_INPUTS`]); `null` values are skipped.
fn merge_enhancer(inputs: &mut Map<String, Value>, enhancer: Map<String, Value>) {
    for (key, value) in enhancer {
        if value.is_null() || COMPUTED_INPUTS.contains(&key.as_str()) {
            continue;
        }
        inputs.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enhancer_keys_extend_but_never_replace_the_computed_inputs() {
        let mut inputs = Map::new();
        inputs.insert("prefix".into(), json!("P"));
        inputs.insert("trimmed_content_above_cursor".into(), json!("P"));
        inputs.insert("user_instruction".into(), json!(""));
        let enhancer = json!({
            "prefix": "evil", "context": [], "trimmed_content_above_cursor": "short P",
            "libraries": ["bytes"], "user_instruction": null
        });
        let Value::Object(enhancer) = enhancer else {
            unreachable!()
        };
        merge_enhancer(&mut inputs, enhancer);
        assert_eq!(inputs["prefix"], "P");
        assert!(!inputs.contains_key("context"));
        assert_eq!(inputs["trimmed_content_above_cursor"], "short P");
        assert_eq!(inputs["libraries"], json!(["bytes"]));
        assert_eq!(inputs["user_instruction"], "");
    }
}
