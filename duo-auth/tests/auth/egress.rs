//! Discovery and key fetches go through the egress policy: an issuer whose name resolves to the
//! cloud metadata address is never connected to, and a redirect is not followed.

use std::net::IpAddr;

use duo_testkit::dns::StaticResolver;
use duo_testkit::oidc::JWKS_PATH;

use super::harness::*;

/// A client with the default policy (loopback allowed, link-local refused) and names resolved
/// by `resolver`.
fn client_resolving_with(resolver: &StaticResolver) -> duo_providers::HttpClient {
    duo_providers::HttpClient::new(
        &duo_providers::HttpSettings::default(),
        Duration::from_secs(5),
        &duo_providers::EgressPolicy::default().with_resolver(resolver.shared()),
    )
    .expect("the HTTP client builds")
}

/// The fake issuer's URL with its host replaced by `host`.
fn named(oidc: &FakeOidc, host: &str) -> String {
    oidc.url().replace("127.0.0.1", host)
}

#[tokio::test]
async fn an_issuer_name_that_resolves_to_the_metadata_address_is_never_fetched() {
    let oidc = FakeOidc::start().await;
    for (address, expected) in [
        // The control: the same name resolving to the fake issuer is served.
        ("127.0.0.1", StatusCode::OK),
        ("169.254.169.254", StatusCode::UNAUTHORIZED),
        ("::ffff:169.254.169.254", StatusCode::UNAUTHORIZED),
    ] {
        let ip: IpAddr = address.parse().unwrap();
        let resolver = StaticResolver::new().with("gitlab.evil.test", &[ip]);
        let config = AuthConfig {
            gitlab_url: Some(named(&oidc, "gitlab.evil.test")),
            ..config_for(&oidc)
        };
        let app = App::start_with(&config, &client_resolving_with(&resolver)).await;
        let started = Instant::now();
        let (status, body) = app.whoami(gitlab_headers(&oidc.token(&[]))).await;
        assert_eq!(status, expected, "{address}: {body}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{address}: answered after {:?} (refused addresses are not dialled)",
            started.elapsed()
        );
        if expected == StatusCode::UNAUTHORIZED {
            assert_eq!(body, error("Forbidden by auth provider"), "{address}");
        }
    }
    // Only the control reached the issuer.
    assert_eq!(oidc.discovery_fetches(), 1);
}

#[tokio::test]
async fn a_redirecting_discovery_document_is_not_followed() {
    let elsewhere = FakeOidc::start().await;
    let issuer = FakeOidc::start().await;
    issuer.set_discovery_mode(Mode::Redirect(format!(
        "{}/.well-known/openid-configuration",
        elsewhere.url()
    )));
    let app = App::start(&config_for(&issuer)).await;
    let (status, body) = app.whoami(gitlab_headers(&issuer.token(&[]))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body, error("Forbidden by auth provider"));
    assert_eq!(issuer.discovery_fetches(), 1);
    assert_eq!(
        elsewhere.discovery_fetches(),
        0,
        "the redirect was followed"
    );
    assert_eq!(elsewhere.jwks_fetches(), 0);
}

#[tokio::test]
async fn a_redirecting_key_set_is_not_followed() {
    let elsewhere = FakeOidc::start().await;
    let issuer = FakeOidc::start().await;
    issuer.set_jwks_mode(Mode::Redirect(format!("{}{JWKS_PATH}", elsewhere.url())));
    let app = App::start(&config_for(&issuer)).await;
    let (status, body) = app.whoami(gitlab_headers(&issuer.token(&[]))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body, error("Forbidden by auth provider"));
    assert_eq!(issuer.jwks_fetches(), 1);
    assert_eq!(elsewhere.jwks_fetches(), 0, "the redirect was followed");
}
