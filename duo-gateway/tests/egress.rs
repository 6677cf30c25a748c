//! Where a request may make the gateway connect, black box over loopback HTTP: the custom-models
//! switch, the exact-origin allow-list, host names resolved (by a resolver the test controls) to
//! metadata addresses on every GitLab route, and redirects. (Bedrock endpoints, which only the
//! operator sets: `request_log.rs`, since the request log records the ignored endpoint.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use duo_providers::EgressPolicy;
use duo_testkit::dns::StaticResolver;
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};
use support::{completion_body, config, post_status, prompt_body, start};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn agent_body(endpoint: &str) -> Value {
    json!({
        "messages": [{"role": "user", "content": "What is this issue about?"}],
        "model_metadata": {"name": "mistral", "provider": "litellm", "endpoint": endpoint,
                           "api_key": "upstream-key-123", "identifier": "custom_openai/m"}
    })
}

const METADATA_DETAIL: &str = "model endpoint refused: models.evil.test is a cloud metadata \
     address (169.254.169.254), which the egress policy refuses (rule cloud_metadata); an \
     operator allows link-local destinations with custom_models.allow_link_local_endpoints";

#[tokio::test]
async fn a_host_name_resolving_to_the_metadata_address_is_refused_on_every_route() {
    let resolver = StaticResolver::new().with("models.evil.test", &[ip("169.254.169.254")]);
    let mut cfg = config();
    cfg.providers.egress = EgressPolicy::default().with_resolver(resolver.shared());
    let gw = start(cfg).await;
    let endpoint = "http://models.evil.test:8000/v1";
    for (path, body) in [
        (
            "/v2/code/completions",
            completion_body("codestral", endpoint, "custom_openai/c"),
        ),
        (
            "/v1/prompts/chat/explain_code",
            prompt_body("mistral", endpoint, "custom_openai/m", false),
        ),
        (
            "/v1/prompts/chat/explain_code",
            prompt_body("mistral", endpoint, "custom_openai/m", true),
        ),
        ("/v2/chat/agent", agent_body(endpoint)),
    ] {
        let started = Instant::now();
        let (status, json) = post_status(&gw.url(path), &body).await;
        assert_eq!(
            (status, &json),
            (422, &json!({"detail": METADATA_DETAIL})),
            "{path}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path}: refused at once, no connect attempt: {:?}",
            started.elapsed()
        );
    }
    assert!(resolver.lookups().iter().all(|h| h == "models.evil.test"));
}

#[tokio::test]
async fn literal_metadata_addresses_are_refused_and_allowing_link_local_lifts_it() {
    let gw = start(config()).await;
    for (url, address) in [
        ("http://169.254.169.254/latest", "169.254.169.254"),
        ("http://[fd00:ec2::254]/v1", "fd00:ec2::254"),
    ] {
        let (status, json) = post_status(
            &gw.url("/v2/code/completions"),
            &completion_body("codestral", url, "custom_openai/c"),
        )
        .await;
        assert_eq!(status, 422);
        let detail = json["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("is a cloud metadata address ({address})")),
            "{detail}"
        );
    }

    // With link-local allowed, a name resolving to 0.0.0.0 (loopback on Linux) is served.
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("return a + b"));
    let resolver = StaticResolver::new().with("zero.test", &[ip("0.0.0.0")]);
    let url = format!("http://zero.test:{}/v1", fake.addr().port());
    let mut cfg = config();
    cfg.providers.egress = EgressPolicy::default().with_resolver(resolver.shared());
    let gw = start(cfg.clone()).await;
    let body = completion_body("codestral", &url, "custom_openai/c");
    let (status, json) = post_status(&gw.url("/v2/code/completions"), &body).await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(fake.request_count(), 0);
    cfg.custom_models.allow_link_local_endpoints = true;
    let gw = start(cfg).await;
    let (status, json) = post_status(&gw.url("/v2/code/completions"), &body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["choices"][0]["text"], "return a + b");
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn the_allow_list_matches_exact_origins_and_never_skips_the_address_check() {
    let fake = FakeOpenAi::start().await;
    let port = fake.addr().port();
    let resolver = StaticResolver::new().with("models.evil.test", &[ip("169.254.169.254")]);
    let mut cfg = config();
    cfg.custom_models.enabled = false;
    cfg.custom_models.allowed_endpoints = vec![
        format!("http://127.0.0.1:{port}"),
        "http://models.evil.test:8000".into(),
    ];
    cfg.providers.egress = EgressPolicy::default().with_resolver(resolver.shared());
    let gw = start(cfg).await;
    let url = gw.url("/v2/code/completions");
    let disabled = json!({"detail": "specifying custom models endpoint is disabled: set \
        AIGW_CUSTOM_MODELS__ENABLED=true (custom_models.enabled) to serve self-hosted models, \
        or list the endpoint in custom_models.allowed_endpoints"});

    fake.script(Reply::answer("ok"));
    let (status, json) = post_status(
        &url,
        &completion_body("codestral", &fake.url(), "custom_openai/c"),
    )
    .await;
    assert_eq!(status, 200, "{json}");
    for refused in [
        format!("http://127.0.0.1:{}/v1", port + 1),
        format!("https://127.0.0.1:{port}/v1"),
        format!("http://127.0.0.1:{port}@evil.example/v1"),
        format!("http://user:pw@127.0.0.1:{port}/v1"),
        "http://internal-server.local/ssrf".into(),
    ] {
        let (status, json) = post_status(
            &url,
            &completion_body("codestral", &refused, "custom_openai/c"),
        )
        .await;
        assert_eq!((status, &json), (422, &disabled), "{refused}");
    }
    let (status, json) = post_status(
        &url,
        &completion_body(
            "codestral",
            "http://models.evil.test:8000/v1",
            "custom_openai/c",
        ),
    )
    .await;
    assert_eq!((status, &json), (422, &json!({"detail": METADATA_DETAIL})));
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn upstream_redirects_are_not_followed() {
    let target = FakeOpenAi::start().await;
    let redirecting = FakeOpenAi::start().await;
    redirecting.script(Reply::status(307).header("location", target.url()));
    let gw = start(config()).await;
    let (status, _) = post_status(
        &gw.url("/v2/code/completions"),
        &completion_body("codestral", &redirecting.url(), "custom_openai/c"),
    )
    .await;
    assert!(status >= 500, "{status}");
    assert_eq!(redirecting.request_count(), 1);
    assert_eq!(
        target.request_count(),
        0,
        "the body and key never went to Location"
    );
}
