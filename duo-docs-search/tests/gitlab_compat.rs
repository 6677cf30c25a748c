//! Compatibility both ways with GitLab's gateway, through Python's `sqlite3` (the module GitLab's
//! indexer and gateway use): an index Python writes in GitLab's layout is read here, and an index
//! built here answers GitLab's query with the same ranking.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use duo_docs_search::{DocsIndex, IndexBuilder};

/// Writes an index the way GitLab's indexer does: its table, `user_version` 1, one row per file
/// with the processed text and `json.dumps({"filename": …})`. The processing is GitLab's rule as
/// its indexer applies it: the text from the second `---` on (keeping its last dash, dropping the
/// file's last character), lower-cased, `re.sub(r"[^\w\s]", "", …)`.
const GITLAB_INDEXER: &str = r#"
import json, pathlib, re, sqlite3, sys
doc, output = pathlib.Path(sys.argv[1]), sys.argv[2]
rows = []
for path in sorted(doc.glob("**/*.md")):
    content = path.read_text()
    body = content
    start = body.find("---")
    if start != -1:
        end = body.find("---", start + 1)
        body = body[end + 2 : -1]
    processed = re.sub(r"[^\w\s]", "", body.lower())
    name = "/" + path.relative_to(doc).as_posix()
    rows.append((processed, content, json.dumps({"filename": name})))
conn = sqlite3.connect(output)
conn.execute("CREATE VIRTUAL TABLE doc_index USING fts5(processed, content, metadata, tokenize='porter trigram');")
conn.execute("PRAGMA user_version = 1;")
conn.executemany("INSERT INTO doc_index (processed, content, metadata) VALUES (?,?,?)", rows)
conn.commit()
conn.close()
"#;

/// Questions a Duo Chat user asks, without FTS5 operator words (GitLab's query would fail on
/// those; see `build_and_search.rs` for what happens to them here).
const QUESTIONS: &[&str] = &[
    "How do I create a project?",
    "merge request",
    "pipelines stages",
    "the",
    "project",
    "users",
    "プロジェクト",
    "What is a runner on Windows?",
    "git push",
];

async fn duo_ids(index: &DocsIndex, question: &str, page_size: usize) -> Vec<String> {
    index
        .search(question, page_size)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn gitlab_ids(db: &std::path::Path, question: &str, page_size: usize) -> Vec<String> {
    common::python(
        common::GITLAB_QUERY,
        &[db.to_str().unwrap(), question, &page_size.to_string()],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[tokio::test]
async fn an_index_written_by_gitlabs_indexer_is_read_and_searched() {
    let dir = tempfile::tempdir().unwrap();
    let doc = common::write_tree(dir.path());
    let db = dir.path().join("gitlab-docs.db");
    common::python(
        GITLAB_INDEXER,
        &[doc.to_str().unwrap(), db.to_str().unwrap()],
    );
    let index = DocsIndex::open(&db, 2).unwrap();
    assert_eq!(index.documents(), common::PAGES.len() as u64);
    let found = index.search("create a project", 4).await.unwrap();
    assert_eq!(found[0].id, "/user/project/index.md");
    assert_eq!(found[0].content, common::PAGES[0].1);
    for question in QUESTIONS {
        assert_eq!(
            duo_ids(&index, question, 4).await,
            gitlab_ids(&db, question, 4),
            "{question}"
        );
    }
}

#[tokio::test]
async fn an_index_built_here_ranks_as_gitlabs_query_ranks_it() {
    let dir = tempfile::tempdir().unwrap();
    let doc = common::write_tree(dir.path());
    let db = dir.path().join("docs.db");
    IndexBuilder::new(&doc, &db).build(|_| {}).unwrap();
    let index = DocsIndex::open(&db, 2).unwrap();
    let mut answered = 0;
    for question in QUESTIONS {
        let ours = duo_ids(&index, question, 20).await;
        assert_eq!(ours, gitlab_ids(&db, question, 20), "{question}");
        answered += usize::from(!ours.is_empty());
    }
    // the comparison is not between two empty lists
    assert!(answered >= 6, "{answered}");
}

/// The processed column holds the same words as GitLab's (white space may differ where GitLab's
/// indexer keeps a line of the front matter's end and drops the file's last character).
#[test]
fn the_processed_column_holds_the_words_gitlabs_rule_gives() {
    let dir = tempfile::tempdir().unwrap();
    let doc = common::write_tree(dir.path());
    let ours = dir.path().join("ours.db");
    let theirs = dir.path().join("theirs.db");
    IndexBuilder::new(&doc, &ours).build(|_| {}).unwrap();
    common::python(
        GITLAB_INDEXER,
        &[doc.to_str().unwrap(), theirs.to_str().unwrap()],
    );
    let dump = r#"
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute("SELECT metadata, processed, content FROM doc_index").fetchall()
print(json.dumps(sorted([json.loads(m)["filename"], p.split(), c] for m, p, c in rows)))
"#;
    let a = common::python(dump, &[ours.to_str().unwrap()]);
    let b = common::python(dump, &[theirs.to_str().unwrap()]);
    assert_eq!(a, b);
    let user_version = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA user_version').fetchone()[0])";
    assert_eq!(
        common::python(user_version, &[ours.to_str().unwrap()]),
        "1\n"
    );
}

#[test]
fn word_characters_are_pythons() {
    // marks, symbols and letters of several scripts through both rules
    let samples = [
        "İstanbul ǅemal ﬁle",
        "हिन्दी भाषा",
        "١٢٣ ½ Ⅻ ²",
        "emoji 🚀 and ✓ and € and ©",
        "tab\tnew\nline\u{a0}nbsp\u{2003}em",
        "combining e\u{301} and a\u{30a}",
        "snake_case and kebab-case",
    ];
    let script = r#"
import json, re, sys
print(json.dumps([re.sub(r"[^\w\s]", "", s.lower()) for s in json.loads(sys.argv[1])]))
"#;
    let theirs: Vec<String> = serde_json::from_str(&common::python(
        script,
        &[&serde_json::to_string(&samples).unwrap()],
    ))
    .unwrap();
    let ours: Vec<String> = samples
        .iter()
        .map(|s| duo_docs_search::text::processed_text(s))
        .collect();
    assert_eq!(ours, theirs);
}
