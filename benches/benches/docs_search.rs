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
//!    files of 1–60 KB (mean ~10 KB, ~25 MB in all, as GitLab's `doc/`) in nested section
//!    directories (`user/project/merge_requests/…`), each with GitLab's front matter, headings,
//!    paragraphs, lists, tables, fenced code blocks, links and inline code. The words come from a
//!    deterministic generator (xorshift64*, fixed seed): a vocabulary of ~3 000 words (common
//!    English, GitLab's terms, their inflections and `snake_case` identifiers) drawn with a Zipf
//!    distribution, plus each section's own topic words.
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
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use duo_benches::{BoxError, runtime};
use duo_docs_search::{DocsIndex, IndexBuilder, Progress};
use hdrhistogram::Histogram;

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

/// Why questions found nothing: no document has all their words, or the best one alone is over
/// the token budget (asked again without a budget, untimed). Lists the fixed questions among them.
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
         best document alone is over the {}-token budget",
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

/// A question asked, and where it came from.
struct Question {
    text: String,
    /// From [`FIXED_QUESTIONS`] (else generated).
    fixed: bool,
}

impl Question {
    /// The question's kind and the number of words FTS5 searches (the trigram tokenizer matches
    /// nothing for words under 3 characters, which drop out of the implicit AND).
    fn shape(&self) -> String {
        let searched = self
            .text
            .split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric() || *c == '_')
                    .count()
            })
            .filter(|&n| n >= 3)
            .count();
        let kind = if self.fixed { "fixed" } else { "generated" };
        format!("{kind}, {searched} words of 3+ chars")
    }
}

/// `n` questions: half from [`FIXED_QUESTIONS`], half generated from one section's topic words
/// and the vocabulary.
fn questions(n: usize, vocabulary: &Vocabulary, rng: &mut Rng) -> Vec<Question> {
    (0..n)
        .map(|_| {
            if rng.chance(0.5) {
                return Question {
                    text: rng.one(FIXED_QUESTIONS).to_owned(),
                    fixed: true,
                };
            }
            let topic = rng.pick(TOPICS);
            let words = 2 + rng.below(5);
            let mut text = String::new();
            if rng.chance(0.25) {
                text.push_str(rng.one(&["how do I", "how to", "what is", "can I"]));
            }
            for _ in 0..words {
                let word = if rng.chance(0.5) {
                    rng.one(topic.words)
                } else {
                    vocabulary.zipf(rng)
                };
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(word);
            }
            if rng.chance(0.3) {
                text.push('?');
            }
            Question { text, fixed: false }
        })
        .collect()
}

/// What [`write_corpus`] wrote.
struct Corpus {
    files: usize,
    directories: usize,
    bytes: u64,
    smallest: u64,
    largest: u64,
}

/// Writes `files` Markdown files under `doc`.
fn write_corpus(
    doc: &Path,
    files: usize,
    vocabulary: &Vocabulary,
    rng: &mut Rng,
) -> Result<Corpus, BoxError> {
    let mut paths: HashSet<PathBuf> = HashSet::new();
    let mut directories: HashSet<PathBuf> = HashSet::new();
    let mut corpus = Corpus {
        files: 0,
        directories: 0,
        bytes: 0,
        smallest: u64::MAX,
        largest: 0,
    };
    for _ in 0..files {
        let topic = rng.pick(TOPICS);
        let mut dir = doc.join(topic.dir);
        if rng.chance(0.4) {
            dir.push(slug(rng.one(topic.words)));
        }
        let path = unique_path(&dir, topic, rng, &paths);
        // 1 KB to 60 KB, most of them small: mean ~10 KB.
        let target = 920.0 * 60_f64.powf(rng.unit().powf(1.65));
        let text = document(topic, target as usize, vocabulary, rng);
        if directories.insert(dir.clone()) {
            std::fs::create_dir_all(&dir)?;
        }
        std::fs::write(&path, &text)?;
        paths.insert(path);
        let size = text.len() as u64;
        corpus.files += 1;
        corpus.bytes += size;
        corpus.smallest = corpus.smallest.min(size);
        corpus.largest = corpus.largest.max(size);
    }
    corpus.directories = directories.len();
    Ok(corpus)
}

