//! [`ServerConfig`]: the `[fastapi]` section: listeners, body size, client timeouts, the
//! connection cap (derived from the open-file limit when unset) and TLS on the API listener
//! ([`TlsConfig`], `[fastapi.tls]`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Where and how the gateway listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// API listen address (`AIGW_FASTAPI__API_HOST`).
    pub api_host: String,
    /// API port (`AIGW_FASTAPI__API_PORT`), 5052 as in GitLab's self-hosted image.
    pub api_port: u16,
    /// Prometheus metrics listen address (`AIGW_FASTAPI__METRICS_HOST`).
    pub metrics_host: String,
    /// Prometheus metrics port (`AIGW_FASTAPI__METRICS_PORT`); 0 disables the metrics listener.
    pub metrics_port: u16,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// On SIGTERM/SIGINT, how long running streams may take to finish, in seconds.
    pub shutdown_grace_s: u64,
    /// How long a client may take to send a request's headers, in seconds (from accepting the
    /// connection, or from the first byte of a later request on a kept-alive one).
    pub header_read_timeout_s: f64,
    /// How long a client may take to send a request's whole body, in seconds; over it: 408.
    pub body_read_timeout_s: f64,
    /// How long a kept-alive connection may sit idle between requests, in seconds.
    pub keep_alive_timeout_s: f64,
    /// Most client connections served at once; above it the listener stops accepting until one
    /// closes. Unset: half the process's open-file limit, at most 10 000.
    pub max_connections: Option<usize>,
    /// TLS on the API listener (`[fastapi.tls]`, `AIGW_FASTAPI__TLS__*`).
    pub tls: TlsConfig,
}

/// `[fastapi.tls]`: TLS on the API listener, named as in GitLab's gateway; the metrics listener
/// stays plain HTTP.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Serve the API over TLS (`AIGW_FASTAPI__TLS__ENABLED`).
    pub enabled: bool,
    /// The certificate chain, PEM, the server's certificate first (`AIGW_FASTAPI__TLS__CERT_FILE`).
    pub cert_file: Option<PathBuf>,
    /// The private key, PEM: PKCS#8, PKCS#1 RSA or SEC1 EC (`AIGW_FASTAPI__TLS__KEY_FILE`).
    pub key_file: Option<PathBuf>,
    /// GitLab's OpenSSL cipher string (`AIGW_FASTAPI__TLS__SSL_CIPHERS`): accepted and ignored;
    /// rustls offers its own safe suites of TLS 1.2 and 1.3.
    pub ssl_ciphers: Option<String>,
    /// How often the two files are checked for a change (modification time, size), in seconds;
    /// 0 disables reloading.
    pub reload_interval_s: f64,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            cert_file: None,
            key_file: None,
            ssl_ciphers: None,
            reload_interval_s: 10.0,
        }
    }
}

impl TlsConfig {
    /// The certificate and key files when TLS is enabled and both are set.
    #[must_use]
    pub fn files(&self) -> Option<(&Path, &Path)> {
        if !self.enabled {
            return None;
        }
        Some((
            set(self.cert_file.as_deref())?,
            set(self.key_file.as_deref())?,
        ))
    }

