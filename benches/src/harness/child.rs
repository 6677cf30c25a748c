//! A child process that is killed when dropped, and waiting for a loopback port to accept.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use crate::BoxError;

/// A child process, killed (and reaped) when dropped.
#[derive(Debug)]
pub struct Guarded {
    child: Child,
    /// What the child is, for error messages.
    pub name: String,
}

impl Guarded {
    /// Guards `child`, called `name` in errors.
    #[must_use]
    pub fn new(child: Child, name: impl Into<String>) -> Self {
        Self {
            child,
            name: name.into(),
        }
    }

    /// The child's process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status if it has exited.
    ///
    /// # Errors
    /// When the status cannot be read.
    pub fn exited(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits for it to exit.
    ///
    /// # Errors
    /// When waiting fails.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait()
    }

    /// Its standard output pipe, if it was piped and not taken yet.
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits up to `within` until `addr` accepts a TCP connection, failing early when `child` exits.
///
/// # Errors
/// When the child exits first or the port does not accept in time.
pub fn wait_accepting(
    child: &mut Guarded,
    addr: SocketAddr,
    within: Duration,
) -> Result<(), BoxError> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.exited()? {
            return Err(format!("{} exited at start: {status}", child.name).into());
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(
                format!("{} did not accept on {addr} within {within:?}", child.name).into(),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