/// `index.md` for a directory's first page, else a name from the topic's words.
fn unique_path(dir: &Path, topic: &Topic, rng: &mut Rng, taken: &HashSet<PathBuf>) -> PathBuf {
    let index = dir.join("index.md");
    if !taken.contains(&index) {
        return index;
    }
    for attempt in 0.. {
        let mut name = slug(rng.one(topic.words));
        if rng.chance(0.6) || attempt > 4 {
            name.push('_');
            name.push_str(&slug(rng.one(topic.words)));
        }
        if attempt > 8 {
            let _ = write!(name, "_{attempt}");
        }
        let path = dir.join(format!("{name}.md"));
        if !taken.contains(&path) {
            return path;
        }
    }
    index
}

fn slug(word: &str) -> String {
    word.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// One page of about `target` bytes.
fn document(topic: &Topic, target: usize, vocabulary: &Vocabulary, rng: &mut Rng) -> String {
    let words = Words { topic, vocabulary };
    let mut page = String::with_capacity(target + 2_048);
    let title = words.title(rng);
    let _ = write!(
        page,
        "---\nstage: {}\ngroup: {}\ninfo: To determine the technical writer assigned to the \
         Stage/Group associated with this page, see \
         https://handbook.gitlab.com/handbook/product/ux/technical-writing/#assignments\n\
         title: {title}\n---\n\n",
        topic.stage, topic.group
    );
    if rng.chance(0.7) {
        page.push_str(rng.one(&[
            "{{< details >}}\n\n- Tier: Free, Premium, Ultimate\n- Offering: GitLab.com, GitLab Self-Managed, GitLab Dedicated\n\n{{< /details >}}\n\n",
            "{{< details >}}\n\n- Tier: Premium, Ultimate\n- Offering: GitLab.com, GitLab Self-Managed, GitLab Dedicated\n\n{{< /details >}}\n\n",
            "{{< details >}}\n\n- Tier: Ultimate\n- Offering: GitLab Self-Managed\n\n{{< /details >}}\n\n",
        ]));
    }
    words.paragraph(rng, &mut page);
    while page.len() < target {
        let _ = write!(page, "## {}\n\n", words.title(rng));
        let blocks = 1 + rng.below(4);
        for _ in 0..blocks {
            match rng.below(20) {
                0..=10 => words.paragraph(rng, &mut page),
                11..=12 => words.list(rng, &mut page),
                13..=14 => words.steps(rng, &mut page),
                15..=17 => words.code_block(rng, &mut page),
                18 => words.table(rng, &mut page),
                _ => {
                    let _ = write!(page, "### {}\n\n", words.title(rng));
                    words.paragraph(rng, &mut page);
                }
            }
        }
    }
    page
}

/// Text of one section.
struct Words<'a> {
    topic: &'a Topic,
    vocabulary: &'a Vocabulary,
}

