//! The gateway under test: the release `duo-gateway` binary as a child process on loopback
//! ports, configured by `AIGW_*` variables, and what can be read of it from outside: health,
//! the in-flight gauge, descriptors and memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::BoxError;
use crate::procfs::{self, ProcStats};

/// How the child is started.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// The `duo-gateway` binary.
    pub binary: PathBuf,
    /// `fastapi.max_connections`.
    pub max_connections: usize,
    /// `providers.http.pool_idle_timeout`, in seconds: idle upstream connections close after it.
    pub pool_idle_s: u64,
    /// Where its stdout and stderr (the JSON log) go.
    pub log: PathBuf,
    /// Extra environment variables, set last.
    pub env: Vec<(String, String)>,
}

/// A running `duo-gateway` child; killed when dropped.
pub struct GatewayProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`, the API.
    pub base: String,
    metrics_url: String,
    /// A client without pooling: no connection of ours stays open in the gateway.
    client: reqwest::Client,
}

/// A free loopback port (bound, read, released: the child binds it a moment later).
pub fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

impl GatewayProcess {
    /// Starts the gateway and waits up to 15 s until `/monitoring/healthz` answers 200.
    ///
    /// # Errors
    /// When the binary cannot be started, exits, or never becomes healthy.
    pub async fn start(settings: &GatewaySettings) -> Result<Self, BoxError> {
        let (api_port, metrics_port) = (free_port()?, free_port()?);
        let log = File::create(&settings.log)?;
        let mut command = Command::new(&settings.binary);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AIGW_") || key == "DUO_CONFIG" {
                command.env_remove(key);
            }
        }
        let pool_idle = format!("{}s", settings.pool_idle_s);
        let (api_port, metrics_port) = (api_port.to_string(), metrics_port.to_string());
        let max_connections = settings.max_connections.to_string();
        command
            .envs([
                ("AIGW_FASTAPI__API_HOST", "127.0.0.1"),
                ("AIGW_FASTAPI__API_PORT", &api_port),
                ("AIGW_FASTAPI__METRICS_HOST", "127.0.0.1"),
                ("AIGW_FASTAPI__METRICS_PORT", &metrics_port),
                ("AIGW_FASTAPI__MAX_CONNECTIONS", &max_connections),
                ("AIGW_CUSTOM_MODELS__ENABLED", "true"),
                ("AIGW_AUTH__BYPASS_EXTERNAL", "true"),
                ("AIGW_PROVIDERS__HTTP__POOL_IDLE_TIMEOUT", &pool_idle),
                ("AIGW_LOGGING__LEVEL", "info"),
                ("AIGW_LOGGING__FORMAT_JSON", "true"),
            ])
            .envs(settings.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", settings.binary.display()))?;
        let mut gateway = Self {
            child,
            base: format!("http://127.0.0.1:{api_port}"),
            metrics_url: format!("http://127.0.0.1:{metrics_port}/metrics"),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(10))
                .build()?,
        };
        gateway.wait_healthy(Duration::from_secs(15)).await?;
        Ok(gateway)
    }

    async fn wait_healthy(&mut self, within: Duration) -> Result<(), BoxError> {
        let deadline = Instant::now() + within;
        let url = format!("{}/monitoring/healthz", self.base);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("the gateway exited at start: {status}").into());
            }
            if let Ok(r) = self.client.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("the gateway was not healthy within {within:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The child's process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's descriptors and memory now.
    ///
    /// # Errors
    /// When the child is gone.
    pub fn stats(&self) -> io::Result<ProcStats> {
        procfs::stats(&self.pid().to_string())
    }

    /// The child's soft open-file limit, as `/proc/<pid>/limits` shows it.
    #[must_use]
    pub fn open_file_limit(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/limits", self.pid()))
            .ok()
            .and_then(|l| {
                l.lines()
                    .find_map(|l| l.strip_prefix("Max open files"))
                    .and_then(|rest| rest.split_whitespace().next().map(str::to_owned))
            })
            .unwrap_or_else(|| "?".into())
    }

    /// The sum of `model_inferences_in_flight` over all series, from the metrics listener.
    ///
    /// # Errors
    /// When the metrics listener does not answer 200.
    pub async fn in_flight(&self) -> Result<f64, BoxError> {
        let response = self.client.get(&self.metrics_url).send().await?;
        if !response.status().is_success() {
            return Err(format!("GET /metrics answered {}", response.status()).into());
        }
        Ok(in_flight_sum(&response.text().await?))
    }

    /// Sends SIGTERM and waits up to `within` for the child to exit; returns how long it took.
    ///
    /// # Errors
    /// When it does not exit in time (it is then killed) or exits unsuccessfully.
    pub async fn stop(mut self, within: Duration) -> Result<Duration, BoxError> {
        let pid = i32::try_from(self.pid())
            .ok()
            .and_then(Pid::from_raw)
            .ok_or("the child has no valid pid")?;
        let start = Instant::now();
        kill_process(pid, Signal::TERM)?;
        while start.elapsed() < within {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    return Err(format!("the gateway exited with {status} on SIGTERM").into());
                }
                return Ok(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(format!("the gateway did not exit within {within:?} of SIGTERM").into())
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The sum of the `model_inferences_in_flight` samples in a Prometheus text exposition.
fn in_flight_sum(text: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with("model_inferences_in_flight"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// What the gateway logged: lines in all, `WARN` and `ERROR` lines, the first few of those.
#[derive(Debug, Default)]
pub struct LogSummary {
    /// Lines in the log.
    pub lines: usize,
    /// `WARN` lines.
    pub warnings: usize,
    /// `ERROR` lines.
    pub errors: usize,
    /// The first few `WARN` or `ERROR` lines.
    pub samples: Vec<String>,
}

/// Reads the gateway's JSON log at `path`.
///
/// # Errors
/// When the file cannot be read.
pub fn read_log(path: &Path) -> io::Result<LogSummary> {
    let mut summary = LogSummary::default();
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        summary.lines += 1;
        // duo-logging's level names (GitLab's gateway's): warning, error, critical
        let counter = if line.contains(r#""log_level":"warning""#) {
            &mut summary.warnings
        } else if line.contains(r#""log_level":"error""#)
            || line.contains(r#""log_level":"critical""#)
        {
            &mut summary.errors
        } else {
            continue;
        };
        *counter += 1;
        if summary.samples.len() < 5 {
            summary.samples.push(line);
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    #[test]
    fn in_flight_sums_every_series_and_skips_comments() {
        let text = "# TYPE model_inferences_in_flight gauge\n\
            model_inferences_in_flight{model_engine=\"openai\",model_family=\"a\"} 2\n\
            model_inferences_in_flight{model_engine=\"openai\",model_family=\"b\"} 1\n\
            model_inferences_total{x=\"y\"} 7\n";
        assert!((super::in_flight_sum(text) - 3.0).abs() < f64::EPSILON);
    }
}
