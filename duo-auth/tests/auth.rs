//! Black-box tests of bearer-token authentication: a fake OIDC issuer and a small axum app behind
//! `require_auth`, both on loopback, driven over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

#[path = "auth/harness.rs"]
mod harness;

#[path = "auth/bypass.rs"]
mod bypass;
#[path = "auth/egress.rs"]
mod egress;
#[path = "auth/issuer_faults.rs"]
mod issuer_faults;
#[path = "auth/jwks.rs"]
mod jwks;
#[path = "auth/jws_header.rs"]
mod jws_header;
#[path = "auth/self_signed.rs"]
mod self_signed;
#[path = "auth/settings.rs"]
mod settings;
#[path = "auth/verified.rs"]
mod verified;

use harness::*;

#[tokio::test]
async fn missing_authorization_header_is_refused_before_the_body_is_read() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let headers = without(gitlab_headers("x"), "authorization");
    assert_eq!(
        app.whoami(headers.clone()).await,
        (
            StatusCode::UNAUTHORIZED,
            error("No authorization header presented")
        )
    );
    // An unparsable body would be a 4xx from the handler; auth answers first.
    let (status, body) = app.post_body("/v1/whoami", headers, "{not json").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            error("No authorization header presented")
        )
    );
    assert_eq!(
        oidc.jwks_fetches(),
        0,
        "no key fetch for a request without a token"
    );
}

#[tokio::test]
async fn malformed_authorization_header_is_refused() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let token = oidc.token(&["complete_code"]);
    for value in [
        format!("Basic {token}"),
        token.clone(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer {token} extra"),
    ] {
        let headers = with(gitlab_headers(&token), "authorization", &value);
        assert_eq!(
            app.whoami(headers).await,
            (
                StatusCode::UNAUTHORIZED,
                error("Invalid authorization header")
            ),
            "{value:.20}"
        );
    }
    // The scheme is case-insensitive, as in the reference.
    let headers = with(
        gitlab_headers(&token),
        "authorization",
        &format!("bearer {token}"),
    );
    assert_eq!(app.whoami(headers).await.0, StatusCode::OK);
}

#[tokio::test]
async fn authentication_type_must_be_oidc() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let token = oidc.token(&["complete_code"]);
    let expected = (
        StatusCode::UNAUTHORIZED,
        error("Invalid authentication token type - only OIDC is supported"),
    );
    let headers = with(
        gitlab_headers(&token),
        "x-gitlab-authentication-type",
        "jwt",
    );
    assert_eq!(app.whoami(headers).await, expected);
    let headers = without(gitlab_headers(&token), "x-gitlab-authentication-type");
    assert_eq!(app.whoami(headers).await, expected);
}

#[tokio::test]
async fn valid_instance_token_is_accepted_with_its_scopes() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let token = oidc.token(&["complete_code", "explain_code"]);
    let (status, body) = app.whoami(gitlab_headers(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "subject": INSTANCE_ID,
            "issuer": oidc.url(),
            "scopes": ["complete_code", "explain_code"],
            "realm": REALM,
            "instance_id": INSTANCE_ID,
            "instance_uid": INSTANCE_UID,
            "gateway_issued": false,
            "bypassed": false,
        })
    );
}

#[tokio::test]
async fn scopes_decide_access_to_a_feature() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let allowed = gitlab_headers(&oidc.token(&["complete_code"]));
    assert_eq!(
        app.post("/v2/code/completions", allowed).await,
        (StatusCode::OK, json!({"ok": true}))
    );
    let other = gitlab_headers(&oidc.token(&["generate_code", "duo_chat"]));
    assert_eq!(
        app.post("/v2/code/completions", other).await,
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Unauthorized to access code completions"})
        )
    );
}

#[tokio::test]
async fn token_signed_by_an_unknown_key_is_refused() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let claims = oidc.claims().scopes(&["complete_code"]).into_value();
    // Same kid as the published key, different key: the signature does not verify.
    let forged = oidc.sign_with_stranger_key(Some(oidc.current_kid()), &claims);
    assert_eq!(
        app.whoami(gitlab_headers(&forged)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    // A token that is not a JWT at all.
    assert_eq!(
        app.whoami(gitlab_headers("not-a-jwt")).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
}

#[tokio::test]
async fn expiry_and_not_before_are_enforced_with_a_small_leeway() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let expired = oidc.claims().scopes(&["complete_code"]).exp_in(-600).sign();
    assert_eq!(
        app.whoami(gitlab_headers(&expired)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    let no_exp = oidc.claims().remove("exp").sign();
    assert_eq!(
        app.whoami(gitlab_headers(&no_exp)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    let future = oidc.claims().nbf_in(600).sign();
    assert_eq!(
        app.whoami(gitlab_headers(&future)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    // Within the 30 s leeway: clock skew between GitLab and the gateway is tolerated.
    let just_expired = oidc.claims().exp_in(-5).sign();
    assert_eq!(
        app.whoami(gitlab_headers(&just_expired)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn audience_must_contain_the_gateway() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let wrong = oidc.claims().aud("gitlab-other-service").sign();
    assert_eq!(
        app.whoami(gitlab_headers(&wrong)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    let missing = oidc.claims().remove("aud").sign();
    assert_eq!(
        app.whoami(gitlab_headers(&missing)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    let list = oidc
        .claims()
        .set("aud", json!(["other", "gitlab-ai-gateway"]))
        .sign();
    assert_eq!(app.whoami(gitlab_headers(&list)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn context_headers_must_match_the_claims() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let token = oidc.token(&["complete_code"]);
    let headers = with(
        gitlab_headers(&token),
        "x-gitlab-instance-id",
        "another-instance",
    );
    assert_eq!(
        app.whoami(headers).await,
        (
            StatusCode::UNAUTHORIZED,
            error("Header mismatch 'X-Gitlab-Instance-Id'")
        )
    );
    let headers = without(gitlab_headers(&token), "x-gitlab-instance-id");
    assert_eq!(
        app.whoami(headers).await,
        (
            StatusCode::UNAUTHORIZED,
            error("Header mismatch 'X-Gitlab-Instance-Id'")
        )
    );
    let headers = with(gitlab_headers(&token), "x-gitlab-realm", "saas");
    assert_eq!(
        app.whoami(headers).await,
        (
            StatusCode::UNAUTHORIZED,
            error("Header mismatch 'X-Gitlab-Realm'")
        )
    );
    // Both wrong: the instance id is checked first.
    let headers = with(
        with(gitlab_headers(&token), "x-gitlab-realm", "saas"),
        "x-gitlab-instance-id",
        "x",
    );
    assert_eq!(
        app.whoami(headers).await,
        (
            StatusCode::UNAUTHORIZED,
            error("Header mismatch 'X-Gitlab-Instance-Id'")
        )
    );
    // A claim that is empty is not checked.
    let token = oidc.claims().instance_id("").sign();
    let headers = with(gitlab_headers(&token), "x-gitlab-instance-id", "whatever");
    let (status, body) = app.whoami(headers).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["instance_id"], "whatever");
}
