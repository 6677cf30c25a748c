//! An index built from a Markdown tree the test writes, then searched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use duo_docs_search::{BuildError, DocsIndex, IndexBuilder, OpenError, Progress};

fn built() -> (tempfile::TempDir, DocsIndex) {
    let dir = tempfile::tempdir().unwrap();
    let doc = common::write_tree(dir.path());
    let output = dir.path().join("docs.db");
    IndexBuilder::new(&doc, &output).build(|_| {}).unwrap();
    let index = DocsIndex::open(&output, 2).unwrap();
    (dir, index)
}

async fn ids(index: &DocsIndex, question: &str) -> Vec<String> {
    index
        .search(question, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[tokio::test]
async fn every_markdown_file_is_one_document_named_by_its_path_under_doc() {
    let (_dir, index) = built();
    assert_eq!(index.documents(), common::PAGES.len() as u64);
    let found = index.search("create project", 4).await.unwrap();
    assert_eq!(found[0].id, "/user/project/index.md");
    assert_eq!(
        found[0].metadata,
        serde_json::json!({ "filename": "/user/project/index.md" })
            .as_object()
            .unwrap()
            .clone()
    );
    // content is the raw Markdown, front matter and all
    assert_eq!(found[0].content, common::PAGES[0].1);
}

#[tokio::test]
async fn code_blocks_punctuation_and_non_ascii_text_are_searchable() {
    let (_dir, index) = built();
    assert_eq!(
        ids(&index, "merge_request.create").await,
        ["/user/project/merge_requests/index.md"]
    );
    assert_eq!(
        ids(&index, "GITLAB_USER_LOGIN").await,
        ["/ci/pipelines/index.md"]
    );
    assert_eq!(ids(&index, "プロジェクト").await, ["/user/ja/project.md"]);
    assert_eq!(ids(&index, "STRASSE straße").await, Vec::<String>::new());
    assert_eq!(ids(&index, "Straße café").await, ["/user/ja/project.md"]);
    // front matter is not searched: "Organizations" appears only there
    assert_eq!(ids(&index, "Organizations").await, Vec::<String>::new());
}

#[tokio::test]
async fn crlf_files_are_stored_with_unix_line_endings() {
    let (_dir, index) = built();
    let found = index.search("PowerShell", 4).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].content,
        "---\ntitle: CRLF\n---\n\nRunners on Windows use PowerShell scripts.\n"
    );
}

