//! The floor: nginx as a do-nothing reverse proxy in front of the stand-in (2 workers, a
//! keep-alive upstream pool, no buffering so that streams pass through as they arrive), with
//! its configuration, pid file, logs and temp paths in the harness's temp directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use super::child::{Guarded, wait_accepting};
use crate::procfs;
use crate::{BoxError, soak::gateway::free_port};

/// A running nginx master (its workers are its children); stopped when dropped: SIGTERM to the
/// master (which stops its workers), after 5 s SIGKILL to master and workers — killing only the
/// master would leave the workers running.
#[derive(Debug)]
pub struct Nginx {
    master: Guarded,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its error log.
    pub error_log: PathBuf,
}

/// nginx's configuration: `daemon off`, `master_process on`, everything in `dir`; `/` proxied
/// to `upstream`, `/slow/…` to `slow` (the prefix removed).
#[must_use]
pub fn config(dir: &Path, port: u16, upstream: SocketAddr, slow: SocketAddr) -> String {
    let d = dir.display();
    format!(
        r#"worker_processes 2;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
worker_rlimit_nofile 16384;
events {{
    worker_connections 8192;
}}
http {{
    access_log off;
    client_body_temp_path {d}/nginx-client-body;
    proxy_temp_path {d}/nginx-proxy;
    fastcgi_temp_path {d}/nginx-fastcgi;
    uwsgi_temp_path {d}/nginx-uwsgi;
    scgi_temp_path {d}/nginx-scgi;
    keepalive_timeout 75s;
    keepalive_requests 10000000;
    upstream stand_in {{
        server {upstream};
        keepalive 64;
        keepalive_requests 10000000;
    }}
    upstream slow_stand_in {{
        server {slow};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://stand_in;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 300s;
        }}
        location /slow/ {{
            proxy_pass http://slow_stand_in/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 300s;
        }}
    }}
}}
"#
    )
}

impl Nginx {
    /// Writes the configuration into `dir` and starts `binary` on a free loopback port in front
    /// of `upstream` (and `slow` under `/slow/`); waits up to 10 s for it to accept.
    ///
    /// # Errors
    /// When it cannot be started or exits at start (the error log's text is in the error).
    pub fn start(
        binary: &Path,
        dir: &Path,
        upstream: SocketAddr,
        slow: SocketAddr,
    ) -> Result<Self, BoxError> {
        let port = free_port()?;
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(dir, port, upstream, slow))?;
        let error_log = dir.join("nginx-error.log");
        let spawned = Command::new(binary)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&error_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut master = Guarded::new(spawned, "nginx");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if let Err(e) = wait_accepting(&mut master, addr, Duration::from_secs(10)) {
            let log = std::fs::read_to_string(&error_log).unwrap_or_default();
            return Err(format!("{e}; nginx error log: {}", log.trim()).into());
        }
        Ok(Self {
            master,
            base: format!("http://{addr}"),
            error_log,
        })
    }

    /// The master's and the workers' process ids.
    ///
    /// # Errors
    /// When `/proc` cannot be listed.
    pub fn pids(&self) -> Result<Vec<u32>, BoxError> {
        let mut pids = vec![self.master.pid()];
        pids.extend(procfs::children(self.master.pid())?);
        Ok(pids)
    }

    /// Resident memory of master and workers together, in KiB.
    ///
    /// # Errors
    /// When a process's status cannot be read.
    pub fn rss_kb(&self) -> Result<u64, BoxError> {
        let mut sum = 0;
        for pid in self.pids()? {
            sum += procfs::rss_kb(&pid.to_string())?;
        }
        Ok(sum)
    }

    /// CPU ticks (user + system) of master and workers together.
    ///
    /// # Errors
    /// When a process's stat cannot be read.
    pub fn cpu_ticks(&self) -> Result<u64, BoxError> {
        let mut sum = 0;
        for pid in self.pids()? {
            sum += procfs::cpu_ticks(&pid.to_string())?;
        }
        Ok(sum)
    }

    /// The `[warn]`/`[error]`/`[crit]`/`[alert]` lines nginx logged.
    #[must_use]
    pub fn logged_problems(&self) -> Vec<String> {
        std::fs::read_to_string(&self.error_log)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                ["[warn]", "[error]", "[crit]", "[alert]", "[emerg]"]
                    .iter()
                    .any(|k| l.contains(k))
            })
            .map(str::to_owned)
            .collect()
    }
}

/// Sends `signal` to `pid`, ignoring a process that is gone.
fn signal(pid: u32, signal: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process(pid, signal);
    }
}

/// Whether `pid` is still an nginx worker (and not a reused pid).
fn is_worker(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.starts_with("nginx: worker"))
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let workers = procfs::children(self.master.pid()).unwrap_or_default();
        if matches!(self.master.exited(), Ok(None)) {
            signal(self.master.pid(), Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.master.exited(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        for worker in workers {
            if is_worker(worker) {
                signal(worker, Signal::KILL);
            }
        }
        // `master` is killed, if still running, when it is dropped after this.
    }
}
