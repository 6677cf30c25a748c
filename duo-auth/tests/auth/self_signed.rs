//! Tokens the gateway signs itself: issuance, verification, key rotation, user-id header.

use super::harness::*;

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
}

#[tokio::test]
async fn without_a_signing_key_an_ephemeral_key_signs_tokens_for_this_process_only() {
    let capture = duo_logging::LogCapture::default();
    let subscriber =
        duo_logging::subscriber(&duo_logging::LoggingConfig::default(), capture.clone()).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    let oidc = FakeOidc::start().await;
    let config = AuthConfig {
        signing_key: None,
        validation_key: None,
        ..config_for(&oidc)
    };
    let app = App::start(&config).await;
    let auth = Authenticator::new(&config, &oidc_client()).unwrap();
    assert_eq!(
        auth.signing_key_source(),
        duo_auth::SigningKeySource::Ephemeral
    );
    assert!(format!("{auth:?}").contains("signing_key: Ephemeral"));
    let warnings = capture
        .text()
        .matches("ephemeral key generated at start")
        .count();
    assert_eq!(
        warnings, 2,
        "one warning per authenticator built (two here)"
    );

    let token = user_token_from(&app, &oidc, "55").await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some("gitlab_ai_gateway_signing_key"));
    let (status, body) = app.whoami(user_headers(&token, "55")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["gateway_issued"], true);
    assert_eq!(body["scopes"], json!(["complete_code"]));

    // Another process (a second replica) has its own ephemeral key; a configured RSA key
    // does not verify an ES256 token either.
    for other in [
        App::start(&config).await,
        App::start(&config_for(&oidc)).await,
    ] {
        assert_eq!(
            other.whoami(user_headers(&token, "55")).await,
            (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
        );
    }
    // And the ephemeral key does not verify tokens of the configured RSA key.
    let configured = App::start(&config_for(&oidc)).await;
    let rsa_token = user_token_from(&configured, &oidc, "55").await;
    assert_eq!(
        app.whoami(user_headers(&rsa_token, "55")).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
}
