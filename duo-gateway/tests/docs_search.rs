//! Duo Chat's documentation questions end to end: `duo-gateway index-docs` builds an index from a
//! Markdown tree, the gateway answers `POST /v1/search/gitlab-docs` from it over HTTP with GitLab
//! tokens, and `POST /v1/prompts/chat/documentation_search` answers from what was found.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use duo_testkit::oidc::FakeOidc;
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{authed_config, client, config, gitlab_request, start};

fn index_docs(args: &[&Path], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_duo-gateway"))
        .arg("index-docs")
        .args(args)
        .args(extra)
        .env_clear()
        .output()
        .unwrap()
}

/// The test tree indexed with the binary, as an operator builds it, plus six runner pages (so a
/// search can find more than the default page size).
fn build_index(dir: &Path) -> PathBuf {
    let doc = duo_testkit::docs::write_tree(dir);
    for i in 1..=RUNNER_PAGES {
        let text = format!("---\ntitle: Runner {i}\n---\n\nConfigure runner number {i}.\n");
        std::fs::write(doc.join(format!("ci/runner_{i}.md")), text).unwrap();
    }
    let db = dir.join("docs.db");
    let out = index_docs(&[&doc, Path::new("--output"), &db], &[]);
    assert!(out.status.success(), "{out:?}");
    db
}

/// How many runner pages [`build_index`] adds.
const RUNNER_PAGES: usize = 6;

/// Documents [`build_index`] indexes.
const DOCUMENTS: usize = duo_testkit::docs::PAGES.len() + RUNNER_PAGES;

fn search_body(query: &str) -> Value {
    json!({"type": "search-docs", "metadata": {"source": "GitLab EE", "version": "18.5.0"},
           "payload": {"query": query}})
}

