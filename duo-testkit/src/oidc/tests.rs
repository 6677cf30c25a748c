//! Unit tests of the fake issuer over a raw socket.

use super::*;

#[tokio::test]
async fn serves_discovery_and_jwks_and_counts_fetches() {
    let oidc = FakeOidc::start().await;
    let client =
        reqwest_free_get(&format!("{}/.well-known/openid-configuration", oidc.url())).await;
    let doc: Value = serde_json::from_str(&client).unwrap();
    assert_eq!(doc["issuer"], oidc.url());
    assert_eq!(doc["jwks_uri"], oidc.jwks_uri());
    let keys: Value = serde_json::from_str(&reqwest_free_get(&oidc.jwks_uri()).await).unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
    assert_eq!(keys["keys"][0]["kid"], "fake-oidc-key-1");
    assert_eq!(oidc.jwks_fetches(), 1);
    assert_eq!(oidc.discovery_fetches(), 1);

    oidc.rotate();
    assert_eq!(oidc.current_kid(), "fake-oidc-key-2");
    let keys: Value = serde_json::from_str(&reqwest_free_get(&oidc.jwks_uri()).await).unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    oidc.retire_old_keys();
    let keys: Value = serde_json::from_str(&reqwest_free_get(&oidc.jwks_uri()).await).unwrap();
    assert_eq!(keys["keys"][0]["kid"], "fake-oidc-key-2");
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn tokens_verify_against_the_published_jwk() {
    let oidc = FakeOidc::start().await;
    let token = oidc.token(&["complete_code"]);
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("fake-oidc-key-1"));
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(oidc.shared.all[0].jwk.clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.set_audience(&[AUDIENCE]);
    let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims["scopes"], json!(["complete_code"]));
    assert_eq!(data.claims["gitlab_realm"], REALM);
    let forged = oidc.sign_with_stranger_key(Some("fake-oidc-key-1"), &data.claims);
    assert!(jsonwebtoken::decode::<Value>(&forged, &key, &validation).is_err());
}

#[tokio::test]
async fn headers_with_extra_members_sign_verifiable_tokens() {
    let oidc = FakeOidc::start().await;
    let token = oidc.sign_with_header(
        &json!({"crit": ["exp"], "exp": 1}),
        &oidc.claims().into_value(),
    );
    let header_segment = token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_segment).unwrap()).unwrap();
    assert_eq!(
        header,
        json!({"alg": "RS256", "typ": "JWT", "kid": "fake-oidc-key-1", "crit": ["exp"], "exp": 1})
    );
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(oidc.shared.all[0].jwk.clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.set_audience(&[AUDIENCE]);
    // jsonwebtoken drops `crit` and accepts the token: why the gateway checks it itself.
    assert!(jsonwebtoken::decode::<Value>(&token, &key, &validation).is_ok());
}

#[tokio::test]
async fn modes_hang_or_pad_the_documents() {
    let oidc = FakeOidc::start().await;
    oidc.set_jwks_mode(Mode::Hang);
    let hung = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        raw_get(&oidc.jwks_uri()),
    )
    .await;
    assert!(hung.is_err(), "a hanging endpoint does not answer");
    assert_eq!(oidc.jwks_fetches(), 1, "the hung request is counted");

    for declared_length in [true, false] {
        oidc.set_discovery_mode(Mode::Oversized {
            bytes: 300_000,
            declared_length,
        });
        let before = oidc.oversized_bytes_sent();
        let (head, body) =
            raw_get(&format!("{}/.well-known/openid-configuration", oidc.url())).await;
        let head = head.to_ascii_lowercase();
        assert_eq!(
            head.contains("content-length: 300000"),
            declared_length,
            "{head}"
        );
        assert_eq!(
            head.contains("transfer-encoding: chunked"),
            !declared_length,
            "{head}"
        );
        assert_eq!(oidc.oversized_bytes_sent() - before, 300_000);
        if declared_length {
            let doc: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(doc["jwks_uri"], oidc.jwks_uri(), "still a valid document");
        }
    }
}

/// The body of a GET (see [`raw_get`]).
async fn reqwest_free_get(url: &str) -> String {
    raw_get(url).await.1
}

/// A minimal HTTP/1.1 GET over a raw socket (the test kit has no HTTP client dependency):
/// head and body.
async fn raw_get(url: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    (head.to_owned(), body.to_owned())
}
