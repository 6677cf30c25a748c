//! Stream a chat from AWS Bedrock (ConverseStream) through `duo-providers`, with the region and
//! credentials found by `aws-config`'s default chain, against a LOCAL STAND-IN Bedrock.
//!
//! ```sh
//! cargo run -p duo-examples --example bedrock_stream
//! ```
//!
//! The stand-in is duo-testkit's fake Bedrock runtime on loopback: it speaks Converse and
//! ConverseStream as the AWS SDK expects them (REST-JSON, binary event-stream frames with their
//! CRCs) and records the SigV4-signed requests. The operator's endpoint override
//! (`bedrock.endpoint_url`, here `BedrockSettings::endpoint_url`) points the SDK client at it;
//! nothing else is configured, so the region and the keys come from the default chain (the
//! environment first, then `~/.aws`, SSO, instance roles …).
//!
//! When `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` or `AWS_REGION` is unset, the example gives
//! the missing ones made-up test values and says so. Changing the process's own environment is
//! `unsafe` in Rust 2024 (and the workspace forbids unsafe code), so it re-runs itself as a child
//! process with them set. Variables you did set are kept as they are: either way, requests only
//! ever go to the stand-in on 127.0.0.1.

use duo_core::{
    GenerationParams, LanguageModel, Message, ModelEndpoint, ModelFamily, ModelIdentifier,
    ModelRequest, Prompt, StreamEvent,
};
use duo_providers::bedrock::BedrockSettings;
use duo_providers::{ProviderConfig, Registry};
use duo_testkit::bedrock::{Answer, FakeBedrock};
use futures::StreamExt;
use std::io::Write;
use std::time::Duration;

/// The Bedrock model id the example asks for.
const MODEL_ID: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

/// The variables of the default chain the example needs, with the test value used when unset.
const TEST_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLEDUOTEST"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("AWS_REGION", "us-east-1"),
];

/// Set in the child process, so that it says where its values came from.
const CHILD_MARK: &str = "DUO_EXAMPLE_TEST_AWS_ENV";

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let missing: Vec<_> = TEST_ENV
        .iter()
        .filter(|(name, _)| std::env::var_os(name).is_none_or(|v| v.is_empty()))
        .collect();
    if missing.is_empty() {
        return tokio::runtime::Runtime::new()?.block_on(run());
    }
    let mut child = std::process::Command::new(std::env::current_exe()?);
    child.args(std::env::args_os().skip(1)).env(CHILD_MARK, "1");
    for (name, value) in &missing {
        println!("{name} is unset: using the TEST value {value:?} for this example");
        child.env(name, value);
    }
    println!("(re-running the example with them set: a process cannot safely set its own)\n");
    let status = child.status()?;
    std::process::exit(status.code().unwrap_or(1));
}

async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let fake = FakeBedrock::start().await;
    fake.set_default(
        Answer::chunks([
            "`f` ",
            "doubles ",
            "its ",
            "argument: ",
            "`f(21)` ",
            "is `42`.",
        ])
        .with_usage(31, 14)
        .delay_frames(Duration::from_millis(40)),
    );
    println!(
        "using a LOCAL STAND-IN for AWS Bedrock at {} (duo-testkit's fake, canned answers)",
        fake.url()
    );
    let source = if std::env::var_os(CHILD_MARK).is_some() {
        "the environment, with the test values above for the unset ones"
    } else {
        "your environment"
    };
    let region = std::env::var("AWS_REGION").unwrap_or_default();
    println!(
        "AWS region and credentials: aws-config's default chain ({source}), region {region}\n"
    );

    // The operator's settings: only the endpoint override; the rest comes from the default chain.
    let config = ProviderConfig {
        bedrock: BedrockSettings {
            endpoint_url: Some(fake.url()),
            ..BedrockSettings::default()
        },
        ..ProviderConfig::default()
    };
    let registry = Registry::try_new(config)?;
    let endpoint = ModelEndpoint::new(
        ModelIdentifier::parse(&format!("bedrock/{MODEL_ID}"))?,
        ModelFamily::Claude3,
    );
    let llm = registry.model(&endpoint).await?;
    println!(
        "model: {} ({}), at {}",
        llm.model(),
        llm.provider(),
        llm.upstream()
    );

    let request = ModelRequest::new(Prompt::Chat(vec![
        Message::system("You are a concise assistant."),
        Message::user("Explain: def f(x): return x*2"),
    ]))
    .with_params(GenerationParams {
        max_tokens: Some(64),
        temperature: Some(0.2),
        ..GenerationParams::default()
    });

    print!("streamed: ");
    std::io::stdout().flush()?;
    let mut stream = llm.generate_stream(&request).await?;
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta(text) => {
                print!("[{text}]");
                std::io::stdout().flush()?; // show each piece as it arrives
            }
            StreamEvent::Finish { reason, usage } => {
                println!("\nfinish: {}", reason.as_str());
                match usage {
                    Some(u) => println!(
                        "usage: {} input + {} output = {} tokens",
                        u.input_tokens,
                        u.output_tokens,
                        u.total_tokens()
                    ),
                    None => println!("usage: not reported"),
                }
            }
            _ => {}
        }
    }

    for recorded in fake.requests() {
        println!(
            "\nthe stand-in received: POST {} ({:?}), SigV4-signed: {}, access key id {}",
            recorded.path,
            recorded.operation,
            recorded.auth.is_sigv4(),
            recorded.auth.access_key_id().unwrap_or("(none)"),
        );
        println!("request body: {}", recorded.body);
    }
    println!("(the answer came from a local stand-in, not from AWS)");
    Ok(())
}
