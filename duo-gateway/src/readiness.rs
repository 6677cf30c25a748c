//! [`Readiness`]: the models of `[readiness]`, probed for `GET /monitoring/ready`.
//!
//! The probes run concurrently, each with a timeout, and the verdict is cached briefly so that a
//! probing load balancer does not turn into load on the model servers. The answer is
//! unauthenticated: it names an error's kind and status, never upstream text.

use std::sync::Arc;
use std::time::{Duration, Instant};

use duo_core::{ModelEndpoint, ModelFamily, ModelIdentifier, Secret};
use duo_providers::Registry;
use serde::Deserialize;
use tokio::sync::Mutex;

/// `[readiness]`: models `/monitoring/ready` probes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadinessConfig {
    /// The models to probe; none means ready as soon as the process serves.
    pub models: Vec<ProbeModel>,
    /// How long a probe result is reused, in seconds.
    pub cache_s: u64,
    /// How long one probe may take, in seconds.
    pub timeout_s: u64,
}

impl Default for ReadinessConfig {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            cache_s: 10,
            timeout_s: 5,
        }
    }
}

/// One model for readiness probes, described as GitLab describes models.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeModel {
    /// `custom_openai/…`, `bedrock/…` or `azure/…`.
    pub identifier: String,
    /// The serving endpoint (not needed for Bedrock).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The model family key, e.g. `codestral`.
    #[serde(default)]
    pub family: Option<String>,
    /// The endpoint's API key.
    #[serde(default)]
    pub api_key: Option<Secret>,
}

impl ProbeModel {
    /// The endpoint to call: the identifier, the family (default `general`), the URL and key.
    ///
    /// # Errors
    /// The identifier's parse error.
    pub fn endpoint(&self) -> Result<ModelEndpoint, duo_core::Error> {
        let id = ModelIdentifier::parse(&self.identifier)?;
        let family = ModelFamily::parse(self.family.as_deref().unwrap_or("general"));
        let mut ep = ModelEndpoint::new(id, family);
        if let Some(url) = &self.endpoint {
            ep = ep.with_base_url(url.clone());
        }
        if let Some(key) = &self.api_key {
            ep = ep.with_api_key(key.clone());
        }
        Ok(ep)
    }
}

/// One probed model's result.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    /// The model identifier.
    pub(crate) model: String,
    /// Why the probe failed (the error's kind and status only), or `None`.
    pub(crate) error: Option<String>,
}

/// The outcome of one round of probes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verdict {
    checks: Vec<Check>,
    failed: Vec<String>,
}

impl Verdict {
    /// Every probed model's result, in configuration order.
    pub(crate) fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// The models whose probe failed.
    pub(crate) fn failed(&self) -> &[String] {
        &self.failed
    }
}

/// The readiness prober with its cache.
pub(crate) struct Readiness {
    endpoints: Vec<ModelEndpoint>,
    cache_for: Duration,
    timeout: Duration,
    cached: Mutex<Option<(Instant, Arc<Verdict>)>>,
}

impl Readiness {
    /// Builds the prober from config (identifiers were validated at start).
    #[must_use]
    pub(crate) fn new(config: &ReadinessConfig) -> Self {
        let endpoints = config
            .models
            .iter()
            .filter_map(|m| m.endpoint().ok())
            .collect();
        Self {
            endpoints,
            cache_for: Duration::from_secs(config.cache_s),
            timeout: Duration::from_secs(config.timeout_s.max(1)),
            cached: Mutex::new(None),
        }
    }

    /// Probes every configured model, or returns the cached verdict while it is fresh. One probe
    /// round runs at a time; concurrent callers wait for it and share its verdict.
    pub(crate) async fn check(&self, models: &Registry) -> Arc<Verdict> {
        let mut cached = self.cached.lock().await;
        if let Some((at, verdict)) = cached.as_ref()
            && at.elapsed() < self.cache_for
        {
            return Arc::clone(verdict);
        }
        let probes = self.endpoints.iter().map(|ep| async move {
            let name = ep.identifier().to_string();
            let result = tokio::time::timeout(self.timeout, async {
                let model = models.model(ep).await?;
                model.probe().await
            })
            .await;
            let error = match result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => {
                    // The full (redacted) text goes to the log; the unauthenticated answer
                    // names the error's kind and status only.
                    let text = duo_logging::upstream_text::redacted(&e.to_string());
                    tracing::warn!(model = %name, error = %text, "readiness probe failed");
                    Some(match e.upstream_status() {
                        Some(status) => format!("{} (HTTP {status})", e.kind()),
                        None => e.kind().to_owned(),
                    })
                }
                Err(_) => Some(format!("timeout (no answer within {:?})", self.timeout)),
            };
            Check { model: name, error }
        });
        let checks = futures::future::join_all(probes).await;
        let failed = checks
            .iter()
            .filter(|c| c.error.is_some())
            .map(|c| c.model.clone())
            .collect();
        let verdict = Arc::new(Verdict { checks, failed });
        *cached = Some((Instant::now(), Arc::clone(&verdict)));
        verdict
    }
}
