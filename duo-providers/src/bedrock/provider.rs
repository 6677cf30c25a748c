//! [`BedrockProvider`]: loads the AWS configuration once and hands out [`BedrockModel`]s that
//! share one SDK client per endpoint override.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_sdk_bedrockruntime::Client;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;
use aws_types::region::Region;
use duo_core::{Error, ModelEndpoint, ProviderKind, Secret};
use tokio::sync::OnceCell;

use super::auth::{API_KEY_ENV, api_key, assume_role, check_api_key, with_auth};
use super::egress::{EndpointCheck, http_client, sdk_proxy};
use super::model::{BedrockModel, SdkTimeouts};
use super::model_id::converse_model_id;
use super::settings::BedrockSettings;
use crate::{EgressPolicy, ProxySettings};

/// Default SDK connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default SDK read timeout: the time until the response headers. Converse sends its headers
/// only once the whole answer is generated, so this is a generous safety net; the resilience
/// wrapper's first-byte, idle and total timeouts are the limits that matter.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// At most this many distinct endpoint overrides keep a cached client; further ones get a
/// fresh client per [`BedrockProvider::model`] call (endpoint URLs may come from requests).
const MAX_CACHED_CLIENTS: usize = 32;

/// Builds [`BedrockModel`]s from [`BedrockSettings`]. Cheap to create and to clone.
///
/// The AWS configuration (region, credentials chain) is loaded lazily on the first
/// [`model`](Self::model) call, once. Every model shares one SDK client (and so one connection
/// pool) per endpoint override.
///
/// The SDK's own retries are off (one attempt) and its stalled-stream protection is disabled:
/// wrap models in the crate's resilience layer, which retries, with backoff, only before the
/// first event, and enforces first-byte, idle and total timeouts, so nothing is retried twice.
///
/// Bedrock calls go through the crate's [`EgressPolicy`] (the default one unless
/// [`with_egress`](Self::with_egress) says otherwise): names resolve through it, and the
/// endpoint URL is checked before the request is signed. So do the STS calls that assume
/// [`BedrockSettings::role_arn`]. The other credential providers keep the SDK's own client, so
/// instance roles from the metadata address still work.
///
/// The Bedrock API key ([`BedrockSettings::api_key`], else `AWS_BEARER_TOKEN_BEDROCK`) is read
/// when the provider is created.
#[derive(Debug, Clone)]
pub struct BedrockProvider {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: BedrockSettings,
    timeouts: SdkTimeouts,
    egress: EgressPolicy,
    /// The service client's HTTP client (the egress policy's resolver), shared by every client
    /// and by STS.
    http: SharedHttpClient,
    /// The operator's forward proxy, as the SDK takes it.
    proxy: Option<ProxyConfig>,
    /// The Bedrock API key, if any: requests carry it as a bearer token and are not signed.
    api_key: Option<Secret>,
    sdk: OnceCell<SdkConfig>,
    /// Keyed by endpoint override (`""` for none).
    clients: Mutex<HashMap<String, Client>>,
}

impl BedrockProvider {
    /// A provider for `settings`; nothing is loaded until the first [`model`](Self::model) call.
    #[must_use]
    pub fn new(settings: BedrockSettings) -> Self {
        Self::build(
            settings,
            SdkTimeouts {
                connect: DEFAULT_CONNECT_TIMEOUT,
                read: DEFAULT_READ_TIMEOUT,
            },
            EgressPolicy::default(),
            None,
        )
    }

    /// Connects through `policy` instead of the default egress policy. Call before the first
    /// [`model`](Self::model).
    #[must_use]
    pub fn with_egress(self, policy: EgressPolicy) -> Self {
        Self::build(
            self.inner.settings.clone(),
            self.inner.timeouts,
            policy,
            self.inner.proxy.clone(),
        )
    }

    /// Connects through the operator's forward proxy, when `proxy` names one (see
    /// [`crate::proxy`]). Call before the first [`model`](Self::model).
    ///
    /// # Errors
    /// [`Error::Config`] when the SDK does not take the proxy's URL.
    pub fn with_proxy(self, proxy: &ProxySettings) -> Result<Self, Error> {
        Ok(Self::build(
            self.inner.settings.clone(),
            self.inner.timeouts,
            self.inner.egress.clone(),
            sdk_proxy(proxy)?,
        ))
    }

    /// Replaces the SDK's connect and read timeouts (the read timeout runs until the response
    /// headers arrive). Call before the first [`model`](Self::model).
    #[must_use]
    pub fn with_sdk_timeouts(self, connect: Duration, read: Duration) -> Self {
        Self::build(
            self.inner.settings.clone(),
            SdkTimeouts { connect, read },
            self.inner.egress.clone(),
            self.inner.proxy.clone(),
        )
    }

    fn build(
        settings: BedrockSettings,
        timeouts: SdkTimeouts,
        egress: EgressPolicy,
        proxy: Option<ProxyConfig>,
    ) -> Self {
        let api_key = api_key(&settings, |name| std::env::var(name).ok());
        let http = http_client(&egress, proxy.as_ref());
        Self::with_parts(settings, timeouts, egress, (http, proxy), api_key)
    }

