//! `duo-gateway check-config --probe`: the real binary sends a one-token "ping" chat to every
//! configured model (fake upstreams from duo-testkit) and prints one table row per model; exit
//! 1 when one failed, never a secret, and nothing probed when the configuration is invalid.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

#[cfg(feature = "openai-api")]
use duo_testkit::anthropic::{FakeAnthropic, Reply as AnthropicReply};
use duo_testkit::openai::{FakeOpenAi, RecordedRequest, Reply};

/// The client key the OpenAI-compatible API needs when it is enabled (never sent upstream).
#[cfg(feature = "openai-api")]
const CLIENT_KEY: &str = "sk-client-0123456789abcdefghij";

/// `duo-gateway check-config [--probe]` with `toml` as its config file and only `env` set.
async fn run(toml: &str, probe: bool, env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("duo.toml");
    std::fs::write(&path, toml).unwrap();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    // The fakes serve on this test's runtime while the binary runs on a blocking thread.
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_duo-gateway"));
        cmd.arg("check-config")
            .arg("--config")
            .arg(&path)
            .env_clear();
        if probe {
            cmd.arg("--probe");
        }
        cmd.envs(env);
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    drop(dir);
    out
}

/// Standard output and standard error, for assertion messages.
fn both(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The probe table's rows (cells split at runs of two spaces), after its header.
fn table(out: &Output) -> Vec<Vec<String>> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("model  "));
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("no table: {}", both(out)));
    assert_eq!(
        cells(header),
        [
            "model", "provider", "endpoint", "status", "latency", "reason"
        ],
        "{}",
        both(out)
    );
    lines.map(cells).collect()
}

/// A table line's cells.
fn cells(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The row of `model`.
fn row<'a>(rows: &'a [Vec<String>], model: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == model)
        .unwrap_or_else(|| panic!("no row for {model}: {rows:?}"))
}

/// Asserts that `row` is `model provider endpoint ok <n> ms` with nothing after.
fn assert_ok(row: &[String], provider: &str, endpoint: &str) {
    assert_eq!(row.len(), 5, "{row:?}");
    assert_eq!(
        (row[1].as_str(), row[2].as_str(), row[3].as_str()),
        (provider, endpoint, "ok")
    );
    assert_latency(&row[4]);
}

/// Asserts a `failed` row of `provider` at `endpoint` and returns its reason.
fn assert_failed<'a>(row: &'a [String], provider: &str, endpoint: &str) -> &'a str {
    assert_eq!(row.len(), 6, "{row:?}");
    assert_eq!(
        (row[1].as_str(), row[2].as_str(), row[3].as_str()),
        (provider, endpoint, "failed")
    );
    assert_latency(&row[4]);
    assert!(row[5].chars().count() <= 120, "{row:?}");
    &row[5]
}

/// Asserts a latency cell, `<n> ms`.
fn assert_latency(cell: &str) {
    let ms = cell
        .strip_suffix(" ms")
        .unwrap_or_else(|| panic!("latency {cell:?}"));
    ms.parse::<u64>()
        .unwrap_or_else(|_| panic!("latency {cell:?}"));
}

/// Asserts that `seen` is exactly one one-token "ping" chat to the chat completions route.
fn assert_one_ping(seen: &[RecordedRequest], path: &str, model: &str) {
    assert_eq!(seen.len(), 1, "{seen:?}");
    let request = &seen[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", path)
    );
    let body = &request.body;
    assert_eq!(body["model"], model, "{body}");
    assert_eq!(
        body.get("max_tokens")
            .or_else(|| body.get("max_completion_tokens")),
        Some(&serde_json::json!(1)),
        "{body}"
    );
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{body}");
    assert_eq!(messages[0]["role"], "user", "{body}");
    let content = &messages[0]["content"];
    let text = content
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| content[0]["text"].as_str().unwrap().to_owned());
    assert_eq!(text, "ping", "{body}");
}

/// A `[readiness]` section of `custom_openai` models at their endpoints.
fn readiness(models: &[(&str, &str)]) -> String {
    let entries: Vec<String> = models
        .iter()
        .map(|(id, url)| format!("{{ identifier = \"{id}\", endpoint = \"{url}\" }}"))
        .collect();
    format!("[readiness]\nmodels = [{}]\n", entries.join(", "))
}

