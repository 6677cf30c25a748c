//! Documentation search at the size of GitLab's `doc/`: building the FTS5 index
//! (`duo_docs_search::IndexBuilder`) and answering Duo Chat's documentation questions from it
//! (`duo_docs_search::DocsIndex::search`), with latency percentiles.
//!
//! ```sh
//! cargo bench -p duo-benches --bench docs_search                       # 2 500 files, 5 000 queries
//! DOCS_BENCH_FILES=200 DOCS_BENCH_QUERIES=500 cargo bench -p duo-benches --bench docs_search
//! ```
//!
//! 1. Writes a synthetic corpus into a temporary directory: `DOCS_BENCH_FILES` (2 500) Markdown
//!    files of 1–60 KB (median ~4 KB, mean ~10 KB, ~25 MB in all, as GitLab's `doc/`; one in 25
//!    over 38 KB) in nested section directories (`user/project/merge_requests/…`), each with
//!    GitLab's front matter, headings, paragraphs, lists, tables, fenced code blocks, links and
//!    inline code. The words come from a deterministic generator (xorshift64*, fixed seed): a
//!    vocabulary of ~3 000 words (common English, GitLab's terms, their inflections and
//!    `snake_case` identifiers) drawn with a Zipf distribution, each page using a quarter of the
//!    content words (words come in bursts), plus its section's own topic words. Specialised terms
//!    stay mostly in their sections: "LDAP" is on ~8 % of the pages, "Kubernetes" ~18 %,
//!    "pipeline" ~50 %, "project" ~80 %.
//! 2. Builds the index, timed: files, MB, MB/s.
//! 3. Opens it with 4 connections and asks questions on a multi-thread tokio runtime with one
//!    worker per core, `page_size` 4: half from a fixed list of Duo Chat questions, half
//!    generated (2–6 words of one section's topic and the vocabulary). 200 warm-up queries, then
//!    `DOCS_BENCH_QUERIES` (5 000) one at a time, then the same queries from 4 concurrent tasks.
//!    Each latency (µs) is what `search` takes, the blocking-pool hop included.
//!
//! Printed: p50, p90, p99, p99.9, max, queries/s and the mean number of documents answered for
//! both runs, the sequential latencies by query shape, the slowest questions, and why the
//! questions that found nothing did.
//!
//! `DOCS_BENCH_DIR=<dir>` writes the corpus (`<dir>/doc/`) and the index (`<dir>/docs.db`) there
//! and keeps them, instead of in a temporary directory.
//!
//! Without `--bench` (`cargo test --benches`, `cargo test --all-targets`) it runs a smoke size
//! (60 files, 100 queries) unless the variables say otherwise.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use duo_benches::{BoxError, runtime};
use duo_docs_search::{DocsIndex, IndexBuilder, Progress};
use hdrhistogram::Histogram;

use crate::corpus::{Rng, write_corpus};
use crate::questions::{Question, questions};
use crate::vocabulary::Vocabulary;

mod corpus;
mod questions;
mod vocabulary;
mod words;

/// The generator's seed: the same corpus and questions every run.
const SEED: u64 = 0x00D0_C5EA_2C4B_E4C4;

/// Documents asked for per question, as Duo Chat asks.
const PAGE_SIZE: usize = 4;

/// Pooled connections, and tasks in the concurrent run.
const CONNECTIONS: u32 = 4;

/// Queries before measuring (SQLite's page cache, prepared statements, the blocking pool).
const WARM_UP: usize = 200;

