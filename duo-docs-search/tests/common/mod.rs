//! A small documentation tree written by the tests, and Python's sqlite3 as the other side.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

pub use duo_testkit::docs::{PAGES, write_tree};

/// Runs `script` with `python3`, passing `args`, and returns its standard output.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs (the CI installs it)");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// GitLab's query, as its gateway runs it, through Python's sqlite3: the file names found for
/// `question`, best first, one per line.
pub const GITLAB_QUERY: &str = r#"
import json, re, sqlite3, sys
db, question, page_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = sqlite3.connect(db)
query = re.sub(r"[^\w\s]", "", question, flags=re.UNICODE)
rows = conn.execute(
    "SELECT metadata, content FROM doc_index WHERE processed MATCH ? ORDER BY bm25(doc_index) LIMIT ?",
    (query, page_size),
).fetchall()
for metadata, _content in rows:
    print(json.loads(metadata)["filename"])
"#;