impl Words<'_> {
    /// A word of the page: one of the section's topic words one time in eight, else a
    /// vocabulary word.
    fn word(&self, rng: &mut Rng) -> &str {
        if rng.chance(0.125) {
            rng.one(self.topic.words)
        } else {
            self.vocabulary.zipf(rng)
        }
    }

    /// "Configure runner executors": a verb and topic words.
    fn title(&self, rng: &mut Rng) -> String {
        let mut title = capitalized(rng.one(VERBS));
        for _ in 0..1 + rng.below(3) {
            title.push(' ');
            title.push_str(if rng.chance(0.6) {
                rng.one(self.topic.words)
            } else {
                self.vocabulary.zipf(rng)
            });
        }
        title
    }

    /// One sentence, with commas, inline code, links and emphasis here and there.
    fn sentence(&self, rng: &mut Rng, out: &mut String) {
        let n = 6 + rng.below(19);
        for i in 0..n {
            let word = self.word(rng);
            if i > 0 {
                out.push(' ');
            }
            match rng.below(100) {
                0..=2 => {
                    let _ = write!(out, "`{}`", self.identifier(rng));
                }
                3..=4 => {
                    let target = slug(rng.one(self.topic.words));
                    let _ = write!(
                        out,
                        "[{word} {}](../{}/{target}.md#{})",
                        self.word(rng),
                        rng.pick(TOPICS).dir,
                        slug(self.word(rng))
                    );
                }
                5 => {
                    let _ = write!(out, "**{word}**");
                }
                6 => {
                    let _ = write!(out, "{word} ({})", self.word(rng));
                }
                _ if i == 0 => out.push_str(&capitalized(word)),
                _ => out.push_str(word),
            }
            if i + 1 < n && rng.chance(0.07) {
                out.push(',');
            }
        }
        out.push_str(match rng.below(20) {
            0 => ":",
            1 => "?",
            _ => ".",
        });
    }

    fn paragraph(&self, rng: &mut Rng, out: &mut String) {
        for i in 0..2 + rng.below(5) {
            if i > 0 {
                out.push(' ');
            }
            self.sentence(rng, out);
        }
        out.push_str("\n\n");
    }

    fn list(&self, rng: &mut Rng, out: &mut String) {
        self.sentence(rng, out);
        out.push_str("\n\n");
        for _ in 0..2 + rng.below(5) {
            out.push_str("- ");
            self.sentence(rng, out);
            out.push('\n');
        }
        out.push('\n');
    }

    fn steps(&self, rng: &mut Rng, out: &mut String) {
        out.push_str("To ");
        out.push_str(&rng.one(VERBS).to_lowercase());
        out.push(' ');
        out.push_str(rng.one(self.topic.words));
        out.push_str(":\n\n");
        for _ in 0..2 + rng.below(5) {
            let _ = write!(
                out,
                "1. {} **{}** > **{}**. ",
                rng.one(&["Select", "On the left sidebar, select", "Go to", "Expand"]),
                capitalized(rng.one(self.topic.words)),
                capitalized(self.word(rng))
            );
            self.sentence(rng, out);
            out.push('\n');
        }
        out.push('\n');
    }

    fn table(&self, rng: &mut Rng, out: &mut String) {
        out.push_str("| Attribute | Type | Required | Description |\n|-----------|------|----------|-------------|\n");
        for _ in 0..3 + rng.below(6) {
            let _ = write!(
                out,
                "| `{}` | {} | {} | ",
                self.identifier(rng),
                rng.one(&["string", "integer", "boolean", "array", "hash"]),
                rng.one(&["Yes", "No"])
            );
            self.sentence(rng, out);
            out.push_str(" |\n");
        }
        out.push('\n');
    }

    /// A `snake_case` identifier: an attribute, a variable, a setting.
    fn identifier(&self, rng: &mut Rng) -> String {
        let mut id = slug(rng.one(self.topic.words));
        for _ in 0..rng.below(3) {
            id.push('_');
            id.push_str(&slug(self.vocabulary.zipf(rng)));
        }
        id
    }

    fn code_block(&self, rng: &mut Rng, out: &mut String) {
        let topic = slug(rng.one(self.topic.words));
        let other = slug(self.word(rng));
        match rng.below(4) {
            0 => {
                let _ = write!(
                    out,
                    "```yaml\n{topic}-{other}:\n  stage: {}\n  image: registry.gitlab.com/gitlab-org/{topic}:latest\n  \
                     variables:\n    {}: \"{}\"\n  script:\n    - echo \"{} {}\"\n    - ./scripts/{other}.sh --{topic}\n  \
                     rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n```\n\n",
                    rng.one(&["build", "test", "deploy"]),
                    self.identifier(rng).to_uppercase(),
                    self.word(rng),
                    self.word(rng),
                    self.word(rng),
                );
            }
            1 => {
                let _ = write!(
                    out,
                    "```shell\ncurl --request {} --header \"PRIVATE-TOKEN: <your_access_token>\" \\\n  \
                     --url \"https://gitlab.example.com/api/v4/projects/:id/{topic}?{}=true\"\n```\n\n",
                    rng.one(&["GET", "POST", "PUT", "DELETE"]),
                    self.identifier(rng)
                );
            }
            2 => {
                let _ = write!(
                    out,
                    "Example response:\n\n```json\n{{\n  \"id\": {},\n  \"{}\": \"{} {}\",\n  \"{}\": {},\n  \"web_url\": \
                     \"https://gitlab.example.com/{topic}/{other}\"\n}}\n```\n\n",
                    rng.below(10_000),
                    self.identifier(rng),
                    self.word(rng),
                    self.word(rng),
                    self.identifier(rng),
                    rng.chance(0.5)
                );
            }
            _ => {
                let _ = write!(
                    out,
                    "```ruby\n{topic} = {}.find_by(name: '{other}')\n{topic}.update!({}: {})\n```\n\n",
                    capitalized(&topic),
                    self.identifier(rng),
                    rng.chance(0.5)
                );
            }
        }
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The words of the corpus, most common first, with their Zipf weights (rank^-1) summed.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    /// Function words first, then GitLab's terms, the questions' words and English content words
    /// mixed, then their inflections and `snake_case` identifiers.
    fn new(rng: &mut Rng) -> Self {
        let mut seen = HashSet::new();
        let mut words: Vec<String> = Vec::new();
        let mut add = |words: &mut Vec<String>, w: String| {
            if !w.is_empty() && seen.insert(w.to_lowercase()) {
                words.push(w);
            }
        };
        for w in FUNCTION_WORDS {
            add(&mut words, (*w).to_owned());
        }
        let question_words = FIXED_QUESTIONS
            .iter()
            .flat_map(|q| q.split_whitespace())
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| w.len() > 2);
        let mut middle: Vec<String> = GITLAB_WORDS
            .iter()
            .chain(VERBS)
            .chain(NOUNS)
            .chain(ADJECTIVES)
            .map(|w| w.to_lowercase())
            .chain(question_words)
            .map(|w| proper(&w))
            .collect();
        rng.shuffle(&mut middle);
        for w in middle {
            add(&mut words, w);
        }
        let mut tail: Vec<String> = Vec::new();
        for verb in VERBS {
            let verb = verb.to_lowercase();
            tail.push(plural(&verb));
            tail.push(suffixed(&verb, "ed"));
            tail.push(suffixed(&verb, "ing"));
        }
        for noun in NOUNS.iter().chain(GITLAB_WORDS) {
            if !noun.contains('/') {
                tail.push(proper(&plural(&noun.to_lowercase())));
            }
        }
        let nouns: Vec<&str> = NOUNS.iter().chain(GITLAB_WORDS).copied().collect();
        for _ in 0..1_500 {
            let a = slug(rng.one(&nouns));
            let b = slug(rng.one(&nouns));
            if !a.is_empty() && !b.is_empty() && a != b {
                tail.push(format!("{a}_{b}"));
            }
        }
        rng.shuffle(&mut tail);
        for w in tail {
            add(&mut words, w);
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / count(rank);
                total
            })
            .collect();
        Self { words, cumulative }
    }

    /// A word drawn with probability proportional to 1 / rank.
    fn zipf(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c < u);
        self.words
            .get(i.min(self.words.len().saturating_sub(1)))
            .map_or("gitlab", String::as_str)
    }
}

