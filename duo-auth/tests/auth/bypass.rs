//! The development bypasses: all requests, per-request header, unsigned tokens.

use super::harness::*;

#[tokio::test]
async fn bypass_accepts_anything_and_marks_the_caller() {
    let app = App::start(&AuthConfig {
        bypass_external: true,
        ..AuthConfig::default()
    })
    .await;
    let (status, body) = app.whoami(http::HeaderMap::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["bypassed"], true);
    assert_eq!(body["issuer"], "bypass");
    assert_eq!(
        body["scopes"].as_array().unwrap().len(),
        UnitPrimitive::ALL.len()
    );
    assert_eq!(
        app.post("/v2/code/completions", http::HeaderMap::new())
            .await,
        (StatusCode::OK, json!({"ok": true}))
    );
    let garbage = with(
        gitlab_headers("garbage"),
        "x-gitlab-authentication-type",
        "nope",
    );
    assert_eq!(app.whoami(garbage).await.0, StatusCode::OK);
}

#[tokio::test]
async fn bypass_with_header_only_when_enabled() {
    let bypass = with(http::HeaderMap::new(), "bypass-auth", "true");
    let enabled = App::start(&AuthConfig {
        bypass_external_with_header: true,
        ..AuthConfig::default()
    })
    .await;
    let (status, body) = enabled.whoami(bypass.clone()).await;
    assert_eq!((status, &body["bypassed"]), (StatusCode::OK, &json!(true)));
    assert_eq!(
        enabled.whoami(http::HeaderMap::new()).await,
        (
            StatusCode::UNAUTHORIZED,
            error("No authorization header presented")
        )
    );
    assert_eq!(
        enabled
            .whoami(with(http::HeaderMap::new(), "bypass-auth", "yes"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let disabled = App::start(&AuthConfig::default()).await;
    assert_eq!(
        disabled.whoami(bypass).await,
        (
            StatusCode::UNAUTHORIZED,
            error("No authorization header presented")
        )
    );
}

#[tokio::test]
async fn bypass_jwt_signature_parses_without_verifying() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&AuthConfig {
        bypass_jwt_signature: true,
        ..config_for(&oidc)
    })
    .await;
    let claims = oidc.claims().scopes(&["duo_chat"]).into_value();
    let unverifiable = oidc.sign_with_stranger_key(Some("whatever"), &claims);
    let (status, body) = app.whoami(gitlab_headers(&unverifiable)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["scopes"], json!(["duo_chat"]));
    assert_eq!(oidc.jwks_fetches(), 0);
    // Still parsed and checked: expiry and audience hold.
    let expired = oidc.sign_with_stranger_key(None, &oidc.claims().exp_in(-600).into_value());
    assert_eq!(
        app.whoami(gitlab_headers(&expired)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
}

#[tokio::test]
async fn no_issuer_configured_refuses_instance_tokens() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&AuthConfig::default()).await;
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&["complete_code"])))
            .await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
}
