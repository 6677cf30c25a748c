//! What Linux's `/proc` tells about a process: open descriptors, resident memory, the open-file
//! limit; and raising this process's own limit (children inherit it).

use std::io;

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// A process's descriptors and memory at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcStats {
    /// Entries in `/proc/<pid>/fd`.
    pub fds: u64,
    /// `VmRSS` of `/proc/<pid>/status`, in KiB.
    pub rss_kb: u64,
    /// `Threads` of `/proc/<pid>/status`.
    pub threads: u64,
}

/// Reads `pid`'s stats (`"self"` for this process).
///
/// # Errors
/// When the process is gone or `/proc` cannot be read.
pub fn stats(pid: &str) -> io::Result<ProcStats> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(ProcStats {
        fds: u64::try_from(fds).unwrap_or(u64::MAX),
        rss_kb: status_field(&status, "VmRSS:").unwrap_or(0),
        threads: status_field(&status, "Threads:").unwrap_or(0),
    })
}

/// `VmRSS` of `pid` (`"self"` for this process), in KiB.
///
/// # Errors
/// When the process is gone, `/proc` cannot be read or has no `VmRSS` line.
pub fn rss_kb(pid: &str) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status_field(&status, "VmRSS:")
        .ok_or_else(|| io::Error::other(format!("no VmRSS in /proc/{pid}/status")))
}

/// The number after `name` in a `/proc/<pid>/status` text.
fn status_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Raises this process's soft open-file limit to at least `want` (at most the hard limit) and
/// returns the soft limit now in force.
///
/// # Errors
/// When the kernel refuses the new limit.
pub fn raise_nofile(want: u64) -> io::Result<u64> {
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= want {
        return Ok(current);
    }
    let target = limit.maximum.map_or(want, |max| want.min(max));
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(target),
            maximum: limit.maximum,
        },
    )?;
    Ok(target)
}
