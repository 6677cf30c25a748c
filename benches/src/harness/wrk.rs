//! The load generator: `wrk` with a Lua script (written to the temp dir) that POSTs a fixed JSON
//! body with fixed headers over kept-alive connections and, in `done`, prints one JSON line:
//! requests, duration, errors by kind, latency percentiles in µs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::child::Guarded;
use crate::BoxError;

/// Threads and connections of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// `-t`.
    pub threads: u32,
    /// `-c`.
    pub connections: u32,
}

/// `-t1 -c1`: latency.
pub const C1: Load = Load {
    threads: 1,
    connections: 1,
};
/// `-t1 -c32`: throughput.
pub const C32: Load = Load {
    threads: 1,
    connections: 32,
};
/// `-t2 -c256`: throughput with many connections.
pub const C256: Load = Load {
    threads: 2,
    connections: 256,
};

/// What every request of a run is.
#[derive(Debug, Clone)]
pub struct Request {
    /// The URL.
    pub url: String,
    /// The JSON body.
    pub body: String,
    /// Headers besides `Content-Type: application/json`.
    pub headers: Vec<(String, String)>,
}

/// Errors wrk counted, by kind (`status`: responses with a status of 400 or more).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Errors {
    /// Connections that failed to open.
    pub connect: u64,
    /// Failed reads.
    pub read: u64,
    /// Failed writes.
    pub write: u64,
    /// Non-2xx/3xx responses.
    pub status: u64,
    /// Requests over wrk's `--timeout`.
    pub timeout: u64,
}

impl Errors {
    /// All of them.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.status + self.timeout
    }
}

impl std::fmt::Display for Errors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connect {} read {} write {} status {} timeout {}",
            self.connect, self.read, self.write, self.status, self.timeout
        )
    }
}

/// One run's outcome.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Responses completed.
    pub requests: u64,
    /// The run's length, in µs.
    pub duration_us: u64,
    /// Errors by kind.
    pub errors: Errors,
    /// Latency percentiles p50, p90, p99, p99.9, in µs.
    pub p50: f64,
    /// p90.
    pub p90: f64,
    /// p99.
    pub p99: f64,
    /// p99.9.
    pub p999: f64,
}

impl Outcome {
    /// Completed requests per second.
    #[must_use]
    pub fn per_second(&self) -> f64 {
        if self.duration_us == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let rate = self.requests as f64 * 1e6 / self.duration_us as f64;
        rate
    }
}

/// The marker before the JSON line the script prints.
const MARKER: &str = "HARNESS_JSON ";

/// The Lua script for `request`.
///
/// # Errors
/// When the body or a header holds `]==]`, which would end the Lua long string.
pub fn script(request: &Request) -> Result<String, BoxError> {
    let quote = |s: &str| -> Result<String, BoxError> {
        if s.contains("]==]") {
            return Err(format!("cannot quote {s:?} in Lua").into());
        }
        Ok(format!("[==[{s}]==]"))
    };
    let mut lua = format!(
        "wrk.method = \"POST\"\nwrk.body = {}\n",
        quote(&request.body)?
    );
    lua.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
    for (name, value) in &request.headers {
        // A space after `[`: `[[` would open a long string.
        lua.push_str(&format!(
            "wrk.headers[ {} ] = {}\n",
            quote(name)?,
            quote(value)?
        ));
    }
    lua.push_str(&format!(
        r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{MARKER}{{"requests":%.0f,"duration_us":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
"#
    ));
    Ok(lua)
}

/// Parses the line `done` printed from wrk's standard output.
///
/// # Errors
/// When there is no such line or a field is missing.
pub fn parse(stdout: &str) -> Result<Outcome, BoxError> {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(MARKER))
        .ok_or("wrk printed no result line (the Lua `done` did not run)")?;
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("wrk's result line {line:?}: {e}"))?;
    let field = |name: &str| -> Result<f64, BoxError> {
        value
            .get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("wrk's result line has no {name}: {line}").into())
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // whole, non-negative counts
    let count = |name: &str| field(name).map(|v| v as u64);
    Ok(Outcome {
        requests: count("requests")?,
        duration_us: count("duration_us")?,
        errors: Errors {
            connect: count("connect")?,
            read: count("read")?,
            write: count("write")?,
            status: count("status")?,
            timeout: count("timeout")?,
        },
        p50: field("p50")?,
        p90: field("p90")?,
        p99: field("p99")?,
        p999: field("p999")?,
    })
}

/// Runs `wrk` on `request` with `load` for `seconds`; the script and output go to
/// `dir/wrk-<name>.*`. Blocks: call it from a blocking task.
///
/// # Errors
/// When wrk cannot be started, fails, or prints no result.
pub fn run(
    wrk: &Path,
    dir: &Path,
    name: &str,
    request: &Request,
    load: Load,
    seconds: u64,
) -> Result<Outcome, BoxError> {
    let script_path: PathBuf = dir.join(format!("wrk-{name}.lua"));
    std::fs::write(&script_path, script(request)?)?;
    let out_path = dir.join(format!("wrk-{name}.out"));
    let spawned = Command::new(wrk)
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "5s", "-s"])
        .arg(&script_path)
        .arg(&request.url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", wrk.display()))?;
    let mut child = Guarded::new(spawned, format!("wrk {name}"));
    let status = child.wait()?;
    let stdout = std::fs::read_to_string(&out_path)?;
    if !status.success() {
        return Err(format!("wrk {name} exited with {status}: {}", stdout.trim()).into());
    }
    parse(&stdout).map_err(|e| format!("wrk {name}: {e}; its output: {}", stdout.trim()).into())
}

#[cfg(test)]
mod tests {
    use super::{MARKER, Request, parse, script};

    #[test]
    fn the_result_line_is_parsed_and_a_missing_one_is_an_error() {
        let out = format!(
            "Running 1s test\n{MARKER}{{\"requests\":10,\"duration_us\":1000000,\"connect\":0,\"read\":1,\"write\":0,\"status\":2,\"timeout\":0,\"p50\":100,\"p90\":150,\"p99\":200,\"p999\":300}}\n"
        );
        let o = parse(&out).unwrap_or_default();
        assert_eq!((o.requests, o.errors.total(), o.p99), (10, 3, 200.0));
        assert!((o.per_second() - 10.0).abs() < 1e-9);
        assert!(parse("Running 1s test\n").is_err());
        assert!(parse(&format!("{MARKER}{{\"requests\":1}}")).is_err());
    }

    #[test]
    fn the_script_quotes_body_and_headers() {
        let r = Request {
            url: "http://x/".into(),
            body: r#"{"a":"b"}"#.into(),
            headers: vec![("Authorization".into(), "Bearer k".into())],
        };
        let lua = script(&r).unwrap_or_default();
        assert!(lua.contains(r#"wrk.body = [==[{"a":"b"}]==]"#));
        assert!(lua.contains("wrk.headers[ [==[Authorization]==] ] = [==[Bearer k]==]"));
        let bad = Request {
            body: "]==]".into(),
            ..r
        };
        assert!(script(&bad).is_err());
    }
}
