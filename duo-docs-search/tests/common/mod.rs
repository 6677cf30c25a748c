//! A small documentation tree written by the tests, and Python's sqlite3 as the other side.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pages of the test tree: (path under doc/, Markdown).
pub const PAGES: &[(&str, &str)] = &[
    (
        "user/project/index.md",
        "---\nstage: Tenant Scale\ngroup: Organizations\ntitle: Create a project\n---\n\n# Create a project\n\nTo create a project, select **New project** on the left sidebar.\nA project holds your repository, issues and merge requests.\n",
    ),
    (
        "user/project/merge_requests/index.md",
        "---\ntitle: Merge requests\n---\n\n# Merge requests\n\nA merge request (MR) proposes changes to a branch. Reviewers approve it; then it is merged.\n\n```shell\ngit push -o merge_request.create\n```\n",
    ),
    (
        "ci/pipelines/index.md",
        "---\ntitle: CI/CD pipelines\n---\n\nPipelines run jobs in stages. A pipeline starts on every push, or on a schedule.\n\n```yaml\nbuild-job:\n  stage: build\n  script: echo \"Hello, $GITLAB_USER_LOGIN!\"\n```\n",
    ),
    (
        "administration/reference_architectures/index.md",
        "---\ntitle: Reference architectures\n---\n\nSizing for 1,000 users … 50,000 users: Gitaly, PostgreSQL, Redis — all in one table.\nNEAR(fast) \"quoted\" OR not? *wildcards* and -minus- signs are plain text here.\n",
    ),
    (
        "user/ja/project.md",
        "---\ntitle: プロジェクト\n---\n\nプロジェクトを作成するには、新しいプロジェクトを選択します。Straße naïve café.\n",
    ),
    (
        "windows/crlf.md",
        "---\r\ntitle: CRLF\r\n---\r\n\r\nRunners on Windows use PowerShell scripts.\r\n",
    ),
];

/// Writes [`PAGES`] under `root/doc` and returns that directory.
pub fn write_tree(root: &Path) -> PathBuf {
    let doc = root.join("doc");
    for (name, markdown) in PAGES {
        let path = doc.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, markdown).unwrap();
    }
    // not Markdown: never indexed
    std::fs::write(doc.join("ci/pipelines/diagram.png"), b"\x89PNG pipelines").unwrap();
    doc
}

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
