//! A faulty issuer: a JWKS endpoint that hangs, documents far too large. Neither may queue
//! requests, cost more than one fetch timeout, or cost memory.

use super::harness::*;

const ONE_MIB: usize = 1024 * 1024;

#[tokio::test]
async fn known_keys_are_served_at_once_while_a_refresh_hangs() {
    // Before: four requests were refused after 10, 20, 30 and 40 s, with four fetches.
    let oidc = FakeOidc::start().await;
    let app = Arc::new(
        App::start(&AuthConfig {
            jwks_cache_ttl_s: 1,
            jwks_fetch_timeout_s: 10,
            ..config_for(&oidc)
        })
        .await,
    );
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await; // the cached set has expired
    oidc.set_jwks_mode(Mode::Hang);

    let tokens = (0..4).map(|_| oidc.token(&["complete_code"])).collect();
    for ((status, body), took) in whoami_concurrently(&app, tokens).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            took < Duration::from_secs(5),
            "answered after {took:?}: it waited for the hanging fetch (10 s timeout)"
        );
    }
    assert!(eventually(|| oidc.jwks_fetches() == 2).await);
    // The four requests started one background refresh between them, still hanging.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(oidc.jwks_fetches(), 2);
    assert_eq!(oidc.discovery_fetches(), 2);
}

#[tokio::test]
async fn unknown_kids_share_one_fetch_of_a_hanging_issuer() {
    let oidc = FakeOidc::start().await;
    let app = Arc::new(
        App::start(&AuthConfig {
            jwks_fetch_timeout_s: 2,
            ..config_for(&oidc) // no rate limit: only sharing the fetch keeps it at one
        })
        .await,
    );
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK
    );
    oidc.set_jwks_mode(Mode::Hang);
    oidc.rotate(); // tokens are now signed with a key the gateway has not seen

    let tokens: Vec<String> = (0..4).map(|_| oidc.token(&[])).collect();
    // Meanwhile, tokens of the key the gateway holds pass at once.
    oidc.rotate();
    let known: Vec<String> = (0..4).map(|_| oidc.token(&[])).collect();
    let (unknown, known) = tokio::join!(
        whoami_concurrently(&app, tokens),
        whoami_concurrently(&app, known)
    );
    for (reply, took) in unknown {
        assert_eq!(reply, (StatusCode::UNAUTHORIZED, error(FORBIDDEN)));
        assert!(
            (Duration::from_millis(1500)..Duration::from_secs(6)).contains(&took),
            "refused after {took:?}; expected about one fetch timeout (2 s), not four"
        );
    }
    for ((status, _), took) in known {
        assert_eq!(status, StatusCode::OK);
        assert!(took < Duration::from_millis(1500), "{took:?}");
    }
    assert_eq!(
        oidc.jwks_fetches(),
        2,
        "the four unknown kids shared one fetch"
    );
    assert_eq!(oidc.discovery_fetches(), 2);
}

#[tokio::test]
async fn oversized_documents_are_refused_without_being_read_whole() {
    let capture = duo_logging::LogCapture::default();
    let subscriber =
        duo_logging::subscriber(&duo_logging::LoggingConfig::default(), capture.clone()).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    for jwks in [true, false] {
        for declared_length in [true, false] {
            let case = format!("jwks: {jwks}, Content-Length: {declared_length}");
            let oidc = FakeOidc::start().await;
            let app = App::start(&config_for(&oidc)).await;
            let huge = Mode::Oversized {
                bytes: 64 * ONE_MIB,
                declared_length,
            };
            if jwks {
                oidc.set_jwks_mode(huge);
            } else {
                oidc.set_discovery_mode(huge);
            }
            assert_eq!(
                app.whoami(gitlab_headers(&oidc.token(&[]))).await,
                (StatusCode::UNAUTHORIZED, error(FORBIDDEN)),
                "{case}"
            );
            let sent = oidc.oversized_bytes_sent();
            println!("{case}: the issuer got {sent} of 64 MiB out before the gateway hung up");
            assert!(sent < 16 * ONE_MIB, "{case}: {sent} bytes were taken");

            // A document of normal size from the same issuer works right away.
            oidc.set_jwks_mode(Mode::Normal);
            oidc.set_discovery_mode(Mode::Normal);
            assert_eq!(
                app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
                StatusCode::OK,
                "{case}"
            );
        }
    }
    let refusals = capture
        .text()
        .lines()
        .filter(|l| l.contains("is over the 1048576-byte limit of OIDC documents"))
        .count();
    assert_eq!(refusals, 4, "each refusal is logged, naming the cap");
}

#[tokio::test]
async fn a_document_just_under_the_cap_is_read() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    oidc.set_jwks_mode(Mode::Oversized {
        bytes: ONE_MIB - 1,
        declared_length: false,
    });
    assert_eq!(
        app.whoami(gitlab_headers(&oidc.token(&[]))).await.0,
        StatusCode::OK
    );
}