    fn with_parts(
        settings: BedrockSettings,
        timeouts: SdkTimeouts,
        egress: EgressPolicy,
        (http, proxy): (SharedHttpClient, Option<ProxyConfig>),
        api_key: Option<Secret>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                timeouts,
                http,
                proxy,
                egress,
                api_key,
                sdk: OnceCell::new(),
                clients: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A model for `endpoint`: `bedrock/<model id or inference profile id>` or
    /// `bedrock/converse/<ARN>` (see the module docs). Its endpoint is the operator's alone:
    /// the settings' `endpoint_url`, else `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` or the region's
    /// public endpoint (both through `aws-config`). The endpoint's own `base_url` is **never**
    /// used: requests are signed with the operator's AWS credentials (or carry the operator's
    /// API key), which must not go to a host that whoever sent the request chose.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a non-Bedrock endpoint or one that names no valid model
    /// id, inference profile id or ARN;
    /// [`Error::Config`] for settings [`BedrockSettings::validate`] refuses, an API key from
    /// `AWS_BEARER_TOKEN_BEDROCK` no header can carry, or no region anywhere in the AWS
    /// configuration; [`Error::EgressRefused`] for an STS endpoint override the egress policy
    /// refuses.
    pub async fn model(&self, endpoint: &ModelEndpoint) -> Result<BedrockModel, Error> {
        if endpoint.provider() != ProviderKind::Bedrock {
            return Err(Error::InvalidRequest(format!(
                "{} is not a Bedrock model",
                endpoint.identifier()
            )));
        }
        let model_id = converse_model_id(endpoint.model())?;
        let settings = &self.inner.settings;
        settings.validate()?;
        let api_key = self.inner.api_key.as_ref();
        if let Some(key) = api_key
            && settings.api_key_setting().is_none()
        {
            check_api_key(key, API_KEY_ENV)?;
        }
        let override_url = settings.endpoint_override()?;
        let keys = settings.static_keys()?;
        if api_key.is_none()
            && let Some(sts) = settings.role()?.and_then(|role| role.sts_endpoint)
        {
            self.check_sts_endpoint(sts)?;
        }
        let sdk = self
            .inner
            .sdk
            .get_or_init(|| {
                load_sdk_config(
                    settings,
                    keys,
                    self.inner.timeouts,
                    &self.inner.http,
                    api_key,
                )
            })
            .await;
        let region = sdk.region().ok_or_else(|| {
            Error::Config(
                "bedrock: no AWS region configured (set bedrock.region, AWS_REGION, or a \
                 profile's region)"
                    .into(),
            )
        })?;
        let upstream = match override_url {
            Some(url) => format!("AWS Bedrock at {url} ({region})"),
            None => format!("AWS Bedrock ({region})"),
        };
        let client = self.client(sdk, override_url.unwrap_or(""));
        Ok(
            BedrockModel::new(client, model_id, upstream, self.inner.timeouts)
                .with_guardrail(settings.guardrail.as_ref())
                .with_api_key(self.inner.api_key.clone()),
        )
    }

    /// STS calls skip the Bedrock client's endpoint interceptor, so a literal address in the
    /// STS endpoint override (which skips DNS) is checked here.
    fn check_sts_endpoint(&self, url: &str) -> Result<(), Error> {
        let upstream = format!("AWS STS at {url}");
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            Error::Config(format!(
                "bedrock: sts_endpoint_url '{url}' is not a URL: {e}"
            ))
        })?;
        self.inner
            .egress
            .check_url(&parsed)
            .map_err(|refused| Error::EgressRefused {
                upstream,
                rule: refused.to_string(),
            })
    }

    fn client(&self, sdk: &SdkConfig, url: &str) -> Client {
        let mut clients = self
            .inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(url) {
            return client.clone();
        }
        let config = aws_sdk_bedrockruntime::config::Builder::from(sdk)
            .http_client(self.inner.http.clone())
            .interceptor(EndpointCheck(self.inner.egress.clone()));
        let mut config = with_auth(config, self.inner.api_key.as_ref());
        if !url.is_empty() {
            config = config.endpoint_url(url);
        }
        let client = Client::from_conf(config.build());
        if clients.len() < MAX_CACHED_CLIENTS {
            clients.insert(url.to_owned(), client.clone());
        }
        client
    }
}

