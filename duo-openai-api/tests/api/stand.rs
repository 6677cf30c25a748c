//! The stand: fake vLLM, Azure OpenAI and Bedrock upstreams, and the API's router mounted alone
//! (a decorated registry, the request log, a body limit) on loopback, as an integrator mounts it.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use duo_core::Secret;
use duo_logging::{Logged, Metrics, RequestLogLayer, RequestLogSettings};
use duo_openai_api::{ClientKeyEntry, OpenAiApiConfig, OpenAiModelConfig, OpenAiState};
use duo_providers::{ProviderConfig, Registry};
use duo_testkit::bedrock::FakeBedrock;
use duo_testkit::openai::FakeOpenAi;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The client key of the stand (unnamed).
pub const KEY: &str = "sk-duo-stand-0123456789";
/// A second client key, named `ci-bot`.
pub const CI_KEY: &str = "sk-duo-ci-bot-abcdef";
/// The model served by the fake vLLM.
pub const VLLM: &str = "mistral-vllm";
/// The model served by the fake Azure OpenAI resource.
pub const AZURE: &str = "gpt-azure";
/// The model served by the fake Bedrock runtime.
pub const BEDROCK: &str = "claude-bedrock";
/// What the vLLM fake serves the model as.
pub const VLLM_SERVED: &str = "mistralai/Mistral-7B-Instruct-v0.3";
/// The Azure deployment.
pub const AZURE_DEPLOYMENT: &str = "gpt-4o-deploy";
/// The Bedrock model id.
pub const BEDROCK_MODEL_ID: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";
/// The key the vLLM fake requires (given to the gateway in a file).
pub const VLLM_UPSTREAM_KEY: &str = "vllm-upstream-key-42";
/// The key the Azure fake requires (given inline).
pub const AZURE_UPSTREAM_KEY: &str = "azure-upstream-key-17";

/// What the stand is built from.
pub struct StandConfig {
    /// The `[openai_api]` table.
    pub api: OpenAiApiConfig,
    /// The upstream clients.
    pub providers: ProviderConfig,
    /// The largest request body (the gateway's `fastapi.body_limit_bytes`).
    pub body_limit_bytes: usize,
}

/// The fakes and the API; everything stops when dropped.
pub struct Stand {
    /// `http://127.0.0.1:PORT` of the API.
    pub base: String,
    /// The metrics the registry's clients report to.
    pub metrics: Arc<Metrics>,
    /// The fake vLLM.
    pub vllm: FakeOpenAi,
    /// The fake Azure OpenAI resource.
    pub azure: FakeOpenAi,
    /// The fake Bedrock runtime.
    pub bedrock: FakeBedrock,
    key_file: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// The API's state for `config`: a registry whose clients are decorated with the request log
/// once, as the gateway builds it.
///
/// # Errors
/// What `OpenAiState::new` refuses.
pub fn state(
    config: &StandConfig,
    metrics: &Arc<Metrics>,
) -> Result<OpenAiState, duo_openai_api::ConfigError> {
    let for_clients = Arc::clone(metrics);
    let registry = Registry::try_new(config.providers.clone())
        .expect("provider settings are valid")
        .with_decorator(move |endpoint, model| {
            Arc::new(Logged::new(
                model,
                Arc::clone(&for_clients),
                endpoint.family().key(),
            ))
        });
    OpenAiState::new(&config.api, Arc::new(registry))
}

impl Stand {
    /// Starts the fakes and the API with the stand's configuration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts the fakes and the API, letting `adjust` change the configuration first.
    pub async fn start_with(adjust: impl FnOnce(&mut StandConfig)) -> Self {
        let vllm = FakeOpenAi::start().await;
        vllm.require_key(VLLM_UPSTREAM_KEY);
        vllm.set_models([VLLM_SERVED]);
        let azure = FakeOpenAi::start().await;
        azure.require_key(AZURE_UPSTREAM_KEY);
        let bedrock = FakeBedrock::start().await;
        let key_file = std::env::temp_dir().join(format!("duo-vllm-key-{}", uuid::Uuid::new_v4()));
        std::fs::write(&key_file, format!("{VLLM_UPSTREAM_KEY}\n")).unwrap();
        let mut config = config(&vllm, &azure, &bedrock, &key_file);
        adjust(&mut config);
        let metrics = Arc::new(Metrics::new());
        let state = state(&config, &metrics).expect("the API starts");
        let app = duo_openai_api::router(state)
            .layer(DefaultBodyLimit::max(config.body_limit_bytes))
            .layer(RequestLogLayer::new(
                RequestLogSettings::default(),
                Arc::clone(&metrics),
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            base,
            metrics,
            vllm,
            azure,
            bedrock,
            key_file,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the API and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Stand {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_file(&self.key_file);
    }
}

/// A model entry.
pub fn model(name: &str, identifier: &str, endpoint: Option<String>) -> OpenAiModelConfig {
    OpenAiModelConfig {
        name: name.into(),
        identifier: identifier.into(),
        endpoint,
        api_key: None,
        api_key_env: None,
        api_key_file: None,
        family: None,
    }
}

/// The stand's configuration: no retries, Bedrock at its fake with static keys, the API with two
/// client keys and one model per provider, the gateway's default body limit.
pub fn config(
    vllm: &FakeOpenAi,
    azure: &FakeOpenAi,
    bedrock: &FakeBedrock,
    vllm_key_file: &std::path::Path,
) -> StandConfig {
    let mut c = StandConfig {
        api: OpenAiApiConfig::default(),
        providers: ProviderConfig::default(),
        body_limit_bytes: 4 * 1024 * 1024,
    };
    c.providers.resilience.max_retries = 0;
    c.providers.bedrock.endpoint_url = Some(bedrock.url());
    c.providers.bedrock.region = Some("us-east-1".into());
    c.providers.bedrock.access_key_id = Some("AKIDOPENAISTAND".into());
    c.providers.bedrock.secret_access_key = Some(Secret::new("openai-stand-secret"));
    let api = &mut c.api;
    api.enabled = true;
    api.api_keys = vec![
        ClientKeyEntry::Plain(Secret::new(KEY)),
        ClientKeyEntry::Named {
            name: "ci-bot".into(),
            key: Secret::new(CI_KEY),
        },
    ];
    let mut m = model(
        VLLM,
        &format!("custom_openai/{VLLM_SERVED}"),
        Some(vllm.url()),
    );
    m.api_key_file = Some(vllm_key_file.to_path_buf());
    m.family = Some("mistral".into());
    api.models.push(m);
    let mut m = model(
        AZURE,
        &format!("azure/{AZURE_DEPLOYMENT}"),
        Some(azure.azure_url()),
    );
    m.api_key = Some(Secret::new(AZURE_UPSTREAM_KEY));
    m.family = Some("gpt".into());
    api.models.push(m);
    let mut m = model(BEDROCK, &format!("bedrock/{BEDROCK_MODEL_ID}"), None);
    m.family = Some("claude_3".into());
    api.models.push(m);
    c
}
