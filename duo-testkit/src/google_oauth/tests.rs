//! Unit tests of the fake over real HTTP: assertions signed here, with `jsonwebtoken`, from the
//! fake's own key file, as a client library would sign them.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::*;
use crate::vertex::{FakeVertex, Reply};

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn key_file(oauth: &FakeGoogleOAuth) -> Value {
    serde_json::from_str(&oauth.service_account_json()).unwrap()
}

/// The claims a client library signs for `scope`.
fn claims(oauth: &FakeGoogleOAuth) -> Value {
    let key = key_file(oauth);
    let now = now();
    json!({"iss": key["client_email"], "scope": CLOUD_PLATFORM_SCOPE, "aud": key["token_uri"],
           "iat": now, "exp": now + 3600})
}

/// `claims` signed RS256 with `pem`, under `kid`.
fn sign_with(pem: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// `claims` signed as a client does it: the key file's private key, its `private_key_id`.
fn sign(oauth: &FakeGoogleOAuth, claims: &Value) -> String {
    let key = key_file(oauth);
    let pem = key["private_key"].as_str().unwrap();
    sign_with(pem, key["private_key_id"].as_str(), claims)
}

async fn exchange(oauth: &FakeGoogleOAuth, form: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::new()
        .post(oauth.token_uri())
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn grant(oauth: &FakeGoogleOAuth, assertion: &str) -> reqwest::Response {
    exchange(
        oauth,
        &[("grant_type", JWT_BEARER_GRANT), ("assertion", assertion)],
    )
    .await
}

async fn refusal(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn gemini_call(vertex: &FakeVertex, token: &str) -> reqwest::RequestBuilder {
    let url = format!(
        "{}/v1/projects/{PROJECT_ID}/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
        vertex.url()
    );
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
}

#[tokio::test]
async fn a_signed_assertion_gets_a_token_the_trusting_vertex_accepts() {
    let oauth = FakeGoogleOAuth::start().await;
    let signed_claims = claims(&oauth);
    let response = grant(&oauth, &sign(&oauth, &signed_claims)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    assert!(
        body.starts_with("{\n  \"access_token\": \"ya29.fake-1-"),
        "{body}"
    );
    assert!(
        body.ends_with("\",\n  \"expires_in\": 3599,\n  \"token_type\": \"Bearer\"\n}"),
        "{body}"
    );
    let token: Value = serde_json::from_str(&body).unwrap();
    let token = token["access_token"].as_str().unwrap();
    assert!(oauth.is_valid(token));
    assert!(!oauth.is_valid("ya29.fake-1-forged"));
    assert_eq!(oauth.issued_tokens(), [token]);
    assert_eq!(oauth.exchanges(), 1);
    assert_eq!(oauth.last_assertion_claims(), Some(signed_claims));
    let recorded = oauth.last_request().unwrap();
    assert_eq!(
        (recorded.method.as_str(), recorded.path.as_str()),
        ("POST", "/token")
    );
    assert!(
        recorded.raw_body.starts_with(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=ey"
        ),
        "{}",
        recorded.raw_body
    );

    let vertex = FakeVertex::start().await;
    vertex.trust(&oauth).script(Reply::text("granted"));
    let refused = gemini_call(&vertex, "ya29.not-issued")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let granted = gemini_call(&vertex, token).send().await.unwrap();
    assert_eq!(granted.status(), 200);
    let answer: Value = granted.json().await.unwrap();
    assert_eq!(
        answer["candidates"][0]["content"]["parts"][0]["text"],
        "granted"
    );

    // A token issued already expired is refused, by the oauth fake and by Vertex.
    oauth.set_expires_in(0);
    let expired: Value = grant(&oauth, &sign(&oauth, &claims(&oauth)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(expired["expires_in"], 0);
    let expired = expired["access_token"].as_str().unwrap();
    assert!(!oauth.is_valid(expired));
    let refused = gemini_call(&vertex, expired).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(oauth.exchanges(), 2);
}

#[tokio::test]
async fn refusals_carry_googles_error_and_description() {
    let oauth = FakeGoogleOAuth::start().await;
    let short_lived = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a \
                       reasonable timeframe. Check your iat and exp values in the JWT claim.";
    let (now, good) = (now(), claims(&oauth));
    let with = |name: &str, value: Value| {
        let mut c = good.clone();
        c[name] = value;
        c
    };
    let kid = Some(PRIVATE_KEY_ID);
    let cases: Vec<(&str, String, &str, String)> = vec![
        (
            "another key",
            sign_with(crate::keys::VALIDATION_KEY, kid, &good),
            "invalid_grant",
            "Invalid JWT Signature.".into(),
        ),
        (
            "another kid",
            sign_with(crate::keys::SIGNING_KEY, Some("0123"), &good),
            "invalid_grant",
            "Invalid JWT Signature.".into(),
        ),
        (
            "HS256",
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &good,
                &EncodingKey::from_secret(b"k"),
            )
            .unwrap(),
            "invalid_grant",
            "Invalid JWT Signature.".into(),
        ),
        (
            "not a JWT",
            "not.a.jwt".into(),
            "invalid_grant",
            "Invalid JWT Signature.".into(),
        ),
        (
            "google's audience",
            sign(
                &oauth,
                &with("aud", json!("https://oauth2.googleapis.com/token")),
            ),
            "invalid_grant",
            format!(
                "Invalid JWT: Failed audience check. The right audience is {}",
                oauth.token_uri()
            ),
        ),
        (
            "another account",
            sign(
                &oauth,
                &with("iss", json!("other@p.iam.gserviceaccount.com")),
            ),
            "invalid_grant",
            "Invalid grant: account not found".into(),
        ),
        (
            "expired",
            sign(&oauth, &with("exp", json!(now - 10))),
            "invalid_grant",
            short_lived.into(),
        ),
        (
            "longer than an hour",
            sign(&oauth, &with("exp", json!(now + 3601))),
            "invalid_grant",
            short_lived.into(),
        ),
        (
            "issued in the future",
            sign(&oauth, &with("iat", json!(now + 120))),
            "invalid_grant",
            short_lived.into(),
        ),
        (
            "iat not an integer",
            sign(&oauth, &with("iat", json!("now"))),
            "invalid_grant",
            short_lived.into(),
        ),
        (
            "blank scope",
            sign(&oauth, &with("scope", json!("  "))),
            "invalid_scope",
            "Empty or missing scope not allowed.".into(),
        ),
    ];
    for (case, assertion, error, description) in cases {
        let (status, body) = refusal(grant(&oauth, &assertion).await).await;
        assert_eq!(status, 400, "{case}");
        assert_eq!(
            body,
            json!({"error": error, "error_description": description}),
            "{case}"
        );
    }

    let signed = sign(&oauth, &good);
    let other_grant = [("grant_type", "client_credentials"), ("assertion", &signed)];
    assert_eq!(
        exchange(&oauth, &other_grant).await.text().await.unwrap(),
        "{\n  \"error\": \"unsupported_grant_type\",\n  \"error_description\": \"Invalid grant_type: client_credentials\"\n}"
    );
    let (status, body) = refusal(exchange(&oauth, &[("grant_type", JWT_BEARER_GRANT)]).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "Missing required parameter: assertion"})
    );
    let as_json = reqwest::Client::new()
        .post(oauth.token_uri())
        .json(&json!({"grant_type": JWT_BEARER_GRANT, "assertion": signed}))
        .send()
        .await
        .unwrap();
    let (status, body) = refusal(as_json).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    assert_eq!(oauth.exchanges(), 0);
    assert!(oauth.issued_tokens().is_empty());
    assert_eq!(oauth.last_assertion_claims(), None);
    // The same assertion, well formed, still works: nothing above was a server fault.
    assert_eq!(grant(&oauth, &signed).await.status(), 200);
}

#[tokio::test]
async fn scripted_failures_are_used_once_by_either_token_route() {
    let oauth = FakeGoogleOAuth::start().await;
    oauth
        .fail_next(503, json!({"error": "backend_error"}))
        .fail_next(500, json!({"error": "internal_failure"}));
    let assertion = sign(&oauth, &claims(&oauth));
    let (status, body) = refusal(grant(&oauth, &assertion).await).await;
    assert_eq!((status, body), (503, json!({"error": "backend_error"})));

    let metadata = format!("http://{}{METADATA_TOKEN_PATH}", oauth.metadata_host());
    let flavored = || {
        reqwest::Client::new()
            .get(&metadata)
            .header("Metadata-Flavor", "Google")
            .send()
    };
    let failed = flavored().await.unwrap();
    assert_eq!(failed.headers()["metadata-flavor"], "Google");
    let (status, body) = refusal(failed).await;
    assert_eq!((status, body), (500, json!({"error": "internal_failure"})));

    assert_eq!(grant(&oauth, &assertion).await.status(), 200);
    assert_eq!(flavored().await.unwrap().status(), 200);
    assert_eq!(oauth.exchanges(), 2);
}

#[tokio::test]
async fn the_metadata_server_needs_its_flavor_header() {
    let oauth = FakeGoogleOAuth::start().await;
    let base = format!("http://{}", oauth.metadata_host());
    let client = reqwest::Client::new();

    let bare = client
        .get(format!("{base}{METADATA_TOKEN_PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 403);
    assert_eq!(bare.headers()["metadata-flavor"], "Google");
    assert_eq!(bare.headers()["content-type"], "text/html; charset=UTF-8");
    let page = bare.text().await.unwrap();
    assert!(page.contains("Error 403 (Forbidden)"), "{page}");
    assert!(
        page.contains(&format!(
            "<code>{METADATA_TOKEN_PATH}</code> from this server. Missing Metadata-Flavor:Google header."
        )),
        "{page}"
    );
    assert_eq!(oauth.exchanges(), 0);

    oauth.set_expires_in(1800);
    let token = client
        .get(format!(
            "{base}{METADATA_TOKEN_PATH}?scopes={CLOUD_PLATFORM_SCOPE}"
        ))
        .header("Metadata-Flavor", "Google")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    assert_eq!(token.headers()["metadata-flavor"], "Google");
    let body = token.text().await.unwrap();
    assert!(
        body.starts_with(r#"{"access_token":"ya29.fake-1-"#),
        "{body}"
    );
    assert!(
        body.ends_with(r#"","expires_in":1800,"token_type":"Bearer"}"#),
        "{body}"
    );
    let recorded = oauth.last_request().unwrap();
    assert_eq!(
        recorded.query_param("scopes"),
        Some(CLOUD_PLATFORM_SCOPE),
        "the scopes query is recorded"
    );
    assert!(oauth.is_valid(&oauth.issued_tokens()[0]));

    let project = client
        .get(format!("{base}{METADATA_PROJECT_PATH}"))
        .header("Metadata-Flavor", "Google")
        .send()
        .await
        .unwrap();
    assert_eq!(
        project.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(project.text().await.unwrap(), oauth.project_id());
    assert_eq!(oauth.exchanges(), 1);
    assert_eq!(oauth.requests().len(), 3);
}

#[tokio::test]
async fn the_key_file_is_complete_and_written_where_asked() {
    let oauth = FakeGoogleOAuth::start().await;
    let text = oauth.service_account_json();
    assert!(
        text.starts_with(
            "{\n  \"type\": \"service_account\",\n  \"project_id\": \"duo-fake-project\",\n"
        ),
        "{text}"
    );
    let key = key_file(&oauth);
    let fields: Vec<&str> = key
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "type",
        "project_id",
        "private_key_id",
        "private_key",
        "client_email",
        "client_id",
        "auth_uri",
        "token_uri",
        "auth_provider_x509_cert_url",
        "client_x509_cert_url",
        "universe_domain",
    ];
    expected.sort_unstable();
    assert_eq!(fields, expected);
    assert_eq!(key["private_key"], crate::keys::SIGNING_KEY);
    assert!(text.contains(r#""private_key": "-----BEGIN PRIVATE KEY-----\n"#));
    assert_eq!(key["client_email"], oauth.client_email());
    assert!(
        oauth
            .client_email()
            .ends_with("@duo-fake-project.iam.gserviceaccount.com")
    );
    assert_eq!(key["token_uri"], format!("{}/token", oauth.url()));
    assert_eq!(key["private_key_id"], oauth.private_key_id());

    let dir = std::env::temp_dir().join(format!("duo-testkit-sa-{}", oauth.addr().port()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = oauth.write_service_account(&dir).unwrap();
    assert_eq!(path, dir.join("service-account.json"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    std::fs::remove_dir_all(&dir).unwrap();
}