/// What the fuzz targets need of the provider: its own SDK configuration, and another service
/// HTTP client in place of the egress policy's (see `crate::fuzzing`).
#[cfg(fuzzing)]
impl BedrockProvider {
    /// A provider for `settings` whose service clients send their requests to `http`; the SDK
    /// configuration is loaded as [`model`](Self::model) loads it (with the default timeouts).
    pub(crate) async fn with_http_client(
        settings: BedrockSettings,
        http: SharedHttpClient,
    ) -> Result<Self, Error> {
        let timeouts = SdkTimeouts {
            connect: DEFAULT_CONNECT_TIMEOUT,
            read: DEFAULT_READ_TIMEOUT,
        };
        let api_key = settings.api_key_setting().cloned();
        let sdk = load_sdk_config(
            &settings,
            settings.static_keys()?,
            timeouts,
            &http,
            api_key.as_ref(),
        )
        .await;
        let provider = Self::with_parts(
            settings,
            timeouts,
            EgressPolicy::default(),
            (http, None),
            api_key,
        );
        let _ = provider.inner.sdk.set(sdk);
        Ok(provider)
    }
}

/// The AWS configuration: the settings' region, profile and static keys over `aws-config`'s
/// defaults; with a role to assume (and no API key, which makes credentials unused), the
/// role's credentials on top, fetched through `http`.
async fn load_sdk_config(
    settings: &BedrockSettings,
    keys: Option<(&str, &Secret)>,
    timeouts: SdkTimeouts,
    http: &SharedHttpClient,
    api_key: Option<&Secret>,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeouts.connect)
                .read_timeout(timeouts.read)
                .build(),
        )
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if let Some(region) = settings.region.as_deref().filter(|r| !r.trim().is_empty()) {
        loader = loader.region(Region::new(region.trim().to_owned()));
    }
    if let Some(profile) = settings.profile.as_deref().filter(|p| !p.trim().is_empty()) {
        loader = loader.profile_name(profile.trim());
    }
    if let Some((key_id, secret)) = keys {
        let token = settings
            .session_token
            .as_ref()
            .filter(|t| !t.is_empty())
            .map(|t| t.expose().to_owned());
        loader = loader.credentials_provider(Credentials::new(
            key_id,
            secret.expose(),
            token,
            None,
            "duo-bedrock-settings",
        ));
    }
    let sdk = loader.load().await;
    let role = settings.role().ok().flatten();
    if api_key.is_some() {
        if settings.api_key_setting().is_none() && (keys.is_some() || role.is_some()) {
            tracing::warn!(
                "{API_KEY_ENV} is set: Bedrock calls send that API key as a bearer token and \
                 are not signed with the configured AWS credentials or role"
            );
        }
        return sdk;
    }
    match role {
        Some(role) => assume_role(sdk, &role, http).await,
        None => sdk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError, future};
    use duo_core::{LanguageModel, ModelFamily, ModelIdentifier, ModelRequest, Prompt};
    use duo_testkit::bedrock::FakeBedrock;

    fn endpoint() -> ModelEndpoint {
        ModelEndpoint::new(
            ModelIdentifier::parse("bedrock/mistral.mixtral-8x7b-instruct-v0:1").unwrap(),
            ModelFamily::Mixtral,
        )
    }

    /// A provider whose AWS configuration is `sdk` instead of the default chain's.
    fn provider_with(settings: BedrockSettings, sdk: SdkConfig) -> BedrockProvider {
        let provider = BedrockProvider::new(settings);
        provider.inner.sdk.set(sdk).unwrap();
        provider
    }

    #[derive(Debug)]
    struct NoCredentials;

    impl ProvideCredentials for NoCredentials {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            )))
        }
    }

    #[tokio::test]
    async fn no_region_anywhere_is_a_config_error() {
        let provider = provider_with(BedrockSettings::default(), SdkConfig::builder().build());
        let err = provider.model(&endpoint()).await.unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("no AWS region")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn credentials_the_chain_cannot_find_are_a_config_error_before_any_request() {
        let fake = FakeBedrock::start().await;
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-central-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(NoCredentials),
            )
            .retry_config(RetryConfig::disabled())
            .build();
        let settings = BedrockSettings {
            endpoint_url: Some(fake.url()),
            ..BedrockSettings::default()
        };
        let model = provider_with(settings, sdk)
            .model(&endpoint())
            .await
            .unwrap();
        assert_eq!(
            model.upstream(),
            format!("AWS Bedrock at {} (eu-central-1)", fake.url())
        );
        let err = model
            .generate(&ModelRequest::new(Prompt::Text("x".into())))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("no usable AWS credentials")
                && m.contains("no providers in chain provided credentials")),
            "{err:?}"
        );
        assert!(fake.requests().is_empty(), "nothing unsigned is sent");
    }

    #[tokio::test]
    async fn a_request_supplied_endpoint_is_never_used() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let settings = BedrockSettings {
            endpoint_url: Some("http://operator.internal".into()),
            ..BedrockSettings::default()
        };
        let provider = provider_with(settings, sdk);
        for url in ["http://attacker.example", "http://169.254.169.254"] {
            let model = provider
                .model(&endpoint().with_base_url(url))
                .await
                .unwrap();
            assert_eq!(
                model.upstream(),
                "AWS Bedrock at http://operator.internal (us-east-1)"
            );
        }
        let clients = provider.inner.clients.lock().unwrap();
        let keys: Vec<&str> = clients.keys().map(String::as_str).collect();
        assert_eq!(keys, ["http://operator.internal"]);
    }
}