#[tokio::test]
async fn fts5_syntax_in_a_question_is_searched_as_words() {
    let (_dir, index) = built();
    for question in [
        "\"",
        "*",
        "NEAR(",
        "OR",
        "-",
        "NOT",
        "AND",
        "project OR",
        "\"unbalanced quote",
        "NEAR(fast quoted)",
        "col:value ^start",
        "a AND OR NOT b",
        "",
        "   ",
    ] {
        let found = index.search(question, 4).await;
        assert!(found.is_ok(), "{question:?}: {found:?}");
    }
    // operator words are words: only the page that contains them matches
    assert_eq!(
        ids(&index, "NEAR fast OR not").await,
        ["/administration/reference_architectures/index.md"]
    );
    assert_eq!(ids(&index, "?!*").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_ten_thousand_character_question_is_answered() {
    let (_dir, index) = built();
    let question = "pipeline ".repeat(1_111);
    assert!(question.len() >= 9_999);
    assert_eq!(ids(&index, &question).await, ["/ci/pipelines/index.md"]);
    let noise: String = (0..2_000).map(|i| format!("w{i} ")).collect();
    assert_eq!(ids(&index, &noise).await, Vec::<String>::new());
}

#[tokio::test]
async fn page_size_and_the_token_budget_cut_the_results() {
    let (_dir, index) = built();
    // "users" occurs in the architecture page only; "a" is too short for trigrams and ignored;
    // "the" occurs in several pages
    let all = index.search("the", 20).await.unwrap();
    assert!(all.len() >= 2, "{all:?}");
    assert_eq!(index.search("the", 1).await.unwrap().len(), 1);
    // a budget smaller than every document answers nothing
    let small = index.clone().with_token_budget(5);
    assert_eq!(small.search("the", 20).await.unwrap(), Vec::new());
    // a budget that fits the first only: nothing else fits after it
    let cost =
        |r: &duo_docs_search::SearchResult| duo_docs_search::text::estimated_tokens(&r.content);
    let first = cost(&all[0]);
    let one = index.clone().with_token_budget(first);
    let got = one.search("the", 20).await.unwrap();
    assert_eq!(got[0], all[0]);
    assert!(got.iter().map(cost).sum::<usize>() <= first, "{got:?}");
}

#[tokio::test]
async fn a_document_over_the_budget_is_left_out_and_the_next_ones_that_fit_follow() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc");
    std::fs::create_dir_all(&doc).unwrap();
    // the long page ranks first (the word on every line), the short ones after it
    let long: String = (0..400)
        .map(|i| format!("kubernetes agent line {i}\n"))
        .collect();
    std::fs::write(doc.join("long.md"), format!("---\ntitle: a\n---\n{long}")).unwrap();
    std::fs::write(
        doc.join("short.md"),
        "---\ntitle: b\n---\nThe kubernetes agent, briefly.\n",
    )
    .unwrap();
    std::fs::write(
        doc.join("other.md"),
        "---\ntitle: c\n---\nAn agent for kubernetes clusters, configured once.\n",
    )
    .unwrap();
    let db = dir.path().join("docs.db");
    IndexBuilder::new(&doc, &db).build(|_| {}).unwrap();
    let index = DocsIndex::open(&db, 1).unwrap();
    let all: Vec<String> = ids(&index, "kubernetes agent").await;
    assert_eq!(all[0], "/long.md", "{all:?}");
    assert_eq!(all.len(), 3);
    let long_cost = duo_docs_search::text::estimated_tokens(
        &std::fs::read_to_string(doc.join("long.md")).unwrap(),
    );
    let small = index.clone().with_token_budget(long_cost - 1);
    let got: Vec<String> = small
        .search("kubernetes agent", 4)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    // GitLab's gateway answers nothing here: it stops at the first document over the budget
    assert_eq!(got, all[1..].to_vec());
}

#[test]
fn an_existing_index_is_kept_unless_overwriting_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let doc = common::write_tree(dir.path());
    let output = dir.path().join("docs.db");
    std::fs::write(&output, b"an earlier index").unwrap();
    let err = IndexBuilder::new(&doc, &output).build(|_| {}).unwrap_err();
    assert!(
        matches!(err, BuildError::Exists(ref p) if p == &output),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!("{} exists (pass --force to replace it)", output.display())
    );
    assert_eq!(std::fs::read(&output).unwrap(), b"an earlier index");
    let summary = IndexBuilder::new(&doc, &output)
        .overwrite(true)
        .build(|_| {})
        .unwrap();
    assert_eq!(summary.files, common::PAGES.len());
    assert!(DocsIndex::open(&output, 1).is_ok());
    // no staging file is left beside it
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".docs-index-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn progress_reports_every_file_and_the_summary_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let doc = common::write_tree(dir.path());
    std::fs::write(doc.join("binary.md"), [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let (mut found, mut indexed, mut skipped, mut finishing) = (None, 0, Vec::new(), false);
    let summary = IndexBuilder::new(&doc, dir.path().join("docs.db"))
        .build(|p| match p {
            Progress::Found(n) => found = Some(n),
            Progress::Indexed { .. } => indexed += 1,
            Progress::Skipped(path) => skipped.push(path.to_owned()),
            Progress::Finishing => finishing = true,
        })
        .unwrap();
    assert_eq!(found, Some(common::PAGES.len() + 1));
    assert_eq!(indexed, common::PAGES.len());
    assert_eq!(skipped, [doc.join("binary.md")]);
    assert_eq!(summary.skipped, skipped);
    assert!(finishing);
    let bytes: usize = common::PAGES
        .iter()
        .map(|(_, md)| md.replace("\r\n", "\n").len())
        .sum();
    assert_eq!(summary.bytes, bytes as u64);
}

#[test]
fn unusable_sources_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = IndexBuilder::new(&missing, dir.path().join("docs.db"))
        .build(|_| {})
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: not a directory", missing.display())
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("README.txt"), "no markdown").unwrap();
    let err = IndexBuilder::new(&empty, dir.path().join("docs.db"))
        .build(|_| {})
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: no Markdown (.md) files", empty.display())
    );
    assert!(!dir.path().join("docs.db").exists());
}

#[test]
fn files_that_are_not_an_index_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let missing = DocsIndex::open(&dir.path().join("docs.db"), 1).unwrap_err();
    assert!(matches!(missing, OpenError::Missing), "{missing}");

    let text = dir.path().join("text.db");
    std::fs::write(
        &text,
        "this is not a database, just some text that is long enough",
    )
    .unwrap();
    let err = DocsIndex::open(&text, 1).unwrap_err();
    assert!(matches!(err, OpenError::Sqlite(_)), "{err}");
    assert_eq!(err.to_string(), "file is not a database");

    let other = dir.path().join("v2.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch(duo_docs_search::schema::CREATE_TABLE)
        .unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    drop(conn);
    let err = DocsIndex::open(&other, 1).unwrap_err();
    assert_eq!(err.to_string(), "user_version is 2, this gateway reads 1");

    let plain = dir.path().join("plain.db");
    let conn = rusqlite::Connection::open(&plain).unwrap();
    conn.execute_batch(
        "CREATE TABLE doc_index (processed, content, metadata); PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    let err = DocsIndex::open(&plain, 1).unwrap_err();
    assert_eq!(err.to_string(), "doc_index is not an FTS5 table");

    let none = dir.path().join("none.db");
    let conn = rusqlite::Connection::open(&none).unwrap();
    conn.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);
    let err = DocsIndex::open(&none, 1).unwrap_err();
    assert_eq!(err.to_string(), "no table doc_index");
}

#[tokio::test]
async fn the_index_file_is_never_written() {
    let (dir, index) = built();
    let path = dir.path().join("docs.db");
    let before = std::fs::read(&path).unwrap();
    for _ in 0..10 {
        let _ = index.search("project", 4).await.unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // a read-only connection cannot write, whatever the statement
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    assert!(conn.execute("DELETE FROM doc_index", []).is_err());
}
