//! Tool calling through the gateway's OpenAI-compatible API (duo-openai-api, mounted by
//! duo-gateway when `openai_api.enabled`): a chat request offering a tool with `tools` and
//! `tool_choice`, the model's `tool_calls` in the answer, then the tool's result sent back as a
//! `tool` message and the model's final answer.
//!
//! ```sh
//! cargo run -p duo-examples --example openai_tool_call
//! ```
//!
//! Starts the real gateway (`duo_gateway::Gateway`) on a free loopback port with one model in
//! `openai_api.models`, served by a LOCAL STAND-IN vLLM server (duo-testkit's fake, scripted to
//! call the tool first and to answer once it has the result). The "tool" is a function of this
//! example. Any OpenAI client works the same way: here plain JSON over reqwest.

use duo_core::Secret;
use duo_openai_api::{ClientKeyEntry, OpenAiModelConfig};
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};

/// The key clients of the OpenAI-compatible API send (`openai_api.api_keys`).
const CLIENT_KEY: &str = "sk-example-client-key";

/// The tool this example offers, and runs when the model asks for it.
fn get_weather(arguments: &Value) -> Value {
    let city = arguments["city"].as_str().unwrap_or("somewhere");
    json!({"city": city, "temperature_c": 12, "sky": "cloudy"})
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let stand_in = FakeOpenAi::start().await;
    stand_in.script(Reply::tool_call(
        "call_weather_1",
        "get_weather",
        r#"{"city":"Oslo"}"#,
    ));
    stand_in.script(Reply::answer("It is 12 °C and cloudy in Oslo: take a jacket.").usage(61, 13));
    println!(
        "using a LOCAL STAND-IN model server at {} (scripted: a tool call, then an answer)\n",
        stand_in.url()
    );

    let mut config = duo_gateway::Config::default();
    config.fastapi.api_host = "127.0.0.1".into();
    config.fastapi.api_port = 0; // a free port
    config.fastapi.metrics_port = 0; // no metrics listener
    config.openai_api.enabled = true;
    config.openai_api.api_keys = vec![ClientKeyEntry::Plain(Secret::new(CLIENT_KEY))];
    config.openai_api.models = vec![OpenAiModelConfig {
        name: "coder".into(),
        identifier: "custom_openai/qwen3-coder".into(),
        endpoint: Some(stand_in.url()),
        api_key: None,
        api_key_env: None,
        api_key_file: None,
        family: Some("general".into()),
    }];
    let gateway = duo_gateway::Gateway::bind(config).await?;
    let url = format!("http://{}/v1/chat/completions", gateway.api_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gateway.run(async move {
        let _ = stopped.await;
    }));
    println!("gateway: POST {url}\n");

    let tools = json!([{"type": "function", "function": {
        "name": "get_weather", "description": "The current weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}]);
    let mut messages = vec![
        json!({"role": "system", "content": "Use the tools when they help."}),
        json!({"role": "user", "content": "Do I need a jacket in Oslo today?"}),
    ];
    let client = reqwest::Client::new();
    let ask = |messages: &[Value], tool_choice: Value| {
        client.post(&url).bearer_auth(CLIENT_KEY).json(&json!({
            "model": "coder", "messages": messages, "tools": tools, "tool_choice": tool_choice,
        }))
    };

    // First turn: the tool must be called (`tool_choice` names it).
    let forced = json!({"type": "function", "function": {"name": "get_weather"}});
    let first: Value = ask(&messages, forced)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let choice = &first["choices"][0];
    println!("1. finish_reason: {}", choice["finish_reason"]);
    let calls = choice["message"]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    println!(
        "   tool_calls: {}",
        serde_json::to_string_pretty(&calls)?.replace('\n', "\n   ")
    );

    // Run each call and send its result back as a `tool` message, after the assistant's turn.
    messages.push(choice["message"].clone());
    for call in &calls {
        let arguments: Value =
            serde_json::from_str(call["function"]["arguments"].as_str().unwrap_or("{}"))?;
        let result = get_weather(&arguments);
        println!(
            "   ran {}({arguments}) -> {result}",
            call["function"]["name"].as_str().unwrap_or("?")
        );
        messages.push(json!({"role": "tool", "tool_call_id": call["id"],
                             "content": result.to_string()}));
    }

    // Second turn: the model may call tools again or answer (`auto`); it answers.
    let second: Value = ask(&messages, json!("auto"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let choice = &second["choices"][0];
    println!("\n2. finish_reason: {}", choice["finish_reason"]);
    println!("   answer: {}", choice["message"]["content"]);
    println!("   usage: {}", second["usage"]);

    // What the gateway sent upstream: the tools and the tool conversation in vLLM's wire.
    for (i, request) in stand_in.requests().iter().enumerate() {
        let roles: Vec<&str> = request.body["messages"]
            .as_array()
            .map(|m| m.iter().filter_map(|m| m["role"].as_str()).collect())
            .unwrap_or_default();
        println!(
            "\nthe stand-in's request {}: {} {}, tool_choice {}, {} tool(s), roles {roles:?}",
            i + 1,
            request.method,
            request.path,
            request.body["tool_choice"],
            request.body["tools"].as_array().map_or(0, Vec::len),
        );
    }
    println!("(the answers came from a local stand-in model)");

    let _ = stop.send(());
    server.await??;
    Ok(())
}
