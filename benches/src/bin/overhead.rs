//! End-to-end overhead of the gateway: the same completion asked of a fixed-answer upstream
//! directly and through the gateway, latency percentiles at concurrency 1 and throughput at
//! concurrency 32.
//!
//! ```sh
//! cargo run --release -p duo-benches --bin overhead -- [REQUESTS] [SECONDS]
//! ```
//!
//! Everything runs in this process on loopback, each part on its own runtime: the upstream (the
//! gateway's demo stand-in speaking vLLM's protocol, one thread), the gateway (two worker
//! threads, JSON request logging to a sink), and the load generator (one thread, one pooled
//! client). The figures therefore include the gateway's full path: HTTP parsing, auth bypass,
//! validation, prompt rendering, the upstream call over a pooled connection, response
//! serialization and the request log line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use duo_benches::{BoxError, procfs, runtime};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// The model name the benchmarked requests carry.
const MODEL: &str = "stand-in-mistral";

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let requests: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5000);
    let seconds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);

    let sink = duo_logging::subscriber(&duo_logging::LoggingConfig::default(), std::io::sink)?;
    tracing::subscriber::set_global_default(sink)?;

    let upstream_rt = runtime("upstream", 1)?;
    // duo-testkit's fake vLLM, one fixed answer, not recording (it would grow with every request).
    let stand_in = upstream_rt.block_on(async {
        let fake = duo_testkit::openai::FakeOpenAi::start().await;
        fake.set_default(duo_testkit::openai::Reply::answer("return a + b\n"))
            .record_requests(false);
        fake
    });
    let upstream = stand_in.url();

    let gateway_rt = runtime("gateway", 2)?;
    let mut config = duo_gateway::Config::default();
    config.fastapi.api_host = "127.0.0.1".into();
    config.fastapi.api_port = 0;
    config.fastapi.metrics_port = 0;
    config.custom_models.enabled = true;
    config.auth.bypass_external = true;
    let gateway = gateway_rt.block_on(duo_gateway::Gateway::bind(config))?;
    let gateway_url = format!("http://{}", gateway.api_addr()?);
    gateway_rt.spawn(gateway.run(std::future::pending()));

    let client_rt = runtime("loadgen", 1)?;
    client_rt.block_on(async move {
        let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
        let direct = Target {
            url: format!("{upstream}/chat/completions"),
            body: upstream_body()?,
        };
        let through = Target {
            url: format!("{gateway_url}/v2/code/completions"),
            body: json!({"prompt_version": 1, "current_file": {"file_name": "main.py",
                          "content_above_cursor": "def add(a, b):\n    ", "content_below_cursor": "\n"},
                         "model_provider": "litellm", "model_name": "mistral", "model_endpoint": upstream,
                         "model_identifier": format!("custom_openai/{MODEL}")}),
        };
        for t in [&direct, &through] {
            t.check(&client).await?;
        }
        println!("duo overhead benchmark: {requests} sequential requests per target, then {seconds} s at concurrency 32");
        println!("upstream: {upstream} (fixed answer)   gateway: {gateway_url} (POST /v2/code/completions, mistral chat prompt)\n");
        let d1 = direct.latency(&client, requests).await?;
        let g1 = through.latency(&client, requests).await?;
        println!("{:<26} {:>9} {:>9} {:>9} {:>9}", "c=1 latency (µs)", "p50", "p90", "p99", "p99.9");
        for (name, h) in [("direct to upstream", &d1), ("through the gateway", &g1)] {
            println!(
                "{name:<26} {:>9} {:>9} {:>9} {:>9}",
                h.value_at_quantile(0.5), h.value_at_quantile(0.9), h.value_at_quantile(0.99), h.value_at_quantile(0.999)
            );
        }
        println!(
            "{:<26} {:>9} {:>9} {:>9} {:>9}\n",
            "added by the gateway",
            g1.value_at_quantile(0.5).saturating_sub(d1.value_at_quantile(0.5)),
            g1.value_at_quantile(0.9).saturating_sub(d1.value_at_quantile(0.9)),
            g1.value_at_quantile(0.99).saturating_sub(d1.value_at_quantile(0.99)),
            g1.value_at_quantile(0.999).saturating_sub(d1.value_at_quantile(0.999)),
        );
        let dt = direct.throughput(&client, 32, Duration::from_secs(seconds)).await;
        let gt = through.throughput(&client, 32, Duration::from_secs(seconds)).await;
        println!("{:<26} {:>12} {:>9}", "c=32 throughput", "req/s", "errors");
        println!("{:<26} {:>12.0} {:>9}", "direct to upstream", dt.0, dt.1);
        println!("{:<26} {:>12.0} {:>9}", "through the gateway", gt.0, gt.1);
        let rss_mb = procfs::rss_kb("self").unwrap_or(0) / 1024;
        println!("\nprocess RSS after the run (upstream + gateway + load generator): {rss_mb} MB");
        Ok::<(), BoxError>(())
    })?;
    Ok(())
}

/// The body the gateway sends upstream for the benchmarked completion, so that both targets ask
/// the upstream exactly the same thing.
fn upstream_body() -> Result<Value, BoxError> {
    let prompts = duo_prompts::PromptRegistry::builtin()?;
    let family = duo_core::ModelFamily::Mistral;
    let definition = prompts.resolve("code_suggestions/completions", &family, "^1.0.0")?;
    let file = duo_prompts::code::CurrentFile {
        file_name: "main.py".into(),
        language_identifier: None,
        content_above_cursor: "def add(a, b):\n    ".into(),
        content_below_cursor: "\n".into(),
    };
    let inputs = duo_prompts::code::completion_inputs(&family, &file, &[]).ok_or("no language")?;
    let request = definition.render(&inputs)?;
    let duo_core::Prompt::Chat(messages) = request.prompt else {
        return Err("the mistral completion prompt is expected to be a chat".into());
    };
    Ok(
        json!({"model": MODEL, "messages": messages, "stream": false,
              "max_tokens": request.params.max_tokens, "temperature": request.params.temperature,
              "stop": request.params.stop}),
    )
}

struct Target {
    url: String,
    body: Value,
}

impl Target {
    async fn send(&self, client: &reqwest::Client) -> Result<(), BoxError> {
        let res = client.post(&self.url).json(&self.body).send().await?;
        if !res.status().is_success() {
            return Err(format!("{} answered {}", self.url, res.status()).into());
        }
        res.bytes().await?;
        Ok(())
    }

    async fn check(&self, client: &reqwest::Client) -> Result<(), BoxError> {
        for _ in 0..200 {
            self.send(client).await?;
        }
        Ok(())
    }

    async fn latency(&self, client: &reqwest::Client, n: u64) -> Result<Histogram<u64>, BoxError> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
        for _ in 0..n {
            let start = Instant::now();
            self.send(client).await?;
            h.record(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX))?;
        }
        Ok(h)
    }

    async fn throughput(
        &self,
        client: &reqwest::Client,
        concurrency: usize,
        period: Duration,
    ) -> (f64, u64) {
        let done = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + period;
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, url, body) = (client.clone(), self.url.clone(), self.body.clone());
            let (done, errors) = (Arc::clone(&done), Arc::clone(&errors));
            tasks.push(tokio::spawn(async move {
                let t = Target { url, body };
                while Instant::now() < deadline {
                    match t.send(&client).await {
                        Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }));
        }
        let start = Instant::now();
        for t in tasks {
            let _ = t.await;
        }
        let secs = start.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let rate = done.load(Ordering::Relaxed) as f64 / secs;
        (rate, errors.load(Ordering::Relaxed))
    }
}
