//! Black-box tests of bearer-token authentication: a fake OIDC issuer and a small axum app behind
//! `require_auth`, both on loopback, driven over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use duo_core::{Secret, UnitPrimitive};
use duo_gateway::auth::{AuthConfig, AuthError, Authenticator, Caller, require_auth};
use duo_testkit::oidc::{FakeOidc, INSTANCE_ID, INSTANCE_UID, REALM, gitlab_headers};
use serde_json::{Value, json};

const SIGNING_KEY: &str = include_str!("fixtures/signing_key.pem");
const VALIDATION_KEY: &str = include_str!("fixtures/validation_key.pem");

/// What the app answers: the authenticated caller, as JSON.
async fn whoami(caller: Caller, Json(_body): Json<Value>) -> Json<Value> {
    Json(json!({
        "subject": caller.subject,
        "issuer": caller.issuer,
        "scopes": caller.scopes,
        "realm": caller.gitlab_realm,
        "instance_id": caller.gitlab_instance_id,
        "instance_uid": caller.gitlab_instance_uid,
        "gateway_issued": caller.gateway_issued,
        "bypassed": caller.bypassed,
    }))
}

/// A route guarded by a unit primitive, as the gateway's routes are.
async fn complete_code(caller: Caller) -> impl IntoResponse {
    if caller.can(UnitPrimitive::CompleteCode) {
        (StatusCode::OK, Json(json!({"ok": true})))
    } else {
        (
            StatusCode::FORBIDDEN,
            Json(json!({"detail": "Unauthorized to access code completions"})),
        )
    }
}

