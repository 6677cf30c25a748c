//! Key discovery: lazy fetch, cache, rotation, rate limits, single flight, issuer down.

use super::harness::*;

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
        2,
        "the first unknown kid refetches once (the first fetch did not spend its budget), \
         the next four within the interval cause no refetch"
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
        StatusCode::OK,
        "an expired set still verifies its own kids"
    );
    assert!(
        eventually(|| oidc.jwks_fetches() == 2).await,
        "an expired key set is fetched again, in the background"
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

#[tokio::test]
async fn a_key_published_right_after_the_first_fetch_is_accepted_on_first_use() {
    // Before: the first fetch spent the unknown-kid budget, so this key was refused for 10 s.
    let oidc = FakeOidc::start().await;
    let app = App::start(&AuthConfig {
        jwks_min_refresh_interval_s: 3600,
        ..config_for(&oidc)
    })
    .await;
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK
    );
    oidc.rotate(); // publishes a second key and signs with it
    let (status, body) = app
        .whoami(gitlab_headers(&oidc.token(&["complete_code"])))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scopes"], json!(["complete_code"]));
    assert_eq!(oidc.jwks_fetches(), 2);

    // Now the unknown-kid budget is spent: a forged kid costs no fetch, known kids still pass.
    let forged = oidc.sign_with_stranger_key(Some("forged-kid"), &oidc.claims().into_value());
    assert_eq!(
        app.whoami(gitlab_headers(&forged)).await,
        (StatusCode::UNAUTHORIZED, error(FORBIDDEN))
    );
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK
    );
    assert_eq!(oidc.jwks_fetches(), 2);
}
