//! [`Registry`]: one client per distinct model endpoint, built on first use, wrapped in
//! [`Resilient`], cached (bounded, least recently used evicted) and shared.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use duo_core::{Error, LanguageModel, ModelEndpoint, ProviderKind, Secret};

use crate::ProviderConfig;
#[cfg(any(
    feature = "vllm",
    feature = "azure",
    feature = "bedrock",
    feature = "anthropic",
    feature = "openai",
    feature = "vertex"
))]
use crate::Resilient;
use crate::http::HttpClient;

/// What makes two endpoints need different clients (the family only picks prompts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    provider: ProviderKind,
    prefix: String,
    model: String,
    base_url: Option<String>,
    api_key: Option<Secret>,
}

impl ClientKey {
    fn of(endpoint: &ModelEndpoint) -> Self {
        Self {
            provider: endpoint.provider(),
            prefix: endpoint.identifier().prefix().to_owned(),
            model: endpoint.model().to_owned(),
            base_url: endpoint.base_url().map(str::to_owned),
            api_key: endpoint.api_key().cloned(),
        }
    }
}

/// What [`Registry::with_decorator`] keeps: a wrapper applied to each client once.
type Decorator =
    Arc<dyn Fn(&ModelEndpoint, Arc<dyn LanguageModel>) -> Arc<dyn LanguageModel> + Send + Sync>;

struct Entry {
    model: Arc<dyn LanguageModel>,
    last_used: u64,
}

/// The cached clients, with a use counter for least-recently-used eviction.
#[derive(Default)]
struct Cache {
    entries: HashMap<ClientKey, Entry>,
    clock: u64,
}

impl Cache {
    fn get(&mut self, key: &ClientKey) -> Option<Arc<dyn LanguageModel>> {
        self.clock += 1;
        let entry = self.entries.get_mut(key)?;
        entry.last_used = self.clock;
        Some(Arc::clone(&entry.model))
    }

    /// Inserts `model` unless another task inserted one for `key` meanwhile; returns the cached one.
    fn insert(
        &mut self,
        key: ClientKey,
        model: Arc<dyn LanguageModel>,
        capacity: usize,
    ) -> Arc<dyn LanguageModel> {
        if let Some(existing) = self.get(&key) {
            return existing;
        }
        while self.entries.len() >= capacity.max(1) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
        self.entries.insert(
            key,
            Entry {
                model: Arc::clone(&model),
                last_used: self.clock,
            },
        );
        model
    }
}

/// Hands out one shared, [`Resilient`]-wrapped client per distinct endpoint (provider, URL,
/// model, key): the first call builds it, later calls get the same `Arc`. The vLLM/OpenAI and
/// Azure clients share one pooled HTTP client; Bedrock models share the AWS SDK client of the
/// `bedrock` module. At most [`ProviderConfig::max_clients`] clients are kept; the least recently
/// used is dropped beyond that.
///
/// ```no_run
/// use duo_core::{ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest, Prompt};
/// use duo_providers::{ProviderConfig, Registry};
///
/// # async fn run() -> Result<(), duo_core::Error> {
/// let registry = Registry::new(ProviderConfig::default());
/// let endpoint = ModelEndpoint::new(ModelIdentifier::parse("custom_openai/codestral")?, ModelFamily::Codestral)
///     .with_base_url("http://vllm:8000/v1");
/// let model = registry.model(&endpoint).await?;
/// let answer = model.generate(&ModelRequest::new(Prompt::Text("def add(a, b):".into()))).await?;
/// println!("{}", answer.text);
/// # Ok(()) }
/// ```
pub struct Registry {
    config: ProviderConfig,
    /// Wraps each client once, when it is built (see [`Registry::with_decorator`]).
    decorator: Option<Decorator>,
    /// The shared HTTP client, or why it could not be built (reported by [`Registry::model`]).
    http: Result<HttpClient, Error>,
    cache: Mutex<Cache>,
    /// The Bedrock provider, or why it cannot be built (a proxy the SDK does not take).
    #[cfg(feature = "bedrock")]
    bedrock: Result<crate::bedrock::BedrockProvider, Error>,
    #[cfg(feature = "vertex")]
    vertex: crate::vertex::VertexProvider,
}

