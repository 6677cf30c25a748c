//! The test app: a few routes behind `require_auth`, served on loopback, and request helpers.

pub(crate) use std::sync::Arc;
pub(crate) use std::time::{Duration, Instant};

pub(crate) use axum::Json;
pub(crate) use axum::extract::State;
pub(crate) use axum::http::StatusCode;
pub(crate) use axum::response::IntoResponse;
pub(crate) use axum::routing::post;
pub(crate) use duo_auth::{AuthConfig, AuthError, Authenticator, Caller, require_auth};
pub(crate) use duo_core::{Secret, UnitPrimitive};
pub(crate) use duo_testkit::oidc::{
    FakeOidc, INSTANCE_ID, INSTANCE_UID, Mode, REALM, gitlab_headers,
};
pub(crate) use serde_json::{Value, json};

pub(crate) use duo_testkit::keys::{SIGNING_KEY, VALIDATION_KEY};

/// What the app answers: the authenticated caller, as JSON.
pub(crate) async fn whoami(caller: Caller, Json(_body): Json<Value>) -> Json<Value> {
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
pub(crate) async fn complete_code(caller: Caller) -> impl IntoResponse {
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
pub(crate) async fn user_token(
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

/// The client of discovery and key fetches: duo-providers' HTTP client, default egress policy
/// (loopback allowed, redirects not followed).
pub(crate) fn oidc_client() -> duo_providers::HttpClient {
    duo_providers::HttpClient::new(
        &duo_providers::HttpSettings::default(),
        Duration::from_secs(5),
        &duo_providers::EgressPolicy::default(),
    )
    .expect("the default HTTP client builds")
}

pub(crate) struct App {
    pub(crate) url: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl App {
    pub(crate) async fn start(config: &AuthConfig) -> Self {
        Self::start_with(config, &oidc_client()).await
    }

    /// [`start`](Self::start) with the given client for discovery and key fetches.
    pub(crate) async fn start_with(
        config: &AuthConfig,
        client: &duo_providers::HttpClient,
    ) -> Self {
        let auth = Arc::new(Authenticator::new(config, client).expect("valid auth config"));
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
    pub(crate) async fn post(&self, path: &str, headers: http::HeaderMap) -> (StatusCode, Value) {
        self.post_body(path, headers, "{}").await
    }

    pub(crate) async fn post_body(
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

    pub(crate) async fn whoami(&self, headers: http::HeaderMap) -> (StatusCode, Value) {
        self.post("/v1/whoami", headers).await
    }
}

pub(crate) fn config_for(oidc: &FakeOidc) -> AuthConfig {
    AuthConfig {
        gitlab_url: Some(oidc.url()),
        signing_key: Some(Secret::new(SIGNING_KEY)),
        validation_key: Some(Secret::new(VALIDATION_KEY)),
        jwks_min_refresh_interval_s: 0,
        ..AuthConfig::default()
    }
}

pub(crate) fn error(message: &str) -> Value {
    json!({ "error": message })
}

pub(crate) fn with(
    mut headers: http::HeaderMap,
    name: &'static str,
    value: &str,
) -> http::HeaderMap {
    headers.insert(name, value.parse().unwrap());
    headers
}

pub(crate) fn without(mut headers: http::HeaderMap, name: &'static str) -> http::HeaderMap {
    headers.remove(name);
    headers
}

pub(crate) const FORBIDDEN: &str = "Forbidden by auth provider";

/// Headers an IDE sends with a gateway-issued token.
pub(crate) fn user_headers(token: &str, user: &str) -> http::HeaderMap {
    with(gitlab_headers(token), "x-gitlab-global-user-id", user)
}

/// Gets a user token from the app for an instance token with `complete_code`.
pub(crate) async fn user_token_from(app: &App, oidc: &FakeOidc, user: &str) -> String {
    let headers = user_headers(&oidc.token(&["complete_code"]), user);
    let (status, body) = app.post("/v1/code/user_access_token", headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// Waits (up to 10 s) until `done` holds; false if it never does.
pub(crate) async fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Sends `tokens` to `/v1/whoami` all at once; each answer with the time it took from the start.
pub(crate) async fn whoami_concurrently(
    app: &Arc<App>,
    tokens: Vec<String>,
) -> Vec<((StatusCode, Value), Duration)> {
    let started = Instant::now();
    let requests = tokens.into_iter().map(|token| {
        let app = Arc::clone(app);
        tokio::spawn(async move {
            let reply = app.whoami(gitlab_headers(&token)).await;
            (reply, started.elapsed())
        })
    });
    futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}
