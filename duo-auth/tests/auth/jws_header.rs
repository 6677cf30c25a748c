//! The JWS protected header: `crit` naming extensions the gateway does not understand.

use super::harness::*;

#[tokio::test]
async fn a_crit_header_is_refused_before_any_key_is_fetched() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let claims = oidc.claims().scopes(&["complete_code"]).into_value();
    for extra in [
        json!({"crit": ["exp"], "exp": 1}),
        json!({"crit": ["b64"], "b64": false}),
        json!({"crit": ["urn:example:unknown"]}),
        json!({"crit": []}),
        json!({"crit": "not-a-list"}),
    ] {
        let token = oidc.sign_with_header(&extra, &claims);
        assert_eq!(
            app.whoami(gitlab_headers(&token)).await,
            (StatusCode::UNAUTHORIZED, error(FORBIDDEN)),
            "{extra}"
        );
    }
    assert_eq!(oidc.jwks_fetches(), 0, "refused before any key lookup");

    // The same header without `crit` (other unknown members are fine) passes.
    let token = oidc.sign_with_header(&json!({"x-note": "ignored"}), &claims);
    let (status, body) = app.whoami(gitlab_headers(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scopes"], json!(["complete_code"]));
}

#[tokio::test]
async fn a_crit_header_is_refused_on_gateway_tokens_and_without_signature_checks() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&AuthConfig {
        bypass_jwt_signature: true,
        ..config_for(&oidc)
    })
    .await;
    let token = oidc.sign_with_header(&json!({"crit": ["exp"]}), &oidc.claims().into_value());
    assert_eq!(
        app.whoami(gitlab_headers(&token)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    let plain = oidc.sign_with_header(&json!({}), &oidc.claims().into_value());
    assert_eq!(app.whoami(gitlab_headers(&plain)).await.0, StatusCode::OK);

    // A token signed with the gateway's own key, `crit` in its header.
    let app = App::start(&config_for(&oidc)).await;
    let good = user_token_from(&app, &oidc, "7").await;
    let (_, rest) = good.split_once('.').unwrap();
    let (claims, _) = rest.split_once('.').unwrap();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "gitlab_ai_gateway_signing_key", "crit": ["exp"]});
    let message = format!("{}.{claims}", b64(&header.to_string()));
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(SIGNING_KEY.as_bytes()).unwrap();
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::RS256)
            .unwrap();
    let forged = format!("{message}.{signature}");
    assert_eq!(app.whoami(user_headers(&good, "7")).await.0, StatusCode::OK);
    assert_eq!(
        app.whoami(user_headers(&forged, "7")).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