impl Registry {
    /// A registry for `config`. Never fails: if the HTTP client cannot be built (an unreadable
    /// `http.ca_bundle`), [`model`](Self::model) reports it for OpenAI-style endpoints; use
    /// [`try_new`](Self::try_new) to fail at start-up instead.
    #[must_use]
    pub fn new(config: ProviderConfig) -> Self {
        let http = HttpClient::new(
            &config.http,
            config.resilience.connect_timeout,
            &config.egress,
        )
        .map(|http| http.with_extra_headers(config.extra_headers.clone()));
        #[cfg(feature = "bedrock")]
        let bedrock = crate::bedrock::BedrockProvider::new(config.bedrock.clone())
            .with_egress(config.egress.clone())
            .with_proxy(&config.http.proxy)
            .map(|provider| {
                if config.resilience.connect_timeout.is_zero() {
                    provider
                } else {
                    provider.with_sdk_timeouts(
                        config.resilience.connect_timeout,
                        crate::bedrock::DEFAULT_READ_TIMEOUT,
                    )
                }
            });
        #[cfg(feature = "vertex")]
        let vertex = crate::vertex::VertexProvider::new(config.vertex.clone());
        Self {
            config,
            decorator: None,
            http,
            cache: Mutex::new(Cache::default()),
            #[cfg(feature = "bedrock")]
            bedrock,
            #[cfg(feature = "vertex")]
            vertex,
        }
    }

    /// Like [`new`](Self::new), but fails when the shared HTTP client cannot be built (an
    /// unreadable CA bundle, …), the Bedrock, Anthropic or OpenAI settings are unusable, or (when
    /// a Vertex AI project is set) the Vertex settings or credentials are: what a first request
    /// would otherwise find out.
    ///
    /// # Errors
    /// [`Error::Config`] naming the bad setting.
    pub fn try_new(config: ProviderConfig) -> Result<Self, Error> {
        #[cfg(feature = "bedrock")]
        config.bedrock.validate()?;
        #[cfg(feature = "anthropic")]
        config.anthropic.validate()?;
        #[cfg(feature = "openai")]
        config.openai.validate()?;
        let registry = Self::new(config);
        if let Err(e) = &registry.http {
            return Err(e.clone());
        }
        #[cfg(feature = "bedrock")]
        if let Err(e) = &registry.bedrock {
            return Err(e.clone());
        }
        #[cfg(feature = "vertex")]
        if registry.config.vertex.is_configured() {
            registry.vertex.check(
                registry.http()?,
                &registry.config.http,
                &registry.config.egress,
            )?;
        }
        Ok(registry)
    }

    /// Wraps every client this registry builds in `decorator`, once, before it is cached and
    /// handed out: e.g. `duo_logging::Logged`, which then logs each call on the request that
    /// makes it. Call before the first [`model`](Self::model).
    #[must_use]
    pub fn with_decorator(
        mut self,
        decorator: impl Fn(&ModelEndpoint, Arc<dyn LanguageModel>) -> Arc<dyn LanguageModel>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.decorator = Some(Arc::new(decorator));
        self
    }

    /// The HTTP client every OpenAI-style call goes through (egress policy, CA bundle, proxy),
    /// for other fetches that must obey the same rules (e.g. OIDC discovery); `None` only when
    /// [`new`](Self::new) could not build it ([`try_new`](Self::try_new) fails instead).
    #[must_use]
    pub fn http_client(&self) -> Option<&HttpClient> {
        self.http.as_ref().ok()
    }

    /// The configuration the registry was built with.
    #[must_use]
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// How many clients are cached.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no client is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client for `endpoint`, built on first use and shared afterwards.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an endpoint the provider cannot use (no URL, a bad URL, …),
    /// [`Error::Config`] when the provider's feature is not compiled in or its settings are wrong.
    pub async fn model(&self, endpoint: &ModelEndpoint) -> Result<Arc<dyn LanguageModel>, Error> {
        let key = ClientKey::of(endpoint);
        if let Some(model) = self.lock().get(&key) {
            return Ok(model);
        }
        let mut built = self.build(endpoint).await?;
        if let Some(decorate) = &self.decorator {
            built = decorate(endpoint, built);
        }
        // Fuzz builds never call a model: the client is built and checked, then stood in for.
        #[cfg(fuzzing)]
        let built = crate::fuzzing::StandIn::wrap(built);
        Ok(self.lock().insert(key, built, self.config.max_clients))
    }