    /// How often the files are checked for a change; `None` when reloading is off.
    #[must_use]
    pub fn reload_interval(&self) -> Option<Duration> {
        (self.reload_interval_s > 0.0).then(|| secs(self.reload_interval_s))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let value = self.reload_interval_s;
        if !(0.0..=86_400.0).contains(&value) {
            return Err(ConfigError(format!(
                "fastapi.tls.reload_interval_s must be a number of seconds from 0 (no reload) to 86400, not {value}"
            )));
        }
        if self.enabled {
            for (key, file) in [("cert_file", &self.cert_file), ("key_file", &self.key_file)] {
                if set(file.as_deref()).is_none() {
                    return Err(ConfigError(format!(
                        "fastapi.tls.{key} must be set when fastapi.tls.enabled is true (AIGW_FASTAPI__TLS__{})",
                        key.to_ascii_uppercase()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// `path` unless it is empty (an empty variable counts as unset).
fn set(path: Option<&Path>) -> Option<&Path> {
    path.filter(|p| !p.as_os_str().is_empty())
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            api_host: "0.0.0.0".into(),
            api_port: 5052,
            metrics_host: "0.0.0.0".into(),
            metrics_port: 8082,
            body_limit_bytes: 4 * 1024 * 1024,
            shutdown_grace_s: 30,
            header_read_timeout_s: 10.0,
            body_read_timeout_s: 30.0,
            keep_alive_timeout_s: 75.0,
            max_connections: None,
            tls: TlsConfig::default(),
        }
    }
}

impl ServerConfig {
    /// How long a client may take to send a request's headers.
    #[must_use]
    pub fn header_read_timeout(&self) -> Duration {
        secs(self.header_read_timeout_s)
    }

    /// How long a client may take to send a request's body.
    #[must_use]
    pub fn body_read_timeout(&self) -> Duration {
        secs(self.body_read_timeout_s)
    }

    /// How long a kept-alive connection may sit idle.
    #[must_use]
    pub fn keep_alive_timeout(&self) -> Duration {
        secs(self.keep_alive_timeout_s)
    }

    /// The connection cap: `max_connections`, or derived from the open-file limit.
    #[must_use]
    pub fn connection_cap(&self) -> usize {
        self.max_connections
            .unwrap_or_else(|| derived_connection_cap(open_file_limit()))
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("header_read_timeout_s", self.header_read_timeout_s),
            ("body_read_timeout_s", self.body_read_timeout_s),
            ("keep_alive_timeout_s", self.keep_alive_timeout_s),
        ] {
            // At most a day: a bound, and a value `Duration` can hold.
            if !(value > 0.0 && value <= 86_400.0) {
                return Err(ConfigError(format!(
                    "fastapi.{key} must be a number of seconds above 0 and at most 86400, not {value}"
                )));
            }
        }
        if let Some(n) = self.max_connections
            && !(1..=1_000_000).contains(&n)
        {
            return Err(ConfigError(format!(
                "fastapi.max_connections must be between 1 and 1000000, not {n}"
            )));
        }
        self.tls.validate()
    }
}

/// Seconds (validated to be positive and finite) as a [`Duration`].
fn secs(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::from_secs(1))
}

/// The most connections served when `fastapi.max_connections` is unset.
const MAX_DERIVED_CONNECTIONS: usize = 10_000;
/// Descriptors kept back for the listeners, logs, prompt files and DNS.
const RESERVED_FDS: u64 = 64;

/// Half of what the open-file limit leaves after a reserve (every client request may hold one
/// upstream connection), at most [`MAX_DERIVED_CONNECTIONS`] and at least 16.
fn derived_connection_cap(open_files: Option<u64>) -> usize {
    let Some(limit) = open_files else {
        return 1024;
    };
    let half = limit.saturating_sub(RESERVED_FDS) / 2;
    usize::try_from(half)
        .unwrap_or(usize::MAX)
        .clamp(16, MAX_DERIVED_CONNECTIONS)
}

/// The soft open-file limit of this process (Linux: `/proc/self/limits`); `None` where it
/// cannot be read.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    match line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
    {
        "unlimited" => Some(u64::MAX),
        soft => soft.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_limits_have_production_defaults_and_env_overrides() {
        let c = super::super::tests::load_with("", &[]).unwrap();
        assert_eq!(c.fastapi.header_read_timeout(), Duration::from_secs(10));
        assert_eq!(c.fastapi.body_read_timeout(), Duration::from_secs(30));
        assert_eq!(c.fastapi.keep_alive_timeout(), Duration::from_secs(75));
        assert!((16..=10_000).contains(&c.fastapi.connection_cap()));
        let c = super::super::tests::load_with(
            "[fastapi]\nkeep_alive_timeout_s = 60\n",
            &[
                ("AIGW_FASTAPI__HEADER_READ_TIMEOUT_S", "0.5"),
                ("AIGW_FASTAPI__MAX_CONNECTIONS", "100"),
            ],
        )
        .unwrap();
        assert_eq!(c.fastapi.header_read_timeout(), Duration::from_millis(500));
        assert_eq!(c.fastapi.keep_alive_timeout(), Duration::from_secs(60));
        assert_eq!(c.fastapi.connection_cap(), 100);
        c.validate().unwrap();
        let c =
            super::super::tests::load_with("[fastapi]\nbody_read_timeout_s = 0\n", &[]).unwrap();
        let err = c.validate().unwrap_err();
        assert!(
            err.to_string().contains("fastapi.body_read_timeout_s"),
            "{err}"
        );
        let c = super::super::tests::load_with("[fastapi]\nmax_connections = 0\n", &[]).unwrap();
        assert!(c.validate().is_err());
        let c = super::super::tests::load_with("[fastapi]\nmax_connections = 2000000000\n", &[])
            .unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn the_derived_cap_leaves_room_for_upstream_connections() {
        assert_eq!(derived_connection_cap(Some(1024)), 480);
        assert_eq!(derived_connection_cap(Some(1_048_576)), 10_000);
        assert_eq!(derived_connection_cap(Some(10)), 16);
        assert_eq!(derived_connection_cap(None), 1024);
    }
}