/// The product names as the docs spell them.
fn proper(word: &str) -> String {
    match word {
        "gitlab" => "GitLab".to_owned(),
        "kubernetes" => "Kubernetes".to_owned(),
        "docker" => "Docker".to_owned(),
        "helm" => "Helm".to_owned(),
        "jira" => "Jira".to_owned(),
        "slack" => "Slack".to_owned(),
        "ldap" => "LDAP".to_owned(),
        "saml" => "SAML".to_owned(),
        "sso" => "SSO".to_owned(),
        "api" => "API".to_owned(),
        "graphql" => "GraphQL".to_owned(),
        "ci/cd" | "cicd" => "CI/CD".to_owned(),
        "postgresql" => "PostgreSQL".to_owned(),
        "redis" => "Redis".to_owned(),
        "gitaly" => "Gitaly".to_owned(),
        "sidekiq" => "Sidekiq".to_owned(),
        "duo" => "Duo".to_owned(),
        "ssh" => "SSH".to_owned(),
        "yaml" => "YAML".to_owned(),
        "terraform" => "Terraform".to_owned(),
        "npm" => "npm".to_owned(),
        "maven" => "Maven".to_owned(),
        _ => word.to_owned(),
    }
}

fn plural(word: &str) -> String {
    if word.ends_with('s') || word.ends_with('x') || word.ends_with("ch") || word.ends_with("sh") {
        format!("{word}es")
    } else if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{word}s")
    }
}

fn suffixed(verb: &str, suffix: &str) -> String {
    match verb.strip_suffix('e') {
        Some(stem) => format!("{stem}{suffix}"),
        None => format!("{verb}{suffix}"),
    }
}

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn one<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
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

/// One documentation section: its directory under `doc/`, its front matter and its own words.
struct Topic {
    dir: &'static str,
    stage: &'static str,
    group: &'static str,
    words: &'static [&'static str],
}

