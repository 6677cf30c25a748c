//! JWT parsing before and around the signature check: the JWS protected header (`crit`), the
//! claims (`TokenClaims`, lenient strings) and the issuer peeked at to pick the key source, and
//! `Authenticator::authenticate` on the headers of a request carrying the token.
//!
//! Two authenticators: one as deployed without an OIDC issuer (its own ephemeral signing key),
//! one with `bypass_jwt_signature` (claims checked, signature not). Checks: no panic; no token
//! the fuzzer makes is accepted where the signature counts; a token the unsigned authenticator
//! accepts has a readable, `crit`-free header and claims that parse, and the caller carries
//! their issuer and scopes; claims that parse have the same issuer when only it is peeked at.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use duo_auth::fuzzing::{jws_header_refusal, peeked_issuer, token_claims};
use duo_auth::{AuthConfig, Authenticator};
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

#[derive(Debug, Arbitrary)]
struct Input {
    /// The token as is (when valid in a header), instead of the three segments.
    raw: Option<String>,
    header: Vec<u8>,
    claims: Vec<u8>,
    signature: Vec<u8>,
    scheme: Scheme,
    instance_id: Option<String>,
    realm: Option<String>,
    global_user_id: Option<String>,
}

#[derive(Debug, Arbitrary)]
enum Scheme {
    Bearer,
    Lower,
    Other(String),
}

struct World {
    runtime: tokio::runtime::Runtime,
    signed: Authenticator,
    unsigned: Authenticator,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = common::runtime();
        let http = duo_providers::HttpClient::new(
            &duo_providers::HttpSettings::default(),
            std::time::Duration::from_secs(1),
            &duo_providers::EgressPolicy::default(),
        )
        .unwrap();
        let signed = Authenticator::new(&AuthConfig::default(), &http).unwrap();
        let config = AuthConfig {
            bypass_jwt_signature: true,
            ..AuthConfig::default()
        };
        let unsigned = Authenticator::new(&config, &http).unwrap();
        World {
            runtime,
            signed,
            unsigned,
        }
    })
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fuzz_target!(|input: Input| {
    let token = input.raw.clone().unwrap_or_else(|| {
        [&input.header, &input.claims, &input.signature]
            .map(|segment| URL_SAFE_NO_PAD.encode(segment))
            .join(".")
    });
    let refusal = jws_header_refusal(&token);
    let claims = token_claims(&input.claims);
    if let Ok((iss, _)) = &claims {
        assert_eq!(
            peeked_issuer(&input.claims).as_ref(),
            Ok(iss),
            "the peeked issuer"
        );
    }

    let scheme = match &input.scheme {
        Scheme::Bearer => "Bearer",
        Scheme::Lower => "bearer",
        Scheme::Other(s) => s.as_str(),
    };
    let mut headers = HeaderMap::new();
    insert(&mut headers, "authorization", &format!("{scheme} {token}"));
    insert(&mut headers, "x-gitlab-authentication-type", "oidc");
    for (name, value) in [
        ("x-gitlab-instance-id", &input.instance_id),
        ("x-gitlab-realm", &input.realm),
        ("x-gitlab-global-user-id", &input.global_user_id),
    ] {
        if let Some(value) = value {
            insert(&mut headers, name, value);
        }
    }

    let world = world();
    world.runtime.block_on(async {
        let signed = world.signed.authenticate(&headers).await;
        assert!(
            signed.is_err(),
            "a token the fuzzer made was accepted: {signed:?}"
        );
        if let Ok(caller) = world.unsigned.authenticate(&headers).await {
            assert_eq!(
                refusal, None,
                "an accepted token has a readable header without crit"
            );
            if input.raw.is_none() {
                let (iss, scopes) = claims.expect("an accepted token's claims parse");
                assert_eq!(caller.issuer, iss.unwrap_or_default());
                assert_eq!(caller.scopes.len(), scopes);
            }
        }
    });
});