    async fn build(&self, endpoint: &ModelEndpoint) -> Result<Arc<dyn LanguageModel>, Error> {
        self.check_egress(endpoint)?;
        match endpoint.provider() {
            #[cfg(feature = "vllm")]
            ProviderKind::OpenAiCompatible => {
                Ok(self.resilient(crate::openai::OpenAiCompatibleModel::new(
                    self.http()?,
                    endpoint,
                    &self.config.openai,
                )?))
            }
            #[cfg(feature = "azure")]
            ProviderKind::AzureOpenAi => Ok(self.resilient(crate::azure::AzureOpenAiModel::new(
                self.http()?,
                endpoint,
                &self.config.azure,
            )?)),
            #[cfg(feature = "bedrock")]
            ProviderKind::Bedrock => {
                let bedrock = self.bedrock.as_ref().map_err(Clone::clone)?;
                Ok(self.resilient(bedrock.model(endpoint).await?))
            }
            #[cfg(feature = "anthropic")]
            ProviderKind::Anthropic => Ok(self.resilient(crate::anthropic::AnthropicModel::new(
                self.http()?,
                endpoint,
                &self.config.anthropic,
            )?)),
            #[cfg(feature = "openai")]
            ProviderKind::OpenAi => Ok(self.resilient(crate::openai::OpenAiPlatformModel::new(
                self.http()?,
                endpoint,
                &self.config.openai,
            )?)),
            #[cfg(feature = "vertex")]
            ProviderKind::VertexAi => Ok(self.resilient(
                self.vertex
                    .model(
                        endpoint,
                        self.http()?,
                        &self.config.http,
                        &self.config.egress,
                    )
                    .await?,
            )),
            #[cfg(not(feature = "vllm"))]
            kind @ ProviderKind::OpenAiCompatible => Err(not_built(kind)),
            #[cfg(not(feature = "azure"))]
            kind @ ProviderKind::AzureOpenAi => Err(not_built(kind)),
            #[cfg(not(feature = "bedrock"))]
            kind @ ProviderKind::Bedrock => Err(not_built(kind)),
            #[cfg(not(feature = "anthropic"))]
            kind @ ProviderKind::Anthropic => Err(not_built(kind)),
            #[cfg(not(feature = "openai"))]
            kind @ ProviderKind::OpenAi => Err(not_built(kind)),
            #[cfg(not(feature = "vertex"))]
            kind @ ProviderKind::VertexAi => Err(not_built(kind)),
        }
    }
}

impl Registry {
    /// The shared HTTP client, or why it could not be built.
    #[allow(dead_code)] // unused when only Bedrock is built
    fn http(&self) -> Result<&HttpClient, Error> {
        self.http.as_ref().map_err(Clone::clone)
    }

    /// `model` behind the configured time limits and retries.
    #[cfg(any(
        feature = "vllm",
        feature = "azure",
        feature = "bedrock",
        feature = "anthropic",
        feature = "openai",
        feature = "vertex"
    ))]
    fn resilient<M: LanguageModel + 'static>(&self, model: M) -> Arc<dyn LanguageModel> {
        Arc::new(Resilient::new(model, self.config.resilience.clone()))
    }
}

/// The error for a platform whose Cargo feature is off in this build.
#[cfg(not(all(
    feature = "vllm",
    feature = "azure",
    feature = "bedrock",
    feature = "anthropic",
    feature = "openai",
    feature = "vertex"
)))]
fn not_built(kind: ProviderKind) -> Error {
    Error::Config(format!(
        "{kind} models are not supported by this build of duo-providers (its Cargo feature is off)"
    ))
}

impl Registry {
    /// The egress policy's check of the endpoint's URL as written (literal addresses and
    /// metadata host names); resolved names are checked when the client connects. Bedrock's
    /// endpoint never comes from the request, so its `base_url` is not used.
    fn check_egress(&self, endpoint: &ModelEndpoint) -> Result<(), Error> {
        if endpoint.provider().endpoint_from_operator_only() {
            return Ok(());
        }
        let Some(raw) = endpoint.base_url() else {
            return Ok(());
        };
        let Ok(url) = reqwest::Url::parse(raw) else {
            return Ok(()); // the provider reports the malformed URL
        };
        self.config
            .egress
            .check_url(&url)
            .map_err(|refused| Error::EgressRefused {
                upstream: format!("{} at {}", endpoint.provider(), refused.host()),
                rule: refused.to_string(),
            })
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("config", &self.config)
            .field("clients", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo_core::{ModelFamily, ModelIdentifier};

    fn endpoint(id: &str, url: &str) -> ModelEndpoint {
        ModelEndpoint::new(
            ModelIdentifier::parse(id).unwrap(),
            ModelFamily::parse("mistral"),
        )
        .with_base_url(url)
    }

    #[test]
    fn the_key_ignores_the_family_but_not_the_key_or_prefix() {
        let a = endpoint("custom_openai/m", "http://h/v1");
        let b = ModelEndpoint::new(a.identifier().clone(), ModelFamily::parse("codestral"))
            .with_base_url("http://h/v1");
        assert_eq!(ClientKey::of(&a), ClientKey::of(&b));
        let keyed = a.clone().with_api_key(Secret::new("k"));
        assert_ne!(ClientKey::of(&a), ClientKey::of(&keyed));
        assert_ne!(
            ClientKey::of(&a),
            ClientKey::of(&endpoint("openai/m", "http://h/v1"))
        );
    }
}
