//! The corpus's vocabulary: its words with their Zipf weights, and the inflections and product
//! spellings it is made with.

use std::collections::HashSet;

use crate::corpus::{Rng, slug};
use crate::count;
use crate::words::{
    ADJECTIVES, FIXED_QUESTIONS, FUNCTION_WORDS, GITLAB_COMMON, GITLAB_WORDS, NOUNS, TOPICS, VERBS,
};

/// The words of the corpus, most common first, with their Zipf weights (rank^-1) summed.
pub(crate) struct Vocabulary {
    pub(crate) words: Vec<String>,
    cumulative: Vec<f64>,
    /// The first words (function words, "GitLab", "project"…) are on every page; the others
    /// come in bursts ([`Words::common`]).
    pub(crate) everywhere: usize,
}

impl Vocabulary {
    /// Function words first; then English content words, GitLab's everyday terms and the fixed
    /// questions' other words, mixed; then inflections, `snake_case` identifiers and GitLab's
    /// specialised terms (`LDAP`, `Helm`, `Jira`…), which are common only in their own sections
    /// (as [`Topic`] words), as in GitLab's docs.
    pub(crate) fn new(rng: &mut Rng) -> Self {
        let mut seen = HashSet::new();
        let mut words: Vec<String> = Vec::new();
        let mut add = |words: &mut Vec<String>, w: String| {
            if !w.is_empty() && seen.insert(w.to_lowercase()) {
                words.push(w);
            }
        };
        for w in FUNCTION_WORDS
            .iter()
            .chain(&["GitLab", "project", "group", "user"])
        {
            add(&mut words, (*w).to_owned());
        }
        let everywhere = words.len();
        let question_words = FIXED_QUESTIONS
            .iter()
            .flat_map(|q| q.split_whitespace())
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| w.len() > 2);
        let specialised: HashSet<String> = GITLAB_WORDS
            .iter()
            .chain(TOPICS.iter().flat_map(|t| t.words))
            .map(|w| w.to_lowercase())
            .filter(|w| !GITLAB_COMMON.contains(&w.as_str()))
            .collect();
        let mut middle: Vec<String> = GITLAB_COMMON
            .iter()
            .chain(VERBS)
            .chain(NOUNS)
            .chain(ADJECTIVES)
            .map(|w| w.to_lowercase())
            .chain(question_words.filter(|w| !specialised.contains(w)))
            .map(|w| proper(&w))
            .collect();
        rng.shuffle(&mut middle);
        for w in middle {
            add(&mut words, w);
        }
        let mut tail: Vec<String> = specialised.iter().map(|w| proper(w)).collect();
        tail.sort();
        for verb in VERBS {
            let verb = verb.to_lowercase();
            tail.push(plural(&verb));
            tail.push(suffixed(&verb, "ed"));
            tail.push(suffixed(&verb, "ing"));
        }
        for noun in NOUNS.iter().chain(GITLAB_COMMON) {
            if !noun.contains('/') {
                tail.push(proper(&plural(&noun.to_lowercase())));
            }
        }
        let nouns: Vec<&str> = NOUNS.iter().chain(GITLAB_COMMON).copied().collect();
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
        Self {
            words,
            cumulative,
            everywhere,
        }
    }

    /// A word drawn with probability proportional to 1 / rank.
    pub(crate) fn zipf(&self, rng: &mut Rng) -> &str {
        self.word(self.zipf_index(rng))
    }

    /// The rank (from 0) of a word drawn with probability proportional to 1 / rank.
    pub(crate) fn zipf_index(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.unit() * total;
        self.cumulative.partition_point(|&c| c < u)
    }

    pub(crate) fn word(&self, i: usize) -> &str {
        self.words
            .get(i.min(self.words.len().saturating_sub(1)))
            .map_or("GitLab", String::as_str)
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
