//! [`OpenAiCompatibleModel`]: vLLM and other OpenAI-compatible servers (`custom_openai/…`,
//! `hosted_vllm/…` identifiers).

use std::sync::Arc;

use std::marker::PhantomData;

use duo_core::{Error, ModelEndpoint};
use reqwest::header::AUTHORIZATION;

use super::client::{OpenAiClient, display_url, join, parse_base_url, secret_header};
use super::model::{OpenAiCompatible, OpenAiStyleModel, Probe, check_flavor};
use crate::OpenAiSettings;
use crate::http::HttpClient;

/// A model on vLLM or another OpenAI-compatible server.
///
/// - `Prompt::Text` → `POST {base}/completions` with `prompt`;
///   `Prompt::FillInTheMiddle` → the same with `prompt` = prefix and `suffix` = suffix;
///   `Prompt::Chat` → `POST {base}/chat/completions` with `messages`.
/// - Body: `model`, `max_tokens`, `temperature`, `top_p`, `stop` (all stop sequences),
///   `reasoning_effort` when set, and `stream` — streamed calls add
///   `stream_options: {"include_usage": true}`.
/// - Auth: `Authorization: Bearer <key>`, or `Bearer <placeholder_key>` (`dummy_key`, as
///   GitLab's gateway sends) when the endpoint has no key; none if the placeholder is empty.
/// - [`probe`](duo_core::LanguageModel::probe): `GET {base}/models`, which must list the model.
pub type OpenAiCompatibleModel = OpenAiStyleModel<OpenAiCompatible>;

impl OpenAiStyleModel<OpenAiCompatible> {
    /// A client for `endpoint` (whose base URL ends in `/v1`), sharing `http`'s connection pool.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the endpoint is not OpenAI-compatible, has no URL or a bad
    /// one, or a key that cannot go in a header.
    pub fn new(
        http: &HttpClient,
        endpoint: &ModelEndpoint,
        settings: &OpenAiSettings,
    ) -> Result<Self, Error> {
        check_flavor::<OpenAiCompatible>(endpoint)?;
        let base = parse_base_url(endpoint.base_url(), "vLLM / OpenAI-compatible")?;
        let upstream: Arc<str> = format!("vLLM at {}", display_url(&base)).into();
        let key = endpoint
            .api_key()
            .map(|k| k.expose())
            .unwrap_or(settings.placeholder_key.as_str());
        let auth = if key.is_empty() {
            None
        } else {
            Some(secret_header(AUTHORIZATION, &format!("Bearer {key}"))?)
        };
        let model = endpoint.model().to_owned();
        Ok(Self {
            client: OpenAiClient {
                http: http.clone(),
                upstream,
                auth,
                secret: endpoint.api_key().filter(|k| !k.is_empty()).cloned(),
                completions_url: join(&base, &["completions"])?,
                chat_url: join(&base, &["chat", "completions"])?,
                model_field: Some(model.clone()),
                stop_limit: None,
                continue_prefill: true,
                reasoning: false,
                extra_headers: true,
            },
            probe: Probe::ListModels(join(&base, &["models"])?),
            model,
            flavor: PhantomData,
        })
    }
}