fn main() -> Result<(), BoxError> {
    let full = std::env::args().any(|a| a == "--bench");
    let files = env_usize("DOCS_BENCH_FILES", if full { 2_500 } else { 60 })?;
    let queries = env_usize("DOCS_BENCH_QUERIES", if full { 5_000 } else { 100 })?;
    if files == 0 || queries == 0 {
        return Err("DOCS_BENCH_FILES and DOCS_BENCH_QUERIES must be at least 1".into());
    }
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    println!(
        "docs_search: {files} files, {WARM_UP} warm-up + {queries} queries, page_size {PAGE_SIZE}, \
         {CONNECTIONS} connections, {threads} runtime workers{}",
        load_average().map_or_else(String::new, |l| format!(", load average {l}"))
    );

    // DOCS_BENCH_DIR keeps the corpus and the index for a closer look (sqlite3, perf).
    let (_temp, root) = match std::env::var_os("DOCS_BENCH_DIR").map(PathBuf::from) {
        Some(root) if root.join("doc").exists() => {
            return Err(format!("{}: a doc/ is already there", root.display()).into());
        }
        Some(root) => (None, root),
        None => {
            let temp = tempfile::tempdir()?;
            let root = temp.path().to_owned();
            (Some(temp), root)
        }
    };
    let doc = root.join("doc");
    let mut rng = Rng::new(SEED);
    let vocabulary = Vocabulary::new(&mut rng);
    let started = Instant::now();
    let corpus = write_corpus(&doc, files, &vocabulary, &mut rng)?;
    println!(
        "corpus: {} files in {} directories, {:.1} MB (smallest {:.1} KB, largest {:.1} KB), \
         vocabulary {} words, written in {:.2} s",
        corpus.files,
        corpus.directories,
        mb(corpus.bytes),
        kb(corpus.smallest),
        kb(corpus.largest),
        vocabulary.words.len(),
        started.elapsed().as_secs_f64()
    );

    let output = root.join("docs.db");
    let mut skipped = 0_usize;
    let summary = IndexBuilder::new(&doc, &output)
        .overwrite(true)
        .build(|progress| {
            if let Progress::Skipped(_) = progress {
                skipped += 1;
            }
        })?;
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "index: {} files, {:.1} MB in {secs:.2} s = {:.2} MB/s ({:.0} files/s, {skipped} skipped); \
         docs.db {:.1} MB",
        summary.files,
        mb(summary.bytes),
        mb(summary.bytes) / secs,
        count(summary.files) / secs,
        mb(std::fs::metadata(&output)?.len())
    );

    let index = DocsIndex::open(&output, CONNECTIONS)?;
    let questions = questions(WARM_UP + queries, &vocabulary, &mut rng);
    let (warm, measured) = questions.split_at(WARM_UP.min(questions.len()));
    let rt = runtime("docs-bench", threads)?;
    rt.block_on(async {
        for q in warm {
            index.search(&q.text, PAGE_SIZE).await?;
        }
        let sequential = sequential(&index, measured).await?;
        let concurrent = concurrent(&index, measured).await?;
        report(&sequential, &concurrent, measured)?;
        empty_answers(&index, &sequential, measured).await
    })
}

/// Why questions found nothing: no document has all their words, or every one that matches is
/// over the token budget (asked again without a budget, untimed). Lists the fixed questions among
/// them.
async fn empty_answers(
    index: &DocsIndex,
    sequential: &Run,
    questions: &[Question],
) -> Result<(), BoxError> {
    let unlimited = index.clone().with_token_budget(usize::MAX);
    let (mut unmatched, mut over_budget) = (0_usize, 0_usize);
    let mut fixed = BTreeMap::new();
    for (q, a) in questions.iter().zip(&sequential.answers) {
        if a.results > 0 {
            continue;
        }
        if unlimited.search(&q.text, PAGE_SIZE).await?.is_empty() {
            unmatched += 1;
        } else {
            over_budget += 1;
        }
        if q.fixed {
            *fixed.entry(q.text.as_str()).or_insert(0_usize) += 1;
        }
    }
    println!(
        "
empty answers: {unmatched} with no document matching every word, {over_budget} whose \
         every matching document is over the {}-token budget",
        duo_docs_search::TOKEN_BUDGET
    );
    for (text, n) in fixed {
        println!("  fixed question answered nothing {n}×: {text}");
    }
    Ok(())
}

/// Documents per question and latency (µs) of one question, in the order asked.
struct Answer {
    results: usize,
    micros: u64,
}

/// One run's latencies, wall time and this process's CPU time.
struct Run {
    name: &'static str,
    answers: Vec<Answer>,
    histogram: Histogram<u64>,
    wall: Duration,
    cpu: Option<Duration>,
}

fn histogram() -> Result<Histogram<u64>, BoxError> {
    Ok(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?)
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

/// The questions one at a time.
async fn sequential(index: &DocsIndex, questions: &[Question]) -> Result<Run, BoxError> {
    let mut histogram = histogram()?;
    let mut answers = Vec::with_capacity(questions.len());
    let cpu = cpu_time();
    let started = Instant::now();
    for q in questions {
        let asked = Instant::now();
        let results = index.search(&q.text, PAGE_SIZE).await?.len();
        let micros = micros(asked.elapsed());
        histogram.record(micros)?;
        answers.push(Answer { results, micros });
    }
    Ok(Run {
        name: "sequential",
        answers,
        histogram,
        wall: started.elapsed(),
        cpu: cpu_since(cpu),
    })
}

/// The same questions from [`CONNECTIONS`] tasks, each taking the next unasked one.
async fn concurrent(index: &DocsIndex, questions: &[Question]) -> Result<Run, BoxError> {
    let questions: Arc<Vec<String>> = Arc::new(questions.iter().map(|q| q.text.clone()).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = cpu_time();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (index, questions, next) = (index.clone(), Arc::clone(&questions), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(question) = questions.get(i) else {
                    break;
                };
                let asked = Instant::now();
                let results = index.search(question, PAGE_SIZE).await?.len();
                answers.push((
                    i,
                    Answer {
                        results,
                        micros: micros(asked.elapsed()),
                    },
                ));
            }
            Ok::<_, BoxError>(answers)
        }));
    }
    let mut all = Vec::with_capacity(questions.len());
    for task in tasks {
        all.extend(task.await??);
    }
    let wall = started.elapsed();
    let cpu = cpu_since(cpu);
    all.sort_by_key(|(i, _)| *i);
    let mut histogram = histogram()?;
    for (_, a) in &all {
        histogram.record(a.micros)?;
    }
    Ok(Run {
        name: "4 concurrent tasks",
        answers: all.into_iter().map(|(_, a)| a).collect(),
        histogram,
        wall,
        cpu,
    })
}

