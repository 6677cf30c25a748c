//! [`is_reasoning_model`]: which OpenAI models follow the reasoning models' rules, for
//! OpenAI's platform (by model name) and Azure OpenAI (by deployment name).

/// Whether `model` is one of OpenAI's reasoning models, which take `max_completion_tokens` and
/// the `developer` role and refuse sampling parameters.
#[must_use]
pub fn is_reasoning_model(model: &str) -> bool {
    let model = model.trim().to_ascii_lowercase();
    let o_series = ["o1", "o3", "o4"]
        .iter()
        .any(|p| model == *p || model.starts_with(&format!("{p}-")));
    o_series || (model.starts_with("gpt-5") && !model.starts_with("gpt-5-chat"))
}