#[rustfmt::skip]
const TOPICS: &[Topic] = &[
    Topic {
        dir: "user/project/merge_requests",
        stage: "Create",
        group: "Code Review",
        words: &[
            "merge", "request", "approval", "approver", "rule", "reviewer", "diff", "squash",
            "rebase", "conflict", "draft", "thread", "CODEOWNERS", "branch", "target", "source",
        ],
    },
    Topic {
        dir: "user/project/issues",
        stage: "Plan",
        group: "Project Management",
        words: &[
            "issue", "label", "milestone", "board", "assignee", "weight", "due", "confidential",
            "template", "description", "epic", "task", "incident",
        ],
    },
    Topic {
        dir: "user/group/epics",
        stage: "Plan",
        group: "Product Planning",
        words: &[
            "epic", "group", "roadmap", "child", "parent", "issue", "milestone", "iteration",
            "health", "status",
        ],
    },
    Topic {
        dir: "user/project/repository",
        stage: "Create",
        group: "Source Code",
        words: &[
            "repository", "branch", "commit", "tag", "push", "clone", "fork", "mirror", "file",
            "LFS", "protected", "signing", "GPG", "default",
        ],
    },
    Topic {
        dir: "user/project/settings",
        stage: "Tenant Scale",
        group: "Organizations",
        words: &[
            "project", "setting", "visibility", "member", "permission", "role", "token",
            "access", "webhook", "integration", "archive", "transfer",
        ],
    },
    Topic {
        dir: "user/group",
        stage: "Tenant Scale",
        group: "Organizations",
        words: &[
            "group", "subgroup", "member", "namespace", "SAML", "SSO", "permission", "role",
            "inherit", "invite",
        ],
    },
    Topic {
        dir: "ci/pipelines",
        stage: "Verify",
        group: "Pipeline Execution",
        words: &[
            "pipeline", "job", "stage", "schedule", "trigger", "downstream", "parent", "child",
            "status", "retry", "cancel", "stuck", "merged", "CI/CD",
        ],
    },
    Topic {
        dir: "ci/yaml",
        stage: "Verify",
        group: "Pipeline Authoring",
        words: &[
            "keyword", "script", "rules", "needs", "include", "extends", "variables",
            "artifacts", "cache", "image", "services", "when", "job", "YAML", "CI/CD",
        ],
    },
    Topic {
        dir: "ci/runners",
        stage: "Verify",
        group: "Runner",
        words: &[
            "runner", "executor", "Kubernetes", "Docker", "shell", "autoscaling", "register",
            "token", "tag", "concurrent", "Helm", "instance", "fleet", "pod",
        ],
    },
    Topic {
        dir: "ci/variables",
        stage: "Verify",
        group: "Pipeline Security",
        words: &[
            "variable", "masked", "protected", "secret", "environment", "file", "predefined",
            "expand", "CI/CD", "value",
        ],
    },
    Topic {
        dir: "user/packages/container_registry",
        stage: "Package",
        group: "Container Registry",
        words: &[
            "registry", "container", "image", "Docker", "tag", "cleanup", "policy", "push",
            "pull", "login", "storage",
        ],
    },
    Topic {
        dir: "user/packages",
        stage: "Package",
        group: "Package Registry",
        words: &[
            "package", "registry", "Maven", "npm", "PyPI", "NuGet", "Composer", "Conan",
            "publish", "install", "token",
        ],
    },
    Topic {
        dir: "administration/auth",
        stage: "Software Supply Chain Security",
        group: "Authentication",
        words: &[
            "LDAP", "SAML", "OIDC", "OAuth", "SSO", "authentication", "provider", "user",
            "sync", "group", "identity",
        ],
    },
    Topic {
        dir: "administration",
        stage: "Systems",
        group: "Distribution",
        words: &[
            "instance", "admin", "setting", "Omnibus", "Gitaly", "Praefect", "Sidekiq", "Puma",
            "Redis", "PostgreSQL", "backup", "restore", "upgrade", "Geo", "replication",
            "secondary", "primary",
        ],
    },
    Topic {
        dir: "api",
        stage: "Create",
        group: "Import and Integrate",
        words: &[
            "API", "endpoint", "request", "response", "attribute", "parameter", "token", "REST",
            "GraphQL", "pagination", "curl", "JSON",
        ],
    },
    Topic {
        dir: "user/application_security",
        stage: "Application Security Testing",
        group: "Static Analysis",
        words: &[
            "vulnerability", "scanner", "SAST", "DAST", "dependency", "scanning", "secret",
            "detection", "policy", "report", "compliance", "SBOM", "license",
        ],
    },
    Topic {
        dir: "user/clusters/agent",
        stage: "Deploy",
        group: "Environments",
        words: &[
            "Kubernetes", "cluster", "agent", "deployment", "manifest", "Helm", "GitOps", "Flux",
            "namespace", "environment",
        ],
    },
    Topic {
        dir: "ci/environments",
        stage: "Deploy",
        group: "Environments",
        words: &[
            "environment", "deployment", "review", "app", "rollback", "protected", "approval",
            "release", "production", "staging",
        ],
    },
    Topic {
        dir: "user/gitlab_duo",
        stage: "AI-powered",
        group: "Duo Chat",
        words: &[
            "Duo", "chat", "suggestions", "code", "model", "prompt", "AI", "gateway", "self",
            "hosted", "feature",
        ],
    },
    Topic {
        dir: "topics/git",
        stage: "Create",
        group: "Source Code",
        words: &[
            "Git", "commit", "branch", "rebase", "merge", "stash", "cherry", "pick", "reset",
            "log", "remote", "clone",
        ],
    },
    Topic {
        dir: "user/profile",
        stage: "Software Supply Chain Security",
        group: "Authentication",
        words: &[
            "profile", "account", "password", "email", "token", "SSH", "key", "notification",
            "preference", "two-factor", "personal", "access",
        ],
    },
    Topic {
        dir: "development",
        stage: "none",
        group: "unassigned",
        words: &[
            "development", "contribute", "feature", "flag", "spec", "test", "migration",
            "database", "query", "review", "style",
        ],
    },
    Topic {
        dir: "install",
        stage: "Systems",
        group: "Distribution",
        words: &[
            "install", "Docker", "Helm", "chart", "package", "Omnibus", "requirement", "Linux",
            "Ubuntu", "Kubernetes",
        ],
    },
    Topic {
        dir: "operations/incident_management",
        stage: "Monitor",
        group: "Platform Insights",
        words: &[
            "incident", "alert", "escalation", "on-call", "schedule", "status", "page",
            "integration", "timeline",
        ],
    },
    Topic {
        dir: "user/project/pages",
        stage: "Plan",
        group: "Knowledge",
        words: &[
            "Pages", "domain", "certificate", "static", "site", "deploy", "custom", "TLS",
        ],
    },
    Topic {
        dir: "user/project/wiki",
        stage: "Plan",
        group: "Knowledge",
        words: &["wiki", "page", "Markdown", "sidebar", "history", "group"],
    },
    Topic {
        dir: "integration",
        stage: "Create",
        group: "Import and Integrate",
        words: &[
            "integration", "Jira", "Slack", "webhook", "Mattermost", "Jenkins", "service",
            "endpoint",
        ],
    },
];

