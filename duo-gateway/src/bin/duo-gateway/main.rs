//! The `duo-gateway` binary: parses flags and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use duo_gateway::{Config, DocsSearch};

mod demo;
mod healthcheck;
mod index_docs;
mod probe;

/// A GitLab Duo AI gateway for self-hosted models (vLLM, AWS Bedrock, Azure OpenAI).
#[derive(Debug, Parser)]
#[command(version, after_long_help = duo_gateway::config::settings_help(), after_help = "Run with --help for every setting and its environment variable.")]
struct Cli {
    /// TOML configuration file; `AIGW_*` environment variables and flags override it.
    #[arg(long, short, global = true, env = "DUO_CONFIG")]
    config: Option<PathBuf>,
    /// Listen address (overrides fastapi.api_host / AIGW_FASTAPI__API_HOST).
    #[arg(long, global = true)]
    host: Option<String>,
    /// Listen port (overrides fastapi.api_port / AIGW_FASTAPI__API_PORT, default 5052).
    #[arg(long, global = true)]
    port: Option<u16>,
    /// Run a self-contained demo: a local stand-in model server, the gateway in front of it,
    /// a code completion and a streamed slash command through it, then exit.
    #[arg(long)]
    demo: bool,
    /// Print every prompt definition (built-in and operator) and exit.
    #[arg(long)]
    list_prompts: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the configuration, print the effective settings (secrets redacted) and exit.
    CheckConfig {
        /// Then send a one-token "ping" chat to every model of readiness.models and openai_api.models (concurrently, each within readiness.timeout_s), print a table of the results, and exit 1 when one fails.
        #[arg(long)]
        probe: bool,
    },
    /// Ask the running gateway's /monitoring/healthz (a container HEALTHCHECK); exit 0 when healthy.
    Healthcheck,
    /// Build the documentation index (docs_search.db) from a GitLab checkout's doc/ directory.
    IndexDocs {
        /// The `doc/` directory of a GitLab checkout: every `*.md` under it becomes a document.
        source: PathBuf,
        /// The index file to write.
        #[arg(long, short, default_value = "docs.db")]
        output: PathBuf,
        /// Replace an existing index file.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Building an index needs no configuration.
    if let Some(Command::IndexDocs {
        source,
        output,
        force,
    }) = &cli.command
    {
        return index_docs::run(source, output, *force);
    }
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("duo-gateway: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(host) = cli.host {
        config.fastapi.api_host = host;
    }
    if let Some(port) = cli.port {
        config.fastapi.api_port = port;
    }
    if matches!(cli.command, Some(Command::Healthcheck)) {
        return healthcheck::run(&config);
    }
    if let Some(Command::CheckConfig { probe }) = cli.command {
        return check_config(&config, probe);
    }
    if cli.list_prompts {
        return list_prompts(&config);
    }
    let _guard = match duo_logging::init(&config.logging) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("duo-gateway: logging: {e}");
            return ExitCode::from(2);
        }
    };
    for var in Config::ignored_env_vars() {
        tracing::warn!(variable = %var, "ignoring an AIGW_ setting this gateway does not read");
    }
    if config.mtls.enabled && !config.mtls.verify {
        tracing::warn!(
            "AIGW_MTLS__VERIFY is false: model servers' certificates are not verified, so anyone on the path can impersonate them. Never use this in production."
        );
    }
    if config.auth.bypass_external && !cli.demo {
        tracing::warn!(
            "AIGW_AUTH__BYPASS_EXTERNAL is set: every request is accepted without a token. Never use this in production."
        );
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = if cli.demo {
        runtime.block_on(demo::run(config))
    } else {
        runtime
            .block_on(duo_gateway::serve(config))
            .map_err(Into::into)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("duo-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The multi-threaded runtime of the server and the probe; on failure, the message is printed
/// and the exit code returned.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("duo-gateway: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

fn check_config(config: &Config, probe: bool) -> ExitCode {
    // Building the state checks everything start-up checks: values, prompt definitions, keys.
    match duo_gateway::AppState::new(config.clone()) {
        Ok(state) => {
            if let DocsSearch::Unavailable { message, .. } = state.docs_search() {
                eprintln!("duo-gateway: {message}");
                return ExitCode::from(2);
            }
            println!(
                "configuration is valid ({} prompt definitions)",
                state.prompts().list().len()
            );
            match state.docs_search() {
                DocsSearch::Ready(index) => println!(
                    "documentation index: {} ({} documents)",
                    index.path().display(),
                    index.documents()
                ),
                _ => println!("documentation index: none (docs_search.db is unset)"),
            }
            println!(
                "self-signed JWT signing key: {}\n",
                state.auth().signing_key_source()
            );
            println!("{config:#?}");
            if probe {
                return probe::run(&state);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("duo-gateway: {e}");
            ExitCode::from(2)
        }
    }
}

fn list_prompts(config: &Config) -> ExitCode {
    match duo_prompts::PromptRegistry::load(config.prompts.dir.as_deref()) {
        Ok(prompts) => {
            println!(
                "{:<40} {:<18} {:<8} {:<6} {:<9} {:<28} name",
                "prompt id", "family", "version", "kind", "source", "unit primitive"
            );
            for d in prompts.list() {
                println!(
                    "{:<40} {:<18} {:<8} {:<6} {:<9} {:<28} {}",
                    d.prompt_id,
                    d.family_folder,
                    d.version.to_string(),
                    format!("{:?}", d.kind).to_lowercase(),
                    format!("{:?}", d.source).to_lowercase(),
                    d.unit_primitive.as_str(),
                    d.name
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("duo-gateway: {e}");
            ExitCode::from(2)
        }
    }
}