#[cfg(feature = "openai-api")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_healthy_models_pass_with_one_ok_row_each() {
    let vllm = FakeOpenAi::start().await;
    let anthropic = FakeAnthropic::start().await;
    anthropic.set_default(AnthropicReply::text("pong"));
    let toml = format!(
        "{}\n[openai_api]\nenabled = true\napi_keys = [\"{CLIENT_KEY}\"]\n\n\
         [[openai_api.models]]\nname = \"claude\"\nidentifier = \"anthropic/claude-sonnet-4-5\"\n\
         endpoint = \"{}\"\n",
        readiness(&[("custom_openai/fake-model", &vllm.url())]),
        anthropic.url()
    );
    let out = run(&toml, true, &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let rows = table(&out);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_ok(
        row(&rows, "custom_openai/fake-model"),
        "openai_compatible",
        &vllm.url(),
    );
    assert_ok(row(&rows, "claude"), "anthropic", &anthropic.url());
    assert_one_ping(&vllm.requests(), "/v1/chat/completions", "fake-model");
    assert_one_ping(&anthropic.requests(), "/v1/messages", "claude-sonnet-4-5");
    // Without a terminal there is no progress display, and no failure summary.
    assert!(out.stderr.is_empty(), "{}", both(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_key_fails_its_row_with_the_reason_and_never_the_secret() {
    let healthy = FakeOpenAi::start().await;
    let rejecting = FakeOpenAi::start().await;
    let configured = "sk-configured-0123456789abcdefghij";
    let quoted = "sk-live-9876543210zyxwvutsrqponm";
    rejecting.set_default(Reply::error(
        401,
        format!(
            "{{\"error\": {{\"message\": \"bad key {configured} {quoted}\", \
             \"type\": \"invalid_request_error\", \"param\": null, \"code\": \"invalid_api_key\"}}}}"
        ),
    ));
    let toml = format!(
        "[readiness]\nmodels = [\n  {{ identifier = \"custom_openai/fake-model\", endpoint = \"{}\" }},\n  \
         {{ identifier = \"custom_openai/locked\", endpoint = \"{}\", api_key = \"{configured}\" }},\n]\n",
        healthy.url(),
        rejecting.url()
    );
    let out = run(&toml, true, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let rows = table(&out);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_ok(
        row(&rows, "custom_openai/fake-model"),
        "openai_compatible",
        &healthy.url(),
    );
    let reason = assert_failed(
        row(&rows, "custom_openai/locked"),
        "openai_compatible",
        &rejecting.url(),
    );
    assert!(
        reason.contains("rejected the credentials (HTTP 401)"),
        "{reason}"
    );
    // Whole (not cut short): the secrets are gone because they were redacted.
    assert!(
        reason.ends_with(": bad key ********** **********"),
        "{reason}"
    );
    let all = both(&out);
    for secret in [configured, quoted] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
    assert!(
        all.contains("duo-gateway: 1 of 2 models failed the probe"),
        "{all}"
    );
    assert_one_ping(&healthy.requests(), "/v1/chat/completions", "fake-model");
    let seen = rejecting.requests();
    assert_one_ping(&seen, "/v1/chat/completions", "locked");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {configured}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_fails_with_a_connect_reason() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let url = format!("http://{closed}/v1");
    let out = run(&readiness(&[("custom_openai/gone", &url)]), true, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let rows = table(&out);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let reason = assert_failed(row(&rows, "custom_openai/gone"), "openai_compatible", &url);
    assert!(reason.starts_with("could not connect to "), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metadata_endpoint_is_refused_by_the_egress_policy_before_any_request() {
    let bystander = FakeOpenAi::start().await;
    let url = "http://169.254.169.254/v1";
    let out = run(&readiness(&[("custom_openai/imds", url)]), true, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let rows = table(&out);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let reason = assert_failed(row(&rows, "custom_openai/imds"), "openai_compatible", url);
    assert!(
        reason.starts_with("the egress policy refused openai_compatible at 169.254.169.254"),
        "{reason}"
    );
    assert!(reason.contains("cloud_metadata"), "{reason}");
    assert_eq!(bystander.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_models_means_nothing_to_probe_and_success() {
    let out = run("", true, &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().last(),
        Some("no models to probe (readiness.models and openai_api.models are empty)"),
        "{stdout}"
    );
    assert!(!stdout.contains("model  provider"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_config_fails_as_without_probe_and_probes_nothing() {
    let fake = FakeOpenAi::start().await;
    let toml = readiness(&[("custom_openai/fake-model", &fake.url())]);
    let env = [("AIGW_PROVIDERS__BEDROCK__ACCESS_KEY_ID", "AKIDHALFPAIR")];
    let plain = run(&toml, false, &env).await;
    let probed = run(&toml, true, &env).await;
    assert_eq!(plain.status.code(), Some(2), "{}", both(&plain));
    assert_eq!(probed.status.code(), Some(2), "{}", both(&probed));
    assert_eq!(probed.stdout, plain.stdout, "{}", both(&probed));
    assert_eq!(probed.stderr, plain.stderr, "{}", both(&probed));
    assert!(
        String::from_utf8_lossy(&probed.stderr)
            .contains("providers.bedrock: access_key_id is set but secret_access_key is missing"),
        "{}",
        both(&probed)
    );
    assert_eq!(fake.request_count(), 0);
}