/// What users ask Duo Chat about the documentation.
#[rustfmt::skip]
const FIXED_QUESTIONS: &[&str] = &[
    "How do I create a project?",
    "How do I configure a runner for Kubernetes?",
    "merge request approval rules",
    "How do I add a member to a group?",
    "What is a pipeline?",
    "How do I use CI/CD variables in a job?",
    "How can I protect a branch?",
    "How do I create a personal access token?",
    "Why is my pipeline stuck?",
    "How do I register a runner?",
    "How do I push an image to the container registry?",
    "How do I set up SAML SSO for my group?",
    "What are the required approvals for a merge request?",
    "How do I rebase a merge request?",
    "How do I squash commits?",
    "How do I close an issue with a commit?",
    "What is an epic?",
    "How do I move an issue to another project?",
    "How do I back up GitLab?",
    "How do I restore a backup?",
    "How do I upgrade GitLab?",
    "How do I configure LDAP?",
    "How do I use the REST API to create an issue?",
    "GraphQL API pagination",
    "How do I enable SAST in my pipeline?",
    "dependency scanning report",
    "How do I mask a variable?",
    "protected environments deployment approval",
    "How do I connect a Kubernetes cluster with the agent?",
    "How do I deploy to production?",
    "How do I roll back a deployment?",
    "What is GitLab Duo Chat?",
    "How do I use code suggestions?",
    "self-hosted models AI gateway",
    "How do I add an SSH key?",
    "How do I enable two-factor authentication?",
    "How do I change my password?",
    "container registry cleanup policy",
    "How do I publish an npm package?",
    "Maven package registry",
    "How do I set up a webhook?",
    "Jira integration",
    "How do I create a wiki page?",
    "GitLab Pages custom domain",
    "How do I schedule a pipeline?",
    "How do I trigger a downstream pipeline?",
    "What does the needs keyword do?",
    "How do I cache dependencies between jobs?",
    "How do I define artifacts in .gitlab-ci.yml?",
    "What are the Docker executor settings for runner autoscaling?",
    "How do I mirror a repository?",
    "Why did my job fail?",
];