/// Issues a user token for the caller (what `/v1/code/user_access_token` will do).
async fn user_token(
    State(auth): State<Arc<Authenticator>>,
    caller: Caller,
) -> axum::response::Response {
    match auth.issue_user_token(
        &caller,
        &[UnitPrimitive::CompleteCode],
        Duration::from_secs(3600),
    ) {
        Ok((token, expires_at)) => {
            Json(json!({"token": token, "expires_at": expires_at})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

struct App {
    url: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl App {
    async fn start(config: &AuthConfig) -> Self {
        let auth = Arc::new(
            Authenticator::new(config, reqwest::Client::new()).expect("valid auth config"),
        );
        let app = axum::Router::new()
            .route("/v1/whoami", post(whoami))
            .route("/v2/code/completions", post(complete_code))
            .route("/v1/code/user_access_token", post(user_token))
            .route_layer(axum::middleware::from_fn_with_state(
                Arc::clone(&auth),
                require_auth,
            ))
            .with_state(Arc::clone(&auth));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { url, http, task }
    }

    /// POSTs `{}` to `path` with `headers`; returns status and JSON body.
    async fn post(&self, path: &str, headers: http::HeaderMap) -> (StatusCode, Value) {
        self.post_body(path, headers, "{}").await
    }

    async fn post_body(
        &self,
        path: &str,
        headers: http::HeaderMap,
        body: &'static str,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .headers(headers)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(response.headers()["content-type"], "application/json");
        }
        let body: Value = response.json().await.unwrap();
        (status, body)
    }

    async fn whoami(&self, headers: http::HeaderMap) -> (StatusCode, Value) {
        self.post("/v1/whoami", headers).await
    }
}

fn config_for(oidc: &FakeOidc) -> AuthConfig {
    AuthConfig {
        gitlab_url: Some(oidc.url()),
        signing_key: Some(Secret::new(SIGNING_KEY)),
        validation_key: Some(Secret::new(VALIDATION_KEY)),
        jwks_min_refresh_interval_s: 0,
        ..AuthConfig::default()
    }
}

fn error(message: &str) -> Value {
    json!({ "error": message })
}

fn with(mut headers: http::HeaderMap, name: &'static str, value: &str) -> http::HeaderMap {
    headers.insert(name, value.parse().unwrap());
    headers
}

fn without(mut headers: http::HeaderMap, name: &'static str) -> http::HeaderMap {
    headers.remove(name);
    headers
}

const FORBIDDEN: &str = "Forbidden by auth provider";

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

#[tokio::test]
async fn jwks_is_fetched_once_and_refetched_once_after_rotation() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    assert_eq!(
        oidc.jwks_fetches(),
        0,
        "keys are fetched lazily, not at start"
    );
    for _ in 0..5 {
        let token = oidc.token(&["complete_code"]);
        assert_eq!(app.whoami(gitlab_headers(&token)).await.0, StatusCode::OK);
    }
    assert_eq!(oidc.jwks_fetches(), 1);
    assert_eq!(oidc.discovery_fetches(), 1);

    oidc.rotate();
    let token = oidc.token(&["complete_code"]);
    assert_eq!(app.whoami(gitlab_headers(&token)).await.0, StatusCode::OK);
    assert_eq!(
        oidc.jwks_fetches(),
        2,
        "an unknown kid triggers exactly one refetch"
    );
    for _ in 0..3 {
        let token = oidc.token(&["complete_code"]);
        assert_eq!(app.whoami(gitlab_headers(&token)).await.0, StatusCode::OK);
    }
    assert_eq!(oidc.jwks_fetches(), 2);
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let oidc = FakeOidc::start().await;
    let app = Arc::new(App::start(&config_for(&oidc)).await);
    let token = oidc.token(&["complete_code"]);
    let requests = (0..16).map(|_| {
        let app = Arc::clone(&app);
        let token = token.clone();
        tokio::spawn(async move { app.whoami(gitlab_headers(&token)).await.0 })
    });
    for status in futures::future::join_all(requests).await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(oidc.jwks_fetches(), 1);
}

#[tokio::test]
async fn unknown_kid_is_refused_and_refreshes_are_rate_limited() {
    let oidc = FakeOidc::start().await;
    let config = AuthConfig {
        jwks_min_refresh_interval_s: 3600,
        ..config_for(&oidc)
    };
    let app = App::start(&config).await;
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK
    );
    let claims = oidc.claims().into_value();
    for _ in 0..5 {
        let token = oidc.sign_with_stranger_key(Some("no-such-kid"), &claims);
        assert_eq!(
            app.whoami(gitlab_headers(&token)).await,
            (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
        );
    }
    assert_eq!(
        oidc.jwks_fetches(),
        1,
        "unknown kids within the interval cause no refetch"
    );

    // With refreshes allowed, an unknown kid refetches, and is still refused.
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let token = oidc.sign_with_stranger_key(Some("no-such-kid"), &oidc.claims().into_value());
    assert_eq!(
        app.whoami(gitlab_headers(&token)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    assert_eq!(
        app.whoami(gitlab_headers(&token)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    assert_eq!(
        oidc.jwks_fetches(),
        2,
        "first use, then one refresh for the unknown kid"
    );
}

#[tokio::test]
async fn provider_down_gives_forbidden_and_recovers_when_it_is_back() {
    let oidc = FakeOidc::start().await;
    oidc.set_available(false);
    let app = App::start(&config_for(&oidc)).await;
    let token = oidc.token(&["complete_code"]);
    assert_eq!(
        app.whoami(gitlab_headers(&token)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    oidc.set_available(true);
    assert_eq!(app.whoami(gitlab_headers(&token)).await.0, StatusCode::OK);
    assert_eq!(oidc.jwks_fetches(), 1);

    // An issuer nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let app = App::start(&AuthConfig {
        gitlab_url: Some(closed),
        ..AuthConfig::default()
    })
    .await;
    assert_eq!(
        app.whoami(gitlab_headers(&token)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
}

/// Headers an IDE sends with a gateway-issued token.
fn user_headers(token: &str, user: &str) -> http::HeaderMap {
    with(gitlab_headers(token), "x-gitlab-global-user-id", user)
}

/// Gets a user token from the app for an instance token with `complete_code`.
async fn user_token_from(app: &App, oidc: &FakeOidc, user: &str) -> String {
    let headers = user_headers(&oidc.token(&["complete_code"]), user);
    let (status, body) = app.post("/v1/code/user_access_token", headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn gateway_issued_token_is_accepted_and_checked_against_the_user_header() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let token = user_token_from(&app, &oidc, "777").await;

    let (status, body) = app.whoami(user_headers(&token, "777")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "subject": "777",
            "issuer": "gitlab-ai-gateway",
            "scopes": ["complete_code"],
            "realm": REALM,
            "instance_id": INSTANCE_ID,
            "instance_uid": INSTANCE_UID,
            "gateway_issued": true,
            "bypassed": false,
        })
    );
    let mismatch = (
        StatusCode::UNAUTHORIZED,
        error("Header mismatch 'X-Gitlab-Global-User-Id'"),
    );
    assert_eq!(app.whoami(user_headers(&token, "778")).await, mismatch);
    assert_eq!(app.whoami(gitlab_headers(&token)).await, mismatch);
}

#[tokio::test]
async fn token_of_the_previous_key_is_accepted_during_rotation_only() {
    let oidc = FakeOidc::start().await;
    // Before the rotation: the old key signs.
    let before = App::start(&AuthConfig {
        signing_key: Some(Secret::new(VALIDATION_KEY)),
        validation_key: None,
        ..config_for(&oidc)
    })
    .await;
    let old_token = user_token_from(&before, &oidc, "42").await;

    // During the rotation: new signing key, old key as validation key.
    let during = App::start(&config_for(&oidc)).await;
    assert_eq!(
        during.whoami(user_headers(&old_token, "42")).await.0,
        StatusCode::OK
    );
    let new_token = user_token_from(&during, &oidc, "42").await;
    assert_eq!(
        during.whoami(user_headers(&new_token, "42")).await.0,
        StatusCode::OK
    );
    // The old deployment does not know the new key.
    assert_eq!(
        before.whoami(user_headers(&new_token, "42")).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );

    // After the rotation: the old key is gone.
    let after = App::start(&AuthConfig {
        validation_key: None,
        ..config_for(&oidc)
    })
    .await;
    assert_eq!(
        after.whoami(user_headers(&old_token, "42")).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    assert_eq!(
        after.whoami(user_headers(&new_token, "42")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn gateway_tokens_without_kid_are_verified_with_the_local_keys() {
    // GitLab's own gateway signs its tokens without a kid; replicas sharing the key must accept them.
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "iss": "gitlab-ai-gateway", "aud": "gitlab-ai-gateway", "sub": "9",
        "exp": now + 600, "nbf": now, "iat": now, "jti": "j",
        "gitlab_realm": REALM, "gitlab_instance_id": INSTANCE_ID, "scopes": ["complete_code"],
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(VALIDATION_KEY.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap();
    let (status, body) = app.whoami(user_headers(&token, "9")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["gateway_issued"], true);
}

#[tokio::test]
async fn an_instance_key_cannot_mint_gateway_tokens() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let forged = oidc
        .claims()
        .set("iss", "gitlab-ai-gateway")
        .subject("1")
        .sign();
    assert_eq!(
        app.whoami(user_headers(&forged, "1")).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
}

#[tokio::test]
async fn user_token_claims_follow_the_reference() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let (status, body) = app
        .post(
            "/v1/code/user_access_token",
            user_headers(&oidc.token(&["complete_code"]), "55"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = body["token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let mut insecure = jsonwebtoken::Validation::default();
    insecure.insecure_disable_signature_validation();
    insecure.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(&[]),
        &insecure,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["iss"], "gitlab-ai-gateway");
    assert_eq!(claims["aud"], "gitlab-ai-gateway");
    assert_eq!(claims["sub"], "55");
    assert_eq!(claims["gitlab_realm"], REALM);
    assert_eq!(claims["gitlab_instance_id"], INSTANCE_ID);
    assert_eq!(claims["gitlab_instance_uid"], INSTANCE_UID);
    assert_eq!(claims["scopes"], json!(["complete_code"]));
    assert_eq!(body["expires_at"], claims["exp"]);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);

    // No signing key: the token endpoint's 500.
    let app = App::start(&AuthConfig {
        signing_key: None,
        ..config_for(&oidc)
    })
    .await;
    assert_eq!(
        app.post(
            "/v1/code/user_access_token",
            user_headers(&oidc.token(&[]), "55")
        )
        .await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"detail": "Failed to generate JWT"})
        )
    );
}

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

#[test]
fn bad_settings_fail_at_start_naming_the_setting() {
    let http = reqwest::Client::new();
    let err = Authenticator::new(
        &AuthConfig {
            signing_key: Some(Secret::new(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            )),
            ..AuthConfig::default()
        },
        http.clone(),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("auth.signing_key: "), "{err}");
    let err = Authenticator::new(
        &AuthConfig {
            validation_key: Some(Secret::new("not a pem")),
            ..AuthConfig::default()
        },
        http.clone(),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("auth.validation_key: "),
        "{err}"
    );
    let public_only = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
    let err = Authenticator::new(
        &AuthConfig {
            signing_key: Some(Secret::new(public_only)),
            ..AuthConfig::default()
        },
        http.clone(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("is not an RSA private key"),
        "{err}"
    );
    let err = Authenticator::new(
        &AuthConfig {
            gitlab_url: Some("gitlab.example.com".into()),
            ..AuthConfig::default()
        },
        http.clone(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "auth.gitlab_url: 'gitlab.example.com' is not an http(s) URL"
    );
    // PEMs passed through an environment variable with literal \n are accepted.
    let escaped = SIGNING_KEY.trim().replace('\n', "\\n");
    assert!(
        Authenticator::new(
            &AuthConfig {
                signing_key: Some(Secret::new(escaped)),
                ..AuthConfig::default()
            },
            http,
        )
        .is_ok()
    );
}

#[test]
fn secrets_never_show_in_debug_output() {
    let config = AuthConfig {
        signing_key: Some(Secret::new(SIGNING_KEY)),
        ..AuthConfig::default()
    };
    let auth = Authenticator::new(&config, reqwest::Client::new()).unwrap();
    let key_line = SIGNING_KEY.lines().nth(1).unwrap();
    assert!(!format!("{config:?}").contains(key_line));
    assert!(!format!("{auth:?}").contains(key_line));
    assert!(format!("{auth:?}").contains("signing_key: true"));
}

#[test]
fn auth_error_messages_are_the_reference_strings() {
    assert_eq!(AuthError::Forbidden.message(), FORBIDDEN);
    assert_eq!(
        AuthError::MissingAuthorization.message(),
        "No authorization header presented"
    );
}

#[test]
fn config_fills_defaults_and_rejects_unknown_settings() {
    let config: AuthConfig = serde_json::from_str(
        r#"{"gitlab_url": "https://gitlab.example.com", "bypass_external": true}"#,
    )
    .unwrap();
    assert_eq!(
        config.gitlab_url.as_deref(),
        Some("https://gitlab.example.com")
    );
    assert!(config.bypass_external);
    assert!(!config.bypass_external_with_header);
    assert_eq!(config.audience, "gitlab-ai-gateway");
    assert_eq!(config.jwks_cache_ttl_s, 86_400);
    assert_eq!(config.jwks_min_refresh_interval_s, 10);
    let err = serde_json::from_str::<AuthConfig>(r#"{"bypass_externall": true}"#).unwrap_err();
    assert!(err.to_string().contains("bypass_externall"), "{err}");
}

#[tokio::test]
async fn expired_cache_is_refetched_and_kept_while_the_issuer_is_down() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&AuthConfig {
        jwks_cache_ttl_s: 1,
        ..config_for(&oidc)
    })
    .await;
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        oidc.jwks_fetches(),
        2,
        "an expired key set is fetched again"
    );

    oidc.set_available(false);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK,
        "the last keys stay usable while the issuer cannot be reached"
    );
    assert_eq!(oidc.jwks_fetches(), 2);
}
