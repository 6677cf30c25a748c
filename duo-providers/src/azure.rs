//! [`AzureOpenAiModel`]: Azure OpenAI deployments (`azure/<deployment>` identifiers).

use std::marker::PhantomData;
use std::sync::Arc;

use duo_core::{Error, ModelEndpoint};
use reqwest::header::{AUTHORIZATION, HeaderName};

use crate::http::HttpClient;
use crate::openai::client::{OpenAiClient, display_url, join, parse_base_url, secret_header};
use crate::openai::model::{AzureOpenAi, OpenAiStyleModel, Probe, check_flavor};
use crate::{AzureAuth, AzureSettings};

/// A deployment on Azure OpenAI.
///
/// - `Prompt::Chat` → `POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`;
///   `Prompt::Text` / `Prompt::FillInTheMiddle` → `…/completions?api-version=…` (`prompt`, `suffix`).
///   `endpoint` is the resource URL (`https://<resource>.openai.azure.com`), `api-version` from
///   [`AzureSettings`] (default `2024-10-21`).
/// - Body as for OpenAI, without `model` (the deployment is in the path), at most four `stop`
///   sequences; streamed calls add `stream_options: {"include_usage": true}`.
/// - A deployment named like one of OpenAI's reasoning models (`o3-mini`, `gpt-5`, `gpt-5-mini`,
///   …: [`is_reasoning_model`](crate::openai::is_reasoning_model)) gets their rules:
///   `max_completion_tokens`, no `temperature`/`top_p`, system messages as `developer`.
/// - Auth: `api-key: <key>`, or `Authorization: Bearer <key>` with [`AzureAuth::Bearer`].
/// - A prompt refused by the content filter (400, `code: content_filter`) is
///   [`Error::ContentFiltered`], naming the filtered categories; an answer cut by the filter
///   finishes with `FinishReason::ContentFilter`. The first stream chunk (empty `choices`,
///   `prompt_filter_results`) yields no event.
/// - [`probe`](duo_core::LanguageModel::probe): a one-token chat call (Azure has no
///   per-deployment model list).
pub type AzureOpenAiModel = OpenAiStyleModel<AzureOpenAi>;

impl OpenAiStyleModel<AzureOpenAi> {
    /// A client for `endpoint`, sharing `http`'s connection pool.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the endpoint is not an Azure identifier, has no URL or a
    /// bad one, or a key that cannot go in a header.
    pub fn new(
        http: &HttpClient,
        endpoint: &ModelEndpoint,
        settings: &AzureSettings,
    ) -> Result<Self, Error> {
        check_flavor::<AzureOpenAi>(endpoint)?;
        let base = parse_base_url(endpoint.base_url(), "Azure OpenAI")?;
        let deployment = endpoint.model().to_owned();
        let upstream: Arc<str> = format!(
            "Azure OpenAI deployment {deployment} at {}",
            display_url(&base)
        )
        .into();
        let auth = match (endpoint.api_key(), settings.auth) {
            (None, _) => None,
            (Some(key), AzureAuth::ApiKey) => Some(secret_header(
                HeaderName::from_static("api-key"),
                key.expose(),
            )?),
            (Some(key), AzureAuth::Bearer) => Some(secret_header(
                AUTHORIZATION,
                &format!("Bearer {}", key.expose()),
            )?),
        };
        let url = |api: &[&str]| {
            let mut segments = vec!["openai", "deployments", deployment.as_str()];
            segments.extend_from_slice(api);
            let mut url = join(&base, &segments)?;
            url.query_pairs_mut()
                .append_pair("api-version", &settings.api_version);
            Ok::<_, Error>(url)
        };
        Ok(Self {
            client: OpenAiClient {
                http: http.clone(),
                upstream,
                auth,
                secret: endpoint.api_key().filter(|k| !k.is_empty()).cloned(),
                completions_url: url(&["completions"])?,
                chat_url: url(&["chat", "completions"])?,
                model_field: None,
                stop_limit: Some(4),
                continue_prefill: false,
                reasoning: crate::openai::is_reasoning_model(&deployment),
                extra_headers: true,
            },
            model: deployment,
            probe: Probe::OneTokenChat,
            flavor: PhantomData,
        })
    }
}