/// The most common English words of technical writing, most common first.
#[rustfmt::skip]
const FUNCTION_WORDS: &[&str] = &[
    "the", "to", "a", "and", "of", "in", "you", "is", "for", "that", "can", "or", "be", "this",
    "with", "on", "if", "an", "as", "are", "it", "by", "from", "use", "not", "your", "at", "when",
    "must", "have", "do", "how", "which", "more", "all", "each", "only", "then", "new", "these",
    "see", "also", "other", "any", "has", "one", "after", "but", "they", "what", "was", "its",
    "into", "than", "been", "their", "we", "there", "so", "because", "about", "some", "before",
    "does", "same", "where", "who", "no", "most", "should", "would", "could", "might", "i", "my",
    "up", "out", "between", "without", "through", "over", "under", "while", "both", "many",
    "such", "first", "two", "three", "following", "example", "information", "way", "only", "own",
    "need", "want", "make", "get", "like", "well", "why", "will", "may", "here", "now", "even",
    "back", "just", "very", "much", "every", "until", "instead", "within", "per", "another",
    "either", "whether", "them", "those", "our", "us", "his", "her", "again", "always", "never",
    "often", "usually", "already", "still", "yet", "next", "last", "few", "several", "above",
    "below", "during", "against", "among", "across", "along", "around", "since", "though",
    "unless", "otherwise", "however", "therefore",
];

/// Verbs of technical writing.
#[rustfmt::skip]
const VERBS: &[&str] = &[
    "Add", "Create", "Delete", "Update", "Change", "Configure", "Enable", "Disable", "Select",
    "View", "Edit", "Manage", "Run", "Start", "Stop", "Install", "Upgrade", "Migrate", "Import",
    "Export", "Access", "Allow", "Require", "Define", "Specify", "Check", "Test", "Build",
    "Deploy", "Release", "Review", "Approve", "Assign", "Close", "Open", "Move", "Copy", "Search",
    "Filter", "Sort", "List", "Show", "Display", "Return", "Send", "Receive", "Store", "Save",
    "Load", "Read", "Write", "Connect", "Sign", "Register", "Verify", "Protect", "Restrict",
    "Limit", "Block", "Remove", "Replace", "Restore", "Schedule", "Trigger", "Retry", "Cancel",
    "Fail", "Pass", "Succeed", "Set", "Reset", "Generate", "Rotate", "Revoke", "Expire", "Share",
    "Invite", "Join", "Leave", "Follow", "Track", "Monitor", "Scan", "Detect", "Resolve", "Fix",
    "Troubleshoot", "Debug", "Log", "Print", "Mount", "Cache", "Fetch", "Pull", "Push", "Merge",
    "Rebase", "Squash", "Tag", "Publish", "Download", "Upload", "Archive", "Transfer", "Rename",
    "Mirror", "Sync", "Replicate", "Promote", "Demote", "Scale", "Provision", "Authenticate",
    "Authorize", "Encrypt", "Decrypt", "Validate", "Parse", "Render", "Preview", "Compare",
    "Include", "Exclude", "Extend", "Override", "Inherit", "Expand", "Collapse", "Pin", "Subscribe",
    "Notify", "Mention", "Comment", "Reply", "Link", "Embed", "Attach", "Report", "Audit",
    "Analyze", "Measure", "Optimize", "Reduce", "Increase", "Prevent", "Ensure", "Contain",
    "Provide", "Support", "Understand", "Learn", "Find", "Keep", "Help", "Choose", "Apply",
];

