//! [`OpenAiStyleModel`]: the one [`LanguageModel`] implementation of the OpenAI-style APIs
//! (vLLM and OpenAI-compatible servers, Azure OpenAI). A flavour differs only in how its client
//! is built (URLs, auth, body rules: `compatible.rs`, `azure.rs`) and how it is probed.

use std::marker::PhantomData;

use duo_core::{
    Error, EventStream, Generation, LanguageModel, ModelRequest, ProviderKind, async_trait,
};

use super::client::OpenAiClient;

mod sealed {
    /// Only this crate's flavours exist.
    pub trait Sealed {}
}

/// A flavour of the OpenAI API: which platform it is.
pub trait Flavor: sealed::Sealed + Send + Sync + 'static {
    /// The platform, for logs and metrics.
    const PROVIDER: ProviderKind;
    /// Its name in error messages (`Azure OpenAI`).
    const NAME: &'static str;
}

/// Refuses an endpoint of another platform than `F`'s.
pub(crate) fn check_flavor<F: Flavor>(endpoint: &duo_core::ModelEndpoint) -> Result<(), Error> {
    if endpoint.provider() == F::PROVIDER {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "{} is not an {} model identifier",
            endpoint.identifier(),
            F::NAME
        )))
    }
}

/// vLLM, OpenAI and other servers of OpenAI's `/v1` API (`OpenAiCompatibleModel`).
#[derive(Debug, Clone, Copy)]
pub struct OpenAiCompatible;

impl sealed::Sealed for OpenAiCompatible {}
impl Flavor for OpenAiCompatible {
    const PROVIDER: ProviderKind = ProviderKind::OpenAiCompatible;
    const NAME: &'static str = "OpenAI-compatible";
}

/// Azure OpenAI deployments (`azure::AzureOpenAiModel`).
#[derive(Debug, Clone, Copy)]
pub struct AzureOpenAi;

impl sealed::Sealed for AzureOpenAi {}
impl Flavor for AzureOpenAi {
    const PROVIDER: ProviderKind = ProviderKind::AzureOpenAi;
    const NAME: &'static str = "Azure OpenAI";
}

/// OpenAI's platform (`openai::OpenAiPlatformModel`).
#[cfg(feature = "openai")]
#[derive(Debug, Clone, Copy)]
pub struct OpenAiPlatform;

#[cfg(feature = "openai")]
impl sealed::Sealed for OpenAiPlatform {}
#[cfg(feature = "openai")]
impl Flavor for OpenAiPlatform {
    const PROVIDER: ProviderKind = ProviderKind::OpenAi;
    const NAME: &'static str = "OpenAI";
}

/// How a flavour checks that its model answers.
#[derive(Debug, Clone)]
pub(crate) enum Probe {
    /// `GET` this models list, which must name the model.
    #[cfg(any(feature = "vllm", feature = "openai"))]
    ListModels(reqwest::Url),
    /// A one-token chat call (no per-model list to ask).
    #[cfg(feature = "azure")]
    OneTokenChat,
}

/// A model behind an OpenAI-style API; built by its flavour's `new`.
#[derive(Debug, Clone)]
pub struct OpenAiStyleModel<F> {
    pub(crate) client: OpenAiClient,
    /// The model id sent upstream (served name, or the Azure deployment).
    pub(crate) model: String,
    pub(crate) probe: Probe,
    pub(crate) flavor: PhantomData<F>,
}

#[async_trait]
impl<F: Flavor> LanguageModel for OpenAiStyleModel<F> {
    fn provider(&self) -> &str {
        F::PROVIDER.as_str()
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn upstream(&self) -> &str {
        &self.client.upstream
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        self.client.stream(request).await
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        self.client.generate(request).await
    }

    async fn probe(&self) -> Result<(), Error> {
        match &self.probe {
            #[cfg(any(feature = "vllm", feature = "openai"))]
            Probe::ListModels(url) => self.listed(url.clone()).await,
            #[cfg(feature = "azure")]
            Probe::OneTokenChat => {
                let ping = duo_core::Prompt::Chat(vec![duo_core::Message::user("ping")]);
                let request = ModelRequest::new(ping).with_params(duo_core::GenerationParams {
                    max_tokens: Some(1),
                    ..duo_core::GenerationParams::default()
                });
                self.client.generate(&request).await.map(|_| ())
            }
        }
    }
}

#[cfg(any(feature = "vllm", feature = "openai"))]
impl<F> OpenAiStyleModel<F> {
    /// Whether the models list at `url` names the model.
    async fn listed(&self, url: reqwest::Url) -> Result<(), Error> {
        let builder = self
            .client
            .http
            .inner()
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        let response = self.client.send(builder).await?;
        let list: super::wire::ModelList = self.client.json(response).await?;
        if list.data.iter().any(|m| m.id == self.model) {
            return Ok(());
        }
        let served: Vec<&str> = list.data.iter().map(|m| m.id.as_str()).collect();
        Err(Error::UpstreamStatus {
            upstream: self.client.upstream.to_string(),
            status: 404,
            message: format!(
                "model '{}' is not served here (served: {})",
                self.model,
                served.join(", ")
            ),
            retry_after: None,
            code: Some("model_not_found".into()),
        })
    }
}