#[test]
fn index_docs_prints_a_summary_and_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let doc = duo_testkit::docs::write_tree(dir.path());
    let db = dir.path().join("docs.db");
    let out = index_docs(&[&doc, Path::new("-o"), &db], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let pages = duo_testkit::docs::PAGES.len();
    let prefix = format!("indexed {pages} files (");
    assert!(stdout.starts_with(&prefix), "{stdout}");
    assert!(
        stdout.contains(&format!(") into {} in ", db.display())),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    // not a terminal: no progress bar on standard error
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "");

    let before = std::fs::read(&db).unwrap();
    let again = index_docs(&[&doc, Path::new("-o"), &db], &[]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(again.stderr).unwrap(),
        format!(
            "duo-gateway: index-docs: {} exists (pass --force to replace it)\n",
            db.display()
        )
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let forced = index_docs(&[&doc, Path::new("-o"), &db], &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{forced:?}");

    let missing = dir.path().join("no-such-doc");
    let out = index_docs(&[&missing, Path::new("-o"), &dir.path().join("x.db")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "duo-gateway: index-docs: {}: not a directory\n",
            missing.display()
        )
    );
}

#[tokio::test]
async fn a_gitlab_token_with_documentation_search_gets_the_best_documents() {
    let dir = tempfile::tempdir().unwrap();
    let db = build_index(dir.path());
    let oidc = FakeOidc::start().await;
    let mut c = authed_config(&oidc).await;
    c.docs_search.db = Some(db);
    let gw = start(c).await;
    let url = gw.url("/v1/search/gitlab-docs");
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let res = gitlab_request(client().post(&url), &oidc.token(&["documentation_search"]))
        .json(&search_body("How do I create a project?"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let page = duo_testkit::docs::PAGES[0];
    assert_eq!(
        body["response"],
        json!({"results": [{"id": "/user/project/index.md", "content": page.1,
                            "metadata": {"filename": "/user/project/index.md"}}]})
    );
    assert_eq!(body["metadata"]["provider"], "sqlite");
    let timestamp = body["metadata"]["timestamp"].as_i64().unwrap();
    assert!((before..before + 60).contains(&timestamp), "{timestamp}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");

    // page_size bounds the list; the default is 4
    let many = |page_size: Option<i64>| {
        let mut b = search_body("runner");
        if let Some(n) = page_size {
            b["payload"]["page_size"] = n.into();
        }
        gitlab_request(client().post(&url), &oidc.token(&["documentation_search"]))
            .json(&b)
            .send()
    };
    let one: Value = many(Some(1)).await.unwrap().json().await.unwrap();
    assert_eq!(one["response"]["results"].as_array().unwrap().len(), 1);
    let default: Value = many(None).await.unwrap().json().await.unwrap();
    assert_eq!(default["response"]["results"].as_array().unwrap().len(), 4);
    let twenty: Value = many(Some(20)).await.unwrap().json().await.unwrap();
    // the runner pages and the tree's Windows page ("Runners on Windows …")
    assert_eq!(
        twenty["response"]["results"].as_array().unwrap().len(),
        RUNNER_PAGES + 1
    );

    // without the unit primitive: 403; without a token: 401
    let res = gitlab_request(client().post(&url), &oidc.token(&["duo_chat"]))
        .json(&search_body("project"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized to search documentations"})
    );
    let res = client()
        .post(&url)
        .json(&search_body("project"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "No authorization header presented"})
    );

    // every request went through the request log's metrics, labelled with the route
    let metrics = gw.state.metrics().render();
    for line in [
        r#"http_requests_total{handler="/v1/search/gitlab-docs",method="POST",status="2xx"} 4"#,
        r#"http_requests_total{handler="/v1/search/gitlab-docs",method="POST",status="4xx"} 2"#,
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
}

#[tokio::test]
async fn malformed_bodies_are_422_naming_the_field_and_fts5_syntax_is_searched_as_words() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.docs_search.db = Some(build_index(dir.path()));
    let gw = start(c).await;
    let url = gw.url("/v1/search/gitlab-docs");
    let post = |body: Vec<u8>| {
        client()
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let long = "a".repeat(10_001);
    for (body, detail) in [
        (
            String::new(),
            "request body is empty; expected a JSON object".to_owned(),
        ),
        (
            "{".into(),
            "invalid request body: EOF while parsing an object at line 1 column 1".into(),
        ),
        (
            json!({"type": "search", "metadata": {"source": "s", "version": "v"}}).to_string(),
            "invalid request body: missing field `payload`".into(),
        ),
        (
            json!({"type": "search", "metadata": {"source": "s", "version": "v"}, "payload": {}})
                .to_string(),
            "invalid request body: payload: missing field `query`".into(),
        ),
        (
            json!({"type": "search", "metadata": {"source": "s", "version": "v"}, "payload": {"query": 7}})
                .to_string(),
            "invalid request body: payload.query: invalid type: integer `7`, expected a string"
                .into(),
        ),
        (
            json!({"type": "search", "metadata": {"version": "v"}, "payload": {"query": "q"}})
                .to_string(),
            "invalid request body: metadata: missing field `source`".into(),
        ),
        (
            json!({"type": "search", "metadata": {"source": "s", "version": "v"},
                   "payload": {"query": "q", "page_size": 0}})
            .to_string(),
            "payload.page_size: must be between 1 and 20".into(),
        ),
        (
            json!({"type": "search", "metadata": {"source": "s", "version": "v"},
                   "payload": {"query": "q", "page_size": 21}})
            .to_string(),
            "payload.page_size: must be between 1 and 20".into(),
        ),
        (
            json!({"type": "search", "metadata": {"source": "s", "version": "v"},
                   "payload": {"query": "q", "page_size": "4"}})
            .to_string(),
            "invalid request body: payload.page_size: invalid type: string \"4\", expected i64"
                .into(),
        ),
        (
            search_body(&long).to_string(),
            "payload.query: must have at most 10000 characters".into(),
        ),
    ] {
        let res = post(body.clone().into_bytes()).await.unwrap();
        assert_eq!(res.status(), 422, "{body:.80}");
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({ "detail": detail }),
            "{body:.80}"
        );
    }
    for query in [
        "",
        "   ",
        "\"",
        "*",
        "NEAR(",
        "OR",
        "-",
        "NOT merge",
        "project AND",
        "\"unbalanced",
        "col:value ^x",
        &"pipeline ".repeat(1_112)[..10_000],
    ] {
        let res = post(search_body(query).to_string().into_bytes())
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{query:.40}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["response"]["results"].is_array(),
            "{query:.40}: {body}"
        );
    }
    let found: Value = post(search_body("NEAR fast OR not").to_string().into_bytes())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        found["response"]["results"][0]["id"],
        "/administration/reference_architectures/index.md"
    );
}

#[tokio::test]
async fn readiness_reports_the_index_and_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.docs_search.db = Some(build_index(dir.path()));
    let gw = start(c).await;
    let ready: Value = client()
        .get(gw.url("/monitoring/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready["docs_search"],
        json!({"loaded": true, "documents": DOCUMENTS, "error": null})
    );
}

#[tokio::test]
async fn without_a_usable_index_the_gateway_serves_and_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // another layout version: a warning at start, not a crash
    let v2 = index_of_version_2(&dir.path().join("v2.db"));
    for (db, error) in [
        (None, Value::Null),
        (Some(dir.path().join("missing.db")), json!("missing")),
        (Some(v2), json!("version")),
    ] {
        let mut c = config();
        c.docs_search.db = db;
        let gw = start(c).await;
        let res = client()
            .get(gw.url("/monitoring/ready"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "no index does not make the gateway unready"
        );
        let ready: Value = res.json().await.unwrap();
        assert_eq!(
            ready["docs_search"],
            json!({"loaded": false, "documents": 0, "error": error})
        );
        let res = client()
            .post(gw.url("/v1/search/gitlab-docs"))
            .json(&search_body("project"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["response"], json!({"results": []}));
        assert_eq!(body["metadata"]["provider"], "sqlite");
    }
}

/// An index in another layout version: built with `index-docs`, then its `user_version` set to 2
/// with Python's `sqlite3`.
fn index_of_version_2(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap().join("v2src");
    let doc = duo_testkit::docs::write_tree(&dir);
    let out = index_docs(&[&doc, Path::new("-o"), path], &[]);
    assert!(out.status.success());
    let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute('PRAGMA user_version = 2')\nc.commit()";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
    path.to_owned()
}

/// `duo-gateway check-config` with only `AIGW_DOCS_SEARCH__DB` set.
fn check_config_with(db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_duo-gateway"))
        .arg("check-config")
        .env_clear()
        .env("AIGW_DOCS_SEARCH__DB", db)
        .output()
        .unwrap()
}

#[test]
fn check_config_fails_on_an_unusable_index_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let v2 = index_of_version_2(&dir.path().join("v2.db"));
    let out = check_config_with(&v2);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "duo-gateway: docs_search.db '{}': user_version is 2, this gateway reads 1\n",
            v2.display()
        )
    );
    let good = build_index(&dir.path().join("good"));
    let out = check_config_with(&good);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(&format!(
            "documentation index: {} ({} documents)",
            good.display(),
            DOCUMENTS
        )),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_documentation_question_is_searched_then_answered_from_what_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer(
        "Select **New project** on the left sidebar.\n\nATTRS:\nCNT-IDX-/user/project/index.md",
    ));
    let oidc = FakeOidc::start().await;
    let mut c = authed_config(&oidc).await;
    c.docs_search.db = Some(build_index(dir.path()));
    let gw = start(c).await;
    let token = oidc.token(&["documentation_search", "duo_chat"]);
    let question = "How do I create a project?";
    let found: Value = gitlab_request(client().post(gw.url("/v1/search/gitlab-docs")), &token)
        .json(&search_body(question))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documents = found["response"]["results"].clone();
    assert_eq!(documents.as_array().unwrap().len(), 1);

    let body = json!({
        "stream": false,
        "prompt_version": "^1.0.0",
        "inputs": {"question": question, "content_id": "ATTRS", "documents": documents},
        "model_metadata": {"provider": "openai", "name": "mistral", "endpoint": fake.url(),
                           "api_key": "", "identifier": "custom_openai/mistral"}
    });
    let res = gitlab_request(
        client().post(gw.url("/v1/prompts/chat%2Fdocumentation_search")),
        &token,
    )
    .json(&body)
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!(
            "Select **New project** on the left sidebar.\n\nATTRS:\nCNT-IDX-/user/project/index.md"
        )
    );
    let sent = fake.last_request().unwrap();
    let messages = sent.body["messages"].as_array().unwrap();
    // mistral: the instructions open the one user turn
    assert_eq!(messages.len(), 1, "{messages:?}");
    let user = messages[0]["content"].as_str().unwrap();
    assert!(
        user.contains(&format!("<question>{question}</question>")),
        "{user}"
    );
    assert!(
        user.contains("ATTRS: CNT-IDX-/user/project/index.md"),
        "{user}"
    );
    assert!(
        user.contains("how to create a project: select **New project**"),
        "{user}"
    );

    // the answer prompt needs the documentation_search unit primitive too
    let res = gitlab_request(
        client().post(gw.url("/v1/prompts/chat%2Fdocumentation_search")),
        &oidc.token(&["duo_chat"]),
    )
    .json(&body)
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized to access 'chat/documentation_search'"})
    );
}