/// Nouns of technical writing.
#[rustfmt::skip]
const NOUNS: &[&str] = &[
    "user", "name", "file", "page", "value", "field", "setting", "option", "level", "role",
    "permission", "member", "owner", "maintainer", "developer", "guest", "reporter",
    "administrator", "instance", "server", "service", "database", "storage", "network",
    "version", "feature", "flag", "table", "button", "menu", "sidebar", "tab", "dialog", "panel",
    "dropdown", "text", "message", "comment", "description", "label", "status", "state", "type",
    "key", "secret", "variable", "path", "directory", "folder", "command", "line", "output",
    "log", "error", "warning", "response", "header", "parameter", "attribute", "endpoint",
    "resource", "object", "item", "entry", "record", "event", "report", "dashboard", "chart",
    "metric", "alert", "notification", "email", "address", "domain", "host", "port", "URL",
    "link", "account", "password", "session", "time", "date", "day", "hour", "minute", "number",
    "size", "rate", "quota", "usage", "plan", "tier", "subscription", "license", "seat", "cost",
    "limit", "timeout", "interval", "duration", "period", "window", "request", "change", "step",
    "process", "workflow", "task", "list", "view", "section", "area", "part", "group", "team",
    "organization", "company", "customer", "client", "browser", "editor", "terminal", "shell",
    "script", "tool", "library", "framework", "language", "template", "format", "syntax",
    "expression", "pattern", "filter", "query", "result", "document", "documentation", "guide",
    "tutorial", "reference", "topic", "overview", "requirement", "prerequisite", "limitation",
    "behavior", "action", "operation", "method", "function", "module", "component", "system",
    "platform", "application", "environment", "configuration", "installation", "upgrade",
    "migration", "integration", "connection", "authentication", "authorization", "encryption",
    "certificate", "proxy", "firewall", "address", "region", "zone", "node", "cluster", "pod",
    "volume", "disk", "memory", "CPU", "process", "thread", "queue", "worker", "job", "task",
    "schedule", "history", "audit", "event", "activity", "analytics", "insight", "trend",
    "problem", "issue", "question", "answer", "solution", "workaround", "cause", "reason",
    "case", "scenario", "detail", "context", "scope", "boundary", "rule", "policy", "standard",
    "practice", "recommendation", "default", "custom", "exception", "fallback", "retry",
];

/// Adjectives and adverbs of technical writing.
#[rustfmt::skip]
const ADJECTIVES: &[&str] = &[
    "available", "required", "optional", "specific", "different", "multiple", "single",
    "public", "private", "internal", "external", "local", "remote", "global", "current",
    "previous", "latest", "older", "newer", "existing", "additional", "separate", "common",
    "important", "possible", "necessary", "valid", "invalid", "empty", "full", "large", "small",
    "fast", "slow", "secure", "safe", "automatic", "manual", "direct", "indirect", "active",
    "inactive", "enabled", "disabled", "successful", "failed", "pending", "running", "blocked",
    "visible", "hidden", "read-only", "writable", "encrypted", "unique", "duplicate",
    "recursive", "nested", "top-level", "relative", "absolute", "temporary", "permanent",
    "experimental", "beta", "generally", "deprecated", "removed", "supported", "unsupported",
    "compatible", "recommended", "typically", "automatically", "manually", "immediately",
    "only", "instead", "also", "usually", "directly", "correctly", "successfully", "securely",
];

/// GitLab's terms.
#[rustfmt::skip]
const GITLAB_WORDS: &[&str] = &[
    "gitlab", "pipeline", "runner", "merge", "request", "project", "group", "repository",
    "issue", "epic", "token", "kubernetes", "registry", "branch", "commit", "tag", "job", "stage",
    "artifact", "cache", "container", "docker", "image", "helm", "cluster", "agent", "namespace",
    "milestone", "iteration", "board", "wiki", "snippet", "package", "maven", "npm", "terraform",
    "deployment", "environment", "approval", "approver", "codeowners", "protected", "fork",
    "mirror", "push", "pull", "clone", "rebase", "squash", "diff", "conflict", "discussion",
    "thread", "todo", "webhook", "integration", "jira", "slack", "ldap", "saml", "oidc", "oauth",
    "omnibus", "gitaly", "praefect", "sidekiq", "puma", "workhorse", "postgresql", "redis",
    "nginx", "geo", "replica", "secondary", "primary", "backup", "rake", "console", "api",
    "graphql", "rest", "scim", "sso", "personal", "deploy", "ssh", "gpg", "compliance",
    "vulnerability", "scanner", "sast", "dast", "dependency", "scanning", "fuzzing", "coverage",
    "quality", "sbom", "security", "yaml", "ci/cd", "include", "extends", "needs", "variables",
    "services", "manual", "downstream", "upstream", "parent", "child", "matrix", "parallel",
    "executor", "autoscaling", "fleeting", "saas", "dedicated", "self-managed", "duo", "chat",
    "suggestions", "code", "ai", "gateway", "model", "prompt", "analytics", "dora", "incident",
    "pages", "release", "reviewer", "assignee", "label", "weight", "roadmap", "subgroup",
    "visibility", "maintainer", "owner", "admin", "instance", "group-level", "project-level",
    "instance-level", "merge-train", "fast-forward", "draft", "pipeline-level", "keyword",
    "script", "rules", "artifacts", "runners", "pipelines", "projects", "groups", "issues",
];
