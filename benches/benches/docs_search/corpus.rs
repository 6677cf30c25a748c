//! The synthetic corpus: GitLab-like Markdown pages of a section's topic words and the
//! vocabulary, in nested section directories, from a deterministic generator.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use duo_benches::BoxError;

use crate::vocabulary::Vocabulary;
use crate::words::{TOPICS, VERBS};

/// What [`write_corpus`] wrote.
pub(crate) struct Corpus {
    pub(crate) files: usize,
    pub(crate) directories: usize,
    pub(crate) bytes: u64,
    pub(crate) smallest: u64,
    pub(crate) largest: u64,
}

/// Writes `files` Markdown files under `doc`.
pub(crate) fn write_corpus(
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
        // 1 KB to 60 KB, most of them small (median ~4 KB, mean ~10 KB), one in 25 over 38 KB
        // (~8 000 estimated tokens: such a page alone is over a search's budget).
        let target = if rng.chance(0.04) {
            38_000.0 + 22_000.0 * rng.unit()
        } else {
            910.0 * 38_f64.powf(rng.unit().powf(1.35))
        };
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

pub(crate) fn slug(word: &str) -> String {
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
    let words = Words {
        topic,
        vocabulary,
        salt: rng.next(),
    };
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
    /// Which quarter of the vocabulary's content words this page uses.
    salt: u64,
}

impl Words<'_> {
    /// A word of the page: one of the section's topic words one time in eight, else a
    /// vocabulary word.
    fn word(&self, rng: &mut Rng) -> &str {
        if rng.chance(0.125) {
            rng.one(self.topic.words)
        } else {
            self.common(rng)
        }
    }

    /// A vocabulary word by its Zipf weight, among the function words and the quarter of the
    /// content words this page uses: words come in bursts, as in real text (a page that says
    /// "password" once says it again; most pages never do), instead of a few thousand words
    /// spread thinly over every page.
    fn common(&self, rng: &mut Rng) -> &str {
        for _ in 0..16 {
            let i = self.vocabulary.zipf_index(rng);
            let used = (i as u64 ^ self.salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 62 == 0;
            if i < self.vocabulary.everywhere || used {
                return self.vocabulary.word(i);
            }
        }
        self.vocabulary.word(0)
    }

    /// "Configure runner executors": a verb and topic words.
    fn title(&self, rng: &mut Rng) -> String {
        let mut title = capitalized(rng.one(VERBS));
        for _ in 0..1 + rng.below(3) {
            title.push(' ');
            title.push_str(if rng.chance(0.6) {
                rng.one(self.topic.words)
            } else {
                self.common(rng)
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
                    // Mostly to a page of the same section.
                    let section = if rng.chance(0.8) {
                        self.topic
                    } else {
                        rng.pick(TOPICS)
                    };
                    let target = slug(rng.one(section.words));
                    let _ = write!(
                        out,
                        "[{word} {}](../{}/{target}.md#{})",
                        self.word(rng),
                        section.dir,
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
            id.push_str(&slug(self.common(rng)));
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

/// One documentation section: its directory under `doc/`, its front matter and its own words.
pub(crate) struct Topic {
    pub(crate) dir: &'static str,
    pub(crate) stage: &'static str,
    pub(crate) group: &'static str,
    pub(crate) words: &'static [&'static str],
}

/// xorshift64*: small, fast, deterministic.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(crate) fn one<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}
