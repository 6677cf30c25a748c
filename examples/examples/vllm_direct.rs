//! Call a vLLM (OpenAI-compatible) model through `duo-providers` directly, without the gateway:
//! once, then streamed.
//!
//! ```sh
//! cargo run -p duo-examples --example vllm_direct                           # local stand-in model
//! cargo run -p duo-examples --example vllm_direct -- http://vllm:8000/v1 mistral-7b
//! ```

use duo_core::{
    GenerationParams, LanguageModel, Message, ModelEndpoint, ModelFamily, ModelIdentifier,
    ModelRequest, Prompt, StreamEvent,
};
use duo_providers::{ProviderConfig, Registry};
use duo_testkit::openai::{FakeOpenAi, Reply};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    // Kept alive until the end of main: dropping the fake stops it.
    let mut stand_in = None;
    let (url, model) = match (args.next(), args.next()) {
        (Some(url), Some(model)) => (url, model),
        _ => {
            let fake = FakeOpenAi::start().await;
            fake.set_default(
                Reply::answer("`f` doubles its argument: `f(21)` is `42`.")
                    .chunks(4)
                    .usage(24, 12),
            );
            let url = fake.url();
            println!(
                "no URL given: using a LOCAL STAND-IN model server at {url} (canned answers)\n"
            );
            stand_in = Some(fake);
            (url, "stand-in-mistral".to_owned())
        }
    };

    // One registry per process: it builds one client per endpoint and pools its connections.
    let registry = Registry::new(ProviderConfig::default());
    let endpoint = ModelEndpoint::new(
        ModelIdentifier::parse(&format!("custom_openai/{model}"))?,
        ModelFamily::Mistral,
    )
    .with_base_url(url);
    let llm = registry.model(&endpoint).await?;

    let request = ModelRequest::new(Prompt::Chat(vec![
        Message::system("You are a concise assistant."),
        Message::user("Explain: def f(x): return x*2"),
    ]))
    .with_params(GenerationParams {
        max_tokens: Some(64),
        temperature: Some(0.2),
        ..GenerationParams::default()
    });

    let answer = llm.generate(&request).await?;
    println!("answer: {}", answer.text);
    println!(
        "finish: {}, usage: {:?}\n",
        answer.finish_reason.as_str(),
        answer.usage
    );

    print!("streamed: ");
    let mut stream = llm.generate_stream(&request).await?;
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta(text) => print!("[{text}]"),
            StreamEvent::Finish { reason, usage } => {
                println!("\nfinish: {}, usage: {usage:?}", reason.as_str());
            }
            _ => {}
        }
    }
    drop(stand_in);
    Ok(())
}
