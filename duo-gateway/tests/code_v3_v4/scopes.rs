//! Unit primitives on v3/v4 with real instance tokens from a fake OIDC issuer: completion needs
//! `complete_code`, generation `generate_code`, else 403 before any model call.

use duo_testkit::oidc::{FakeOidc, INSTANCE_ID, REALM};

use crate::helpers::*;

async fn send(url: &str, token: &str, body: &Value) -> (u16, Value) {
    let res = client()
        .post(url)
        .bearer_auth(token)
        .header("X-Gitlab-Authentication-Type", "oidc")
        .header("X-Gitlab-Instance-Id", INSTANCE_ID)
        .header("X-Gitlab-Realm", REALM)
        .header("X-Gitlab-Global-User-Id", "1234")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_feature_needs_its_unit_primitive() {
    let oidc = FakeOidc::start().await;
    let fake = FakeOpenAi::start().await;
    let mut cfg = config();
    cfg.auth.bypass_external = false;
    cfg.gitlab_url = Some(oidc.url());
    let gw = start(cfg).await;
    let completion = completion("codestral", Some(&fake.url()), "custom_openai/c");
    let generation = streaming(
        generation("mistral", Some(&fake.url()), "custom_openai/m"),
        false,
    );
    let denied = json!({"detail": "Unauthorized to access code suggestions"});

    let complete_only = oidc.token(&["complete_code"]);
    let generate_only = oidc.token(&["generate_code"]);
    let neither = oidc.token(&["duo_chat"]);
    for path in ["/v3/code/completions", "/v4/code/suggestions"] {
        let url = gw.url(path);
        assert_eq!(
            send(&url, &generate_only, &completion).await,
            (403, denied.clone()),
            "{path}"
        );
        assert_eq!(
            send(&url, &complete_only, &generation).await,
            (403, denied.clone()),
            "{path}"
        );
        assert_eq!(
            send(&url, &neither, &completion).await,
            (403, denied.clone())
        );
        assert_eq!(fake.request_count(), 0, "{path}: refused before the model");
    }
    let before = fake.request_count();
    let (status, _) = send(&gw.url("/v3/code/completions"), &complete_only, &completion).await;
    assert_eq!(status, 200);
    let (status, _) = send(&gw.url("/v4/code/suggestions"), &generate_only, &generation).await;
    assert_eq!(status, 200);
    assert_eq!(fake.request_count(), before + 2);
}
