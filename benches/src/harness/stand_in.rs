//! The upstream: a fixed-answer OpenAI-compatible server ([`FakeOpenAi`]) in a process of its
//! own, on a current-thread runtime. It answers `POST /v1/chat/completions` and
//! `POST /v1/completions` with [`answer_text`], as JSON, or with `"stream": true` as OpenAI SSE:
//! (for chat, a role chunk first) one `data:` event per content chunk, a `finish_reason` chunk,
//! `data: [DONE]`. It prints its base URL (`http://127.0.0.1:PORT/v1`) as its first line of
//! standard output: [`FakeOpenAi`] binds a free port itself, so there is no `--port`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use duo_testkit::openai::{FakeOpenAi, Reply};

use super::child::Guarded;
use crate::BoxError;

/// The stand-in's command line (`stand_in --help`, or `harness stand-in --help`).
#[derive(Debug, Clone, clap::Args)]
pub struct StandInArgs {
    /// Content chunks of a streamed answer.
    #[arg(long, default_value_t = 20)]
    pub chunks: usize,
    /// Milliseconds between two chunks of a streamed answer (0: all at once).
    #[arg(long, default_value_t = 0)]
    pub chunk_delay_ms: u64,
    /// Exit when standard input ends (the harness's pipe: the stand-in never outlives it).
    #[arg(long)]
    pub exit_on_stdin_eof: bool,
}

/// The answer's text: `chunks` pieces `p000 `, `p001 `, … of five characters, so that each
/// streamed chunk carries exactly one piece and the first and last can be recognised.
#[must_use]
pub fn answer_text(chunks: usize) -> String {
    (0..chunks).map(|i| format!("p{:03} ", i % 1000)).collect()
}

/// The first piece of [`answer_text`] (what "first chunk" waits for).
pub const FIRST_PIECE: &str = "p000";

/// The last piece of [`answer_text`] of `chunks` chunks.
#[must_use]
pub fn last_piece(chunks: usize) -> String {
    format!("p{:03}", chunks.saturating_sub(1) % 1000)
}

/// Serves until killed (or, with `--exit-on-stdin-eof`, until standard input ends).
///
/// # Errors
/// When the runtime cannot be built or standard output cannot be written.
pub fn serve(args: &StandInArgs) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let fake = FakeOpenAi::start().await;
        let reply = Reply::answer(answer_text(args.chunks))
            .chunks(args.chunks)
            .chunk_delay(Duration::from_millis(args.chunk_delay_ms));
        fake.set_default(reply).record_requests(false);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", fake.url())?;
        out.flush()?;
        drop(out);
        if args.exit_on_stdin_eof {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                let _ = tx.send(());
            });
            let _ = rx.await;
        } else {
            std::future::pending::<()>().await;
        }
        drop(fake);
        Ok(())
    })
}

/// A running stand-in child; killed when dropped.
#[derive(Debug)]
pub struct StandIn {
    child: Guarded,
    /// Its base URL, `http://127.0.0.1:PORT/v1`.
    pub url: String,
    /// Its address (for nginx's `upstream`).
    pub addr: SocketAddr,
}

impl StandIn {
    /// Starts `program` with `prefix` (e.g. the `stand-in` subcommand of the harness) and the
    /// stand-in's flags, and reads its URL (within 10 s).
    ///
    /// # Errors
    /// When it cannot be started, exits, or prints no URL of the expected shape.
    pub fn start(program: &Path, prefix: &[&str], args: &StandInArgs) -> Result<Self, BoxError> {
        let mut command = Command::new(program);
        command
            .args(prefix)
            .args(["--chunks", &args.chunks.to_string()])
            .args(["--chunk-delay-ms", &args.chunk_delay_ms.to_string()])
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let name = format!("the stand-in ({} ms between chunks)", args.chunk_delay_ms);
        let spawned = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let mut child = Guarded::new(spawned, name);
        let stdout = child
            .take_stdout()
            .ok_or_else(|| format!("{}: no stdout pipe", child.name))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = tx.send(reader.read_line(&mut line).map(|_| line));
            // Keep reading so that the child never blocks on a full pipe.
            let _ = std::io::copy(&mut reader.take(u64::MAX), &mut std::io::sink());
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| format!("{} printed no URL within 10 s", child.name))??;
        let url = line.trim().to_owned();
        let addr = url
            .strip_prefix("http://")
            .and_then(|rest| rest.strip_suffix("/v1"))
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .ok_or_else(|| format!("{} printed {url:?}, not http://ADDR/v1", child.name))?;
        Ok(Self { child, url, addr })
    }

    /// The child's process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_answer_is_one_piece_per_chunk() {
        let text = super::answer_text(20);
        assert_eq!(text.len(), 100);
        assert!(text.starts_with(super::FIRST_PIECE));
        assert!(text.ends_with(&format!("{} ", super::last_piece(20))));
    }
}
