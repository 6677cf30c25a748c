//! A real forward proxy on loopback: [`Tinyproxy`] runs Debian's `tinyproxy` (plain `http://`
//! requests forwarded in absolute form, `https://` through `CONNECT`) with a config of its own,
//! and reads back from its log which requests it was asked to forward.
//!
//! `tinyproxy` must be installed (`apt-get install tinyproxy`); `.ci/run` installs it. Starting
//! without it panics with that instruction, so a test that needs a proxy fails rather than
//! passing without one.
// A test kit that cannot write a temporary file or bind loopback cannot run any test: those
// failures panic with what failed.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `tinyproxy`, stopped on drop.
pub struct Tinyproxy {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    credentials: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    /// Starts a proxy on a free loopback port that forwards for anyone on loopback.
    ///
    /// # Panics
    /// When `tinyproxy` is not installed or does not start listening within 10 seconds.
    #[must_use]
    pub fn start() -> Self {
        Self::spawn(None)
    }

    /// Starts a proxy that asks for `Proxy-Authorization: Basic` with these credentials.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_with_basic_auth(user: &str, password: &str) -> Self {
        Self::spawn(Some((user.to_owned(), password.to_owned())))
    }

    fn spawn(credentials: Option<(String, String)>) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for tinyproxy");
        let port = free_port();
        let log = dir.path().join("tinyproxy.log");
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nAllow 127.0.0.1\n\
             LogLevel Info\nLogFile \"{}\"\n",
            log.display()
        );
        if let Some((user, password)) = &credentials {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let conf_path = dir.path().join("tinyproxy.conf");
        std::fs::File::create(&conf_path)
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .expect("writing tinyproxy.conf");
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start tinyproxy ({e}): the forward-proxy tests need it \
                     (apt-get install tinyproxy)"
                )
            });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut proxy = Self {
            child,
            addr,
            log,
            credentials,
            _dir: dir,
        };
        proxy.wait_until_listening();
        proxy
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(self.addr).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "tinyproxy exited at start ({status}); its log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "tinyproxy did not listen on {} within 10 s",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The proxy's URL, `http://127.0.0.1:<port>`, with the credentials when it asks for them.
    #[must_use]
    pub fn url(&self) -> String {
        match &self.credentials {
            Some((user, password)) => format!("http://{user}:{password}@{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    /// The proxy's URL without credentials.
    #[must_use]
    pub fn url_without_credentials(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request lines the proxy was asked to forward, in order: `GET http://host:port/path
    /// HTTP/1.1` or `CONNECT host:port HTTP/1.1` (including ones it refused, e.g. for missing
    /// credentials).
    #[must_use]
    pub fn requests(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter_map(|line| line.split_once("]: Request (file descriptor "))
            .filter_map(|(_, rest)| rest.split_once("): "))
            .map(|(_, request)| request.trim().to_owned())
            .collect()
    }

    /// The proxy's whole log, for failure messages.
    #[must_use]
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
