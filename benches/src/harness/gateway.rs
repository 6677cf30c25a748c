//! The gateway under test: the release `duo-gateway` binary as a child
//! ([`GatewayProcess`], the soak's), with a TOML config enabling the OpenAI-compatible API over
//! the stand-in, custom models on, its JSON log going to a file (stdout redirected, as
//! production writes it), and GitLab auth either verified against a local OIDC issuer or
//! bypassed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::BoxError;
use crate::soak::gateway::{GatewayProcess, GatewaySettings};

/// The client key of the OpenAI-compatible API (`Authorization: Bearer <key>`).
pub const CLIENT_KEY: &str = "sk-harness-0123456789abcdef";
/// The OpenAI-compatible model name clients send.
pub const MODEL: &str = "bench-chat";

/// How GitLab's routes authenticate.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Tokens verified against the OIDC issuer at this URL (`AIGW_GITLAB_URL`).
    Oidc(String),
    /// `AIGW_AUTH__BYPASS_EXTERNAL=true`.
    Bypassed,
}

/// The config file: the OpenAI-compatible API with [`CLIENT_KEY`] and one model, [`MODEL`],
/// served by the stand-in at `stand_in_v1`.
#[must_use]
pub fn config_toml(stand_in_v1: &str) -> String {
    format!(
        r#"[openai_api]
enabled = true
api_keys = [{{ name = "harness", key = "{CLIENT_KEY}" }}]

[[openai_api.models]]
name = "{MODEL}"
identifier = "custom_openai/bench-model"
endpoint = "{stand_in_v1}"
api_key = "upstream-key-123"
"#
    )
}

/// Where a gateway variant's files live.
#[derive(Debug, Clone)]
pub struct Variant {
    /// A short name (`auth-on`, `auth-bypassed`): the files are `<dir>/gateway-<name>.*`.
    pub name: &'static str,
    /// How it authenticates GitLab's routes.
    pub auth: Auth,
}

/// Starts `binary` as `variant`, its config and log in `dir`; waits until it is healthy.
///
/// # Errors
/// When the config cannot be written or the gateway does not start.
pub async fn start(
    binary: &Path,
    dir: &Path,
    stand_in_v1: &str,
    variant: &Variant,
) -> Result<(GatewayProcess, PathBuf), BoxError> {
    let config = dir.join(format!("gateway-{}.toml", variant.name));
    std::fs::write(&config, config_toml(stand_in_v1))?;
    let log = dir.join(format!("gateway-{}.log", variant.name));
    let mut env = vec![
        ("DUO_CONFIG".to_owned(), config.display().to_string()),
        ("AIGW_CUSTOM_MODELS__ENABLED".to_owned(), "true".to_owned()),
    ];
    match &variant.auth {
        Auth::Oidc(url) => {
            env.push(("AIGW_AUTH__BYPASS_EXTERNAL".into(), "false".into()));
            env.push(("AIGW_GITLAB_URL".into(), url.clone()));
        }
        Auth::Bypassed => env.push(("AIGW_AUTH__BYPASS_EXTERNAL".into(), "true".into())),
    }
    let settings = GatewaySettings {
        binary: binary.to_owned(),
        max_connections: 8192,
        pool_idle_s: 90,
        log: log.clone(),
        env,
    };
    let gateway = GatewayProcess::start(&settings)
        .await
        .map_err(|e| format!("gateway {}: {e} (log: {})", variant.name, log.display()))?;
    Ok((gateway, log))
}

/// What the gateway logged: lines in all, and each distinct warning or error message with its
/// level and count.
#[derive(Debug, Clone, Default)]
pub struct LogScan {
    /// Lines in the log.
    pub lines: u64,
    /// `(level, message)` → how many lines.
    pub problems: BTreeMap<(String, String), u64>,
}

/// Reads the gateway's JSON log at `path`: `"log_level"` `warning`, `error` or `critical`
/// lines (duo-logging's names), and lines that are not JSON (a panic message, say) as `raw`.
///
/// # Errors
/// When the file cannot be read.
pub fn scan_log(path: &Path) -> std::io::Result<LogScan> {
    let mut scan = LogScan::default();
    for line in BufReader::new(std::fs::File::open(path)?).lines() {
        let line = line?;
        scan.lines += 1;
        if line.contains(r#""log_level":"info""#) || line.contains(r#""log_level":"debug""#) {
            continue;
        }
        let key = match serde_json::from_str::<Value>(&line) {
            Ok(v) => {
                let level = v.get("log_level").and_then(Value::as_str).unwrap_or("?");
                if !matches!(level, "warning" | "error" | "critical") {
                    continue;
                }
                let message = v.get("message").and_then(Value::as_str).unwrap_or("");
                (level.to_owned(), message.chars().take(200).collect())
            }
            Err(_) => ("raw".to_owned(), line.chars().take(200).collect()),
        };
        *scan.problems.entry(key).or_insert(0) += 1;
    }
    Ok(scan)
}