fn report(sequential: &Run, concurrent: &Run, questions: &[Question]) -> Result<(), BoxError> {
    println!(
        "\n{:<20} {:>7} {:>7} {:>7} {:>7} {:>8} {:>10} {:>8} {:>9} {:>7}",
        "latency (µs)",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "queries/s",
        "CPU/q",
        "results",
        "empty"
    );
    for run in [sequential, concurrent] {
        let h = &run.histogram;
        let n = run.answers.len();
        let results: usize = run.answers.iter().map(|a| a.results).sum();
        let empty = run.answers.iter().filter(|a| a.results == 0).count();
        println!(
            "{:<20} {:>7} {:>7} {:>7} {:>7} {:>8} {:>10.0} {:>8} {:>9.2} {:>6.1}%",
            run.name,
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
            count(n) / run.wall.as_secs_f64(),
            run.cpu.map_or_else(
                || "?".to_owned(),
                |cpu| (cpu.as_micros() / n.max(1) as u128).to_string()
            ),
            count(results) / count(n),
            100.0 * count(empty) / count(n),
        );
    }

    println!(
        "CPU/q: this process's CPU time (user + system, µs) per query; a latency far above it \
         was spent waiting for a core (load average now {})",
        load_average().unwrap_or_else(|| "?".to_owned())
    );

    // What the sequential latencies are made of: by kind of question and by words searched.
    let mut shapes: BTreeMap<String, (Histogram<u64>, usize, usize)> = BTreeMap::new();
    for (q, a) in questions.iter().zip(&sequential.answers) {
        let entry = match shapes.entry(q.shape()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert((histogram()?, 0, 0)),
        };
        entry.0.record(a.micros)?;
        entry.1 += 1;
        entry.2 += a.results;
    }
    println!(
        "\n{:<38} {:>6} {:>7} {:>7} {:>7} {:>8} {:>8}",
        "sequential, by shape (µs)", "count", "p50", "p90", "p99", "max", "results"
    );
    for (shape, (h, n, results)) in &shapes {
        println!(
            "{shape:<38} {n:>6} {:>7} {:>7} {:>7} {:>8} {:>8.2}",
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.max(),
            count(*results) / count(*n),
        );
    }

    // The slowest distinct questions of the sequential run.
    let mut slowest: Vec<(u64, usize, &str)> = questions
        .iter()
        .zip(&sequential.answers)
        .map(|(q, a)| (a.micros, a.results, q.text.as_str()))
        .collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut seen = HashSet::new();
    println!("\nslowest questions (sequential): µs, documents, question");
    for (micros, results, text) in slowest.into_iter().filter(|s| seen.insert(s.2)).take(12) {
        println!("{micros:>8} {results:>3}  {text}");
    }
    Ok(())
}

fn env_usize(name: &str, default: usize) -> Result<usize, BoxError> {
    match std::env::var(name) {
        Ok(v) => Ok(v
            .trim()
            .replace('_', "")
            .parse()
            .map_err(|e| format!("{name}={v}: {e}"))?),
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(e) => Err(format!("{name}: {e}").into()),
    }
}

/// This process's user + system CPU time (`/proc/self/stat`, in Linux's 100 ticks a second).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, fields) = stat.rsplit_once(')')?;
    let mut fields = fields.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

fn cpu_since(start: Option<Duration>) -> Option<Duration> {
    cpu_time()?.checked_sub(start?)
}

fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[allow(clippy::cast_precision_loss)]
fn count(n: usize) -> f64 {
    n as f64
}

#[allow(clippy::cast_precision_loss)]
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

#[allow(clippy::cast_precision_loss)]
fn kb(bytes: u64) -> f64 {
    bytes as f64 / 1e3
}
