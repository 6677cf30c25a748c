//! [`OpenAiPlatformModel`]: OpenAI's platform (`openai/<model>` identifiers), or a server of the
//! same API that a request names.

use std::marker::PhantomData;
use std::sync::Arc;

use duo_core::{Error, ModelEndpoint, Secret};
use reqwest::header::AUTHORIZATION;

use super::client::{OpenAiClient, display_url, join, parse_base_url, secret_header};
use super::model::{OpenAiPlatform, OpenAiStyleModel, Probe, check_flavor};
use super::reasoning::is_reasoning_model;
use crate::OpenAiSettings;
use crate::endpoint_url::{Route, route};
use crate::http::HttpClient;

/// A model on OpenAI's platform.
///
/// - Chat → `POST {base}/chat/completions`; text and fill-in-the-middle →
///   `POST {base}/completions` (`prompt`, `suffix`), as for vLLM; probe → `GET {base}/models`.
/// - Body: `model`, at most four `stop` sequences (OpenAI's limit), `reasoning_effort` when set,
///   `stream` (streamed calls ask for usage). For the reasoning models (`o1`, `o3`, `o4-…`,
///   `gpt-5…` except `gpt-5-chat…`, see [`is_reasoning_model`](super::is_reasoning_model)) the length goes as
///   `max_completion_tokens`, `temperature` and `top_p` are left out (those models refuse them),
///   and system messages take the `developer` role; other models get `max_tokens`,
///   `temperature`, `top_p` and `system` as given.
/// - Whose endpoint and key: an endpoint with a base URL is served there with its own key (or
///   the vLLM placeholder key, as before); one without goes to
///   [`OpenAiSettings::base_url`] with the endpoint's key, else the operator's
///   ([`OpenAiSettings::operator_key`]). The operator's key never goes to an endpoint the
///   request named.
/// - Auth: `Authorization: Bearer <key>`.
pub type OpenAiPlatformModel = OpenAiStyleModel<OpenAiPlatform>;

impl OpenAiStyleModel<OpenAiPlatform> {
    /// A client for `endpoint`, sharing `http`'s connection pool.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the endpoint is not an `openai/` identifier, has a bad
    /// URL, or a key that cannot go in a header.
    pub fn new(
        http: &HttpClient,
        endpoint: &ModelEndpoint,
        settings: &OpenAiSettings,
    ) -> Result<Self, Error> {
        check_flavor::<OpenAiPlatform>(endpoint)?;
        let Route {
            base,
            mut key,
            named_by_request,
        } = route(endpoint, &settings.base_url, || settings.operator_key());
        if named_by_request && key.is_none() && !settings.placeholder_key.is_empty() {
            key = Some(Secret::new(settings.placeholder_key.clone()));
        }
        let base = parse_base_url(Some(base), "OpenAI")?;
        let auth = key
            .as_ref()
            .map(|k| secret_header(AUTHORIZATION, &format!("Bearer {}", k.expose())))
            .transpose()?;
        let model = endpoint.model().to_owned();
        Ok(Self {
            client: OpenAiClient {
                http: http.clone(),
                upstream: Arc::from(format!("OpenAI at {}", display_url(&base))),
                auth,
                secret: key.filter(|k| !k.is_empty()),
                completions_url: join(&base, &["completions"])?,
                chat_url: join(&base, &["chat", "completions"])?,
                model_field: Some(model.clone()),
                stop_limit: Some(4),
                continue_prefill: false,
                reasoning: is_reasoning_model(&model),
                extra_headers: named_by_request,
            },
            probe: Probe::ListModels(join(&base, &["models"])?),
            model,
            flavor: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_reasoning_model;

    #[test]
    fn reasoning_models_are_told_apart_by_name() {
        for model in [
            "o1",
            "o1-mini",
            "o3-mini",
            "o4-mini",
            "gpt-5",
            "gpt-5-mini",
            "GPT-5.1",
        ] {
            assert!(is_reasoning_model(model), "{model}");
        }
        for model in [
            "gpt-4o",
            "gpt-4.1-mini",
            "gpt-5-chat-latest",
            "o1x",
            "gpt-oss-120b",
        ] {
            assert!(!is_reasoning_model(model), "{model}");
        }
    }
}
