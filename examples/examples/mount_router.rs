//! Mount duo's GitLab-compatible API inside your own axum app, next to your own routes.
//!
//! ```sh
//! cargo run -p duo-examples --example mount_router
//! ```
//!
//! Starts the app on a free loopback port, sends one code completion through the mounted API to a
//! LOCAL STAND-IN model server (duo-testkit's fake vLLM), calls the app's own route, and exits.

use axum::Router;
use axum::routing::get;
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::json;

/// The model name the stand-in serves.
const MODEL: &str = "stand-in-codestral";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let stand_in = FakeOpenAi::start().await;
    stand_in.set_default(Reply::answer("return a + b\n"));
    let model_url = stand_in.url();

    let mut config = duo_gateway::Config::default();
    config.custom_models.enabled = true;
    config.auth.bypass_external = true; // for the example only: real setups verify GitLab's tokens
    let state = duo_gateway::AppState::new(config)?;

    let app = Router::new()
        .route(
            "/internal/hello",
            get(|| async { "hello from my own route" }),
        )
        .merge(duo_gateway::router(state));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    // Answers go out in one write per chunk only with TCP_NODELAY: set it on accepted sockets
    // (see duo_gateway::router's docs).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    let mine = client
        .get(format!("{base}/internal/hello"))
        .send()
        .await?
        .text()
        .await?;
    println!("GET /internal/hello -> {mine}");

    let completion = client
        .post(format!("{base}/v2/code/completions"))
        .json(&json!({
            "current_file": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ",
                             "content_below_cursor": "\n"},
            "model_provider": "litellm", "model_name": "codestral", "model_endpoint": model_url,
            "model_identifier": format!("custom_openai/{MODEL}"),
        }))
        .send()
        .await?;
    println!(
        "POST /v2/code/completions -> {} {}",
        completion.status(),
        completion.text().await?
    );
    println!("(the suggestion came from a local stand-in model)");
    Ok(())
}
