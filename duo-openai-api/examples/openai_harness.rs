//! Runs the Python test of the OpenAI-compatible API (`tests/python/test_openai_client.py`) with
//! the official `openai` client against the API's router (the test stand of `tests/api.rs`), in
//! front of fake vLLM, Azure OpenAI and Bedrock upstreams on loopback.
//!
//! ```text
//! python3 -m venv target/py && target/py/bin/pip install openai pytest
//! cargo run -p duo-openai-api --example openai_harness -- target/py/bin/python
//! ```
//!
//! Exits with pytest's status (non-zero when a test fails or Python cannot run it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/api/stand.rs"]
#[allow(dead_code, reason = "the test stand; the harness uses part of it")]
mod stand;

use std::process::{Command, ExitCode};

use duo_testkit::bedrock::Answer;
use duo_testkit::openai::Reply;
use serde_json::json;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/test_openai_client.py"
);

#[tokio::main]
async fn main() -> ExitCode {
    let python = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "python3".to_owned());
    let stand = stand::Stand::start().await;
    stand
        .vllm
        .set_default(Reply::answer("Hello from vLLM").chunks(3).usage(10, 4));
    stand
        .azure
        .set_default(Reply::answer("Hello from Azure").chunks(3).usage(11, 4));
    stand
        .bedrock
        .set_default(Answer::chunks(["Hello", " from", " Bedrock"]).with_usage(12, 3));
    let models = json!({
        stand::VLLM: "Hello from vLLM",
        stand::AZURE: "Hello from Azure",
        stand::BEDROCK: "Hello from Bedrock",
    });
    let base_url = stand.url("/v1");
    println!("DUO_BASE_URL={base_url}");
    println!("DUO_API_KEY={}", stand::KEY);
    println!("DUO_MODELS={models}");
    let mut command = Command::new(&python);
    command
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", SCRIPT])
        .env("DUO_BASE_URL", &base_url)
        .env("DUO_API_KEY", stand::KEY)
        .env("DUO_MODELS", models.to_string());
    let status = tokio::task::spawn_blocking(move || command.status())
        .await
        .expect("the python task ran");
    let code = match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("openai_harness: the Python test failed ({status})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("openai_harness: cannot run {python}: {e}");
            ExitCode::FAILURE
        }
    };
    let requests = stand.vllm.request_count() + stand.azure.request_count();
    let bedrock = stand.bedrock.requests().len();
    println!("upstream requests: {requests} vLLM/Azure, {bedrock} Bedrock");
    stand.shutdown().await;
    code
}
