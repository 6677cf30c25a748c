//! A small tree of GitLab-style documentation pages for documentation-search tests: front
//! matter, code blocks, punctuation, FTS5 syntax as plain text, non-ASCII text, CRLF line endings.

use std::path::{Path, PathBuf};

/// The pages of the test tree: (path under doc/, Markdown).
pub const PAGES: &[(&str, &str)] = &[
    (
        "user/project/index.md",
        "---\nstage: Tenant Scale\ngroup: Organizations\ntitle: Create a project\n---\n\n# Create a project\n\nThis page shows how to create a project: select **New project** on the left sidebar.\nA project holds your repository, issues and merge requests.\n",
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

/// Writes [`PAGES`] (and a file that is not Markdown) under `root/doc` and returns that
/// directory.
///
/// # Panics
/// When a file cannot be written.
#[allow(clippy::expect_used)] // a test helper: a tree that cannot be written fails the test
pub fn write_tree(root: &Path) -> PathBuf {
    let doc = root.join("doc");
    for (name, markdown) in PAGES {
        let path = doc.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("test tree directory");
        }
        std::fs::write(path, markdown).expect("test tree page");
    }
    // not Markdown: never indexed
    std::fs::write(doc.join("ci/pipelines/diagram.png"), b"\x89PNG pipelines")
        .expect("test tree image");
    doc
}
