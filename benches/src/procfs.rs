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

/// `utime + stime` of `pid` (`"self"` for this process) from `/proc/<pid>/stat`, in clock ticks
/// (see [`clock_ticks_per_second`]).
///
/// # Errors
/// When the process is gone or its `stat` line cannot be parsed (the error names the file).
pub fn cpu_ticks(pid: &str) -> io::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path)?;
    let fields = stat_fields(&stat).ok_or_else(|| bad_stat(&path))?;
    // After `pid (comm)`: field 3 is index 0, utime (field 14) index 11, stime (15) index 12.
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (tick(11), tick(12)) {
        (Some(utime), Some(stime)) => Ok(utime + stime),
        _ => Err(bad_stat(&path)),
    }
}

/// The fields of a `/proc/<pid>/stat` line after `pid (comm)` (a `comm` may hold spaces and
/// parentheses: everything up to the last `)` is skipped).
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

fn bad_stat(path: &str) -> io::Error {
    io::Error::other(format!("{path}: no utime/stime fields"))
}

/// The kernel's clock ticks per second (`USER_HZ`), the unit of [`cpu_ticks`].
#[must_use]
pub fn clock_ticks_per_second() -> u64 {
    rustix::param::clock_ticks_per_second()
}

/// The processes whose parent is `pid` (from every `/proc/<n>/stat`; processes that exit
/// meanwhile are skipped).
///
/// # Errors
/// When `/proc` cannot be listed.
pub fn children(pid: u32) -> io::Result<Vec<u32>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(child) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        let ppid = stat_fields(&stat).and_then(|f| f.get(1).and_then(|p| p.parse::<u32>().ok()));
        if ppid == Some(pid) {
            found.push(child);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stat_fields_skip_a_comm_with_spaces_and_parentheses() {
        let line = "42 (tokio (x) y) S 7 42 42 0 -1 4194560 1 0 0 0 15 3 0 0 20 0 4 0 1 2 3";
        let fields = super::stat_fields(line).unwrap_or_default();
        assert_eq!(fields.first(), Some(&"S"));
        assert_eq!(
            (fields.get(1), fields.get(11), fields.get(12)),
            (Some(&"7"), Some(&"15"), Some(&"3"))
        );
    }

    #[test]
    fn this_process_has_cpu_ticks_and_a_tick_rate() {
        assert!(super::cpu_ticks("self").is_ok());
        assert!(super::clock_ticks_per_second() > 0);
    }
}
