//! Starting the real gateway on a random loopback port for black-box tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod raw;

use duo_gateway::{AppState, Config, Gateway, StartError};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running gateway; stopped when dropped or by [`TestGateway::shutdown`].
pub struct TestGateway {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The gateway's shared state (metrics, config).
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), StartError>>>,
}

impl TestGateway {
    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends the shutdown signal and waits for the server to return.
    pub async fn shutdown(mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("server task panicked"),
            None => Ok(()),
        }
    }

    /// Sends the shutdown signal without waiting.
    pub fn signal_shutdown(&mut self) -> JoinHandle<Result<(), StartError>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().expect("already shut down")
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A config for tests: loopback, random port, no metrics listener, custom models on, auth
/// bypassed (tests of auth turn it off), no retries and short timeouts.
pub fn config() -> Config {
    let mut c = Config::default();
    c.fastapi.api_host = "127.0.0.1".into();
    c.fastapi.api_port = 0;
    c.fastapi.metrics_port = 0;
    c.fastapi.shutdown_grace_s = 5;
    c.custom_models.enabled = true;
    c.auth.bypass_external = true;
    c.providers.resilience.max_retries = 0;
    c
}

/// Starts the gateway with `config`.
pub async fn start(config: Config) -> TestGateway {
    let gateway = Gateway::bind(config).await.expect("gateway starts");
    let base = format!("http://{}", gateway.api_addr().expect("bound"));
    let state = gateway.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(gateway.run(async move {
        let _ = stopped.await;
    }));
    TestGateway {
        base,
        state,
        stop: Some(stop),
        task: Some(task),
    }
}

/// A v2 code-completion body for `family` served at `endpoint` as `identifier`.
pub fn completion_body(family: &str, endpoint: &str, identifier: &str) -> Value {
    json!({
        "prompt_version": 1,
        "project_path": "gitlab-org/gitlab",
        "current_file": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ",
                         "content_below_cursor": "\n"},
        "model_provider": "litellm", "model_name": family,
        "model_endpoint": endpoint, "model_api_key": "upstream-key-123",
        "model_identifier": identifier, "telemetry": [], "stream": false
    })
}

/// A `/v1/prompts` body for `family` served at `endpoint`.
pub fn prompt_body(family: &str, endpoint: &str, identifier: &str, stream: bool) -> Value {
    json!({
        "stream": stream,
        "inputs": {"input": "Explain this code", "selected_text": "def f(x): return x*2",
                   "file_content": "", "language_info": "The code is written in Python."},
        "model_metadata": {"provider": "openai", "name": family, "endpoint": endpoint,
                           "api_key": "upstream-key-123", "identifier": identifier}
    })
}

/// A shared HTTP client.
pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// A config that verifies tokens with `oidc`'s keys instead of bypassing auth.
pub async fn authed_config(oidc: &duo_testkit::oidc::FakeOidc) -> duo_gateway::Config {
    let mut c = config();
    c.auth.bypass_external = false;
    c.gitlab_url = Some(oidc.url());
    c
}

/// `rb` with `token` and the headers a GitLab instance sends.
pub fn gitlab_request(rb: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
    rb.bearer_auth(token)
        .header("X-Gitlab-Authentication-Type", "oidc")
        .header("X-Gitlab-Instance-Id", duo_testkit::oidc::INSTANCE_ID)
        .header("X-Gitlab-Realm", duo_testkit::oidc::REALM)
        .header("X-Gitlab-Global-User-Id", "1234")
}

/// POSTs `body` as JSON; the status and the JSON answer (`Null` when not JSON).
pub async fn post_status(url: &str, body: &Value) -> (u16, Value) {
    let res = client().post(url).json(body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// `duo-gateway check-config` with only `env` set.
pub fn check_config(env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_duo-gateway"));
    cmd.arg("check-config").env_clear();
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}
