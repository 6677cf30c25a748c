//! Black-box tests of `POST /v1/code/user_access_token` with a fake OIDC issuer (the GitLab
//! instance) and the gateway's own signing key: issue, then use the token on the code routes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use duo_core::Secret;
use duo_testkit::oidc::{FakeOidc, INSTANCE_ID, INSTANCE_UID, REALM};
use duo_testkit::openai::{FakeOpenAi, Reply};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use support::{client, completion_body, config, start};

use duo_testkit::keys::SIGNING_KEY;
const USER: &str = "4242";

struct Setup {
    oidc: FakeOidc,
    fake: FakeOpenAi,
    gw: support::TestGateway,
}

async fn setup(signing_key: bool) -> Setup {
    let oidc = FakeOidc::start().await;
    let fake = FakeOpenAi::start().await;
    let mut cfg = config();
    cfg.auth.bypass_external = false;
    cfg.gitlab_url = Some(oidc.url());
    if signing_key {
        cfg.self_signed_jwt.signing_key = Some(Secret::new(SIGNING_KEY));
    }
    let gw = start(cfg).await;
    Setup { oidc, fake, gw }
}

/// POSTs `body` to `path` as GitLab does, with `token` and `user` (if any) as the global user id.
async fn post(
    s: &Setup,
    path: &str,
    token: &str,
    user: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut rb = client()
        .post(s.gw.url(path))
        .bearer_auth(token)
        .header("X-Gitlab-Authentication-Type", "oidc")
        .header("X-Gitlab-Instance-Id", INSTANCE_ID)
        .header("X-Gitlab-Realm", REALM)
        .json(body);
    if let Some(user) = user {
        rb = rb.header("X-Gitlab-Global-User-Id", user);
    }
    let res = rb.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn mint(s: &Setup, scopes: &[&str]) -> (u16, Value) {
    let token = s.oidc.token(scopes);
    post(
        s,
        "/v1/code/user_access_token",
        &token,
        Some(USER),
        &json!({}),
    )
    .await
}

/// The claims of a token (signature checked by the gateway itself when the token is used).
fn claims(token: &str) -> Value {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.insecure_disable_signature_validation();
    validation.set_audience(&["gitlab-ai-gateway"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(b"unused"), &validation)
        .unwrap()
        .claims
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn v3_completion(endpoint: &str) -> Value {
    json!({
        "prompt_components": [{"type": "code_editor_completion",
            "payload": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ",
                        "content_below_cursor": "\n"}}],
        "model_metadata": {"provider": "openai", "name": "codestral", "endpoint": endpoint,
                           "identifier": "custom_openai/c"}
    })
}

#[tokio::test]
async fn an_issued_token_serves_code_completions_for_its_user_only() {
    let s = setup(true).await;
    s.fake.set_default(Reply::answer("return a + b\n"));
    let (status, minted) = mint(&s, &["complete_code", "generate_code", "duo_chat"]).await;
    assert_eq!(status, 200, "{minted}");
    assert_eq!(minted.as_object().unwrap().len(), 2, "{minted}");
    let token = minted["token"].as_str().unwrap();
    let expires_at = minted["expires_at"].as_u64().unwrap();
    let c = claims(token);
    assert_eq!(c["iss"], "gitlab-ai-gateway");
    assert_eq!(c["aud"], "gitlab-ai-gateway");
    assert_eq!(c["sub"], USER);
    assert_eq!(
        c["scopes"],
        json!(["complete_code"]),
        "only grantable scopes"
    );
    assert_eq!(c["exp"].as_u64().unwrap(), expires_at);
    assert!(
        (now() + 3590..=now() + 3610).contains(&expires_at),
        "one hour"
    );
    assert_eq!(c["gitlab_instance_uid"], INSTANCE_UID);
    assert_eq!(c["gitlab_realm"], REALM);

    let body = completion_body("codestral", &s.fake.url(), "custom_openai/c");
    let (status, json) = post(&s, "/v2/code/completions", token, Some(USER), &body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["choices"][0]["text"], "return a + b\n");
    assert_eq!(s.fake.request_count(), 1);

    // Another user's header: the token is refused.
    let (status, json) = post(&s, "/v2/code/completions", token, Some("999"), &body).await;
    assert_eq!(
        (status, json),
        (
            401,
            json!({"error": "Header mismatch 'X-Gitlab-Global-User-Id'"})
        )
    );
    // A gateway token cannot mint another one …
    let (status, json) = post(
        &s,
        "/v1/code/user_access_token",
        token,
        Some(USER),
        &json!({}),
    )
    .await;
    assert_eq!(
        (status, json),
        (
            403,
            json!({"detail": "Unauthorized to create user access token"})
        )
    );
    // … nor serve generations (F8), nor the v3/v4 routes, which the reference keeps for the
    // instance's own tokens.
    let (status, json) = post(&s, "/v2/code/generations", token, Some(USER), &body).await;
    assert_eq!(
        (status, json),
        (
            403,
            json!({"detail": "Unauthorized to access code generations"})
        )
    );
    let denied = json!({"detail": "Unauthorized to access code suggestions"});
    for path in ["/v3/code/completions", "/v4/code/suggestions"] {
        let v3 = v3_completion(&s.fake.url());
        assert_eq!(
            post(&s, path, token, Some(USER), &v3).await,
            (403, denied.clone()),
            "{path}"
        );
    }
    assert_eq!(s.fake.request_count(), 1, "refused requests reach no model");
    // The instance's own token is served on v3 (the refusal above is about the issuer).
    let instance = s.oidc.token(&["complete_code"]);
    let (status, json) = post(
        &s,
        "/v3/code/completions",
        &instance,
        Some(USER),
        &v3_completion(&s.fake.url()),
    )
    .await;
    assert_eq!(status, 200, "{json}");
}

#[tokio::test]
async fn tokens_carry_the_grantable_scopes_the_caller_holds() {
    let s = setup(true).await;
    for (held, granted) in [
        (
            vec!["ai_gateway_model_provider_proxy"],
            json!(["ai_gateway_model_provider_proxy"]),
        ),
        (
            vec!["ai_gateway_model_provider_proxy", "complete_code"],
            json!(["complete_code", "ai_gateway_model_provider_proxy"]),
        ),
    ] {
        let (status, minted) = mint(&s, &held).await;
        assert_eq!(status, 200, "{held:?}: {minted}");
        assert_eq!(claims(minted["token"].as_str().unwrap())["scopes"], granted);
    }
    for held in [vec![], vec!["generate_code", "duo_chat"]] {
        assert_eq!(
            mint(&s, &held).await,
            (
                403,
                json!({"detail": "Unauthorized to create user access token"})
            ),
            "{held:?}"
        );
    }
}

#[tokio::test]
async fn the_user_header_is_required() {
    let s = setup(true).await;
    let token = s.oidc.token(&["complete_code"]);
    let (status, json) = post(&s, "/v1/code/user_access_token", &token, None, &json!({})).await;
    assert_eq!(
        (status, json),
        (
            400,
            json!({"detail": "Missing X-Gitlab-Global-User-Id header"})
        )
    );
}

#[tokio::test]
async fn a_default_install_without_a_signing_key_issues_tokens_its_routes_accept() {
    // Before: 500 {"detail": "Failed to generate JWT"}.
    let s = setup(false).await;
    s.fake.set_default(Reply::answer("return a + b\n"));
    let (status, minted) = mint(&s, &["complete_code"]).await;
    assert_eq!(status, 200, "{minted}");
    let token = minted["token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256, "the ephemeral key");
    assert_eq!(claims(token)["sub"], USER);
    let body = completion_body("codestral", &s.fake.url(), "custom_openai/c");
    let (status, json) = post(&s, "/v2/code/completions", token, Some(USER), &body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["choices"][0]["text"], "return a + b\n");

    // A second gateway (another replica) has another ephemeral key.
    let other = setup(false).await;
    let (status, json) = post(&other, "/v2/code/completions", token, Some(USER), &body).await;
    assert_eq!(
        (status, json),
        (401, json!({"error": "Forbidden by auth provider"}))
    );
}

#[tokio::test]
async fn with_auth_bypassed_the_context_headers_name_the_user_and_instance() {
    let mut cfg = config();
    cfg.self_signed_jwt.signing_key = Some(Secret::new(SIGNING_KEY));
    let gw = start(cfg).await;
    let url = gw.url("/v1/code/user_access_token");
    let send = |headers: &[(&str, &str)]| {
        let mut rb = client().post(&url);
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        rb.send()
    };
    let all = [
        ("X-Gitlab-Global-User-Id", USER),
        ("X-Gitlab-Instance-Id", INSTANCE_ID),
        ("X-Gitlab-Realm", REALM),
    ];
    for (missing, header) in all.iter().enumerate() {
        let partial: Vec<_> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != missing)
            .map(|(_, h)| *h)
            .collect();
        let res = send(&partial).await.unwrap();
        assert_eq!(res.status(), 400, "without {}", header.0);
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"detail": format!("Missing {} header", header.0)})
        );
    }
    let res = send(&all).await.unwrap();
    assert_eq!(res.status(), 200);
    let minted: Value = res.json().await.unwrap();
    let c = claims(minted["token"].as_str().unwrap());
    assert_eq!(c["sub"], USER);
    assert_eq!(c["gitlab_instance_id"], INSTANCE_ID);
    assert_eq!(
        c["scopes"],
        json!(["complete_code", "ai_gateway_model_provider_proxy"]),
        "the debug caller holds every scope"
    );
}
