//! How Bedrock calls authenticate, through the real AWS SDK against `FakeBedrock` (and
//! `FakeSts`) over loopback: a Bedrock API key as a bearer token (never signed, never shown),
//! SigV4 without one, and a role assumed through STS before signing.
#![cfg(feature = "bedrock")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use duo_core::{
    Error, FinishReason, LanguageModel, ModelEndpoint, ModelFamily, ModelIdentifier, ModelRequest,
    Prompt, Secret, StreamEvent,
};
use duo_providers::EgressPolicy;
use duo_providers::bedrock::{BedrockModel, BedrockProvider, BedrockSettings};
use duo_testkit::bedrock::{
    API_KEY_REJECTED, Answer, AssumedCredentials, Auth, ErrorReply, FakeBedrock, FakeSts,
    StreamException,
};
use duo_testkit::dns::StaticResolver;
use futures::StreamExt;

const API_KEY: &str = "ABSKQmVkcm9ja0FQSUtleS1hYmNkZWYxMjM0NTY3ODkw";
const BASE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYBASESECRET";
const ROLE: &str = "arn:aws:iam::123456789012:role/bedrock-caller";

fn endpoint() -> ModelEndpoint {
    ModelEndpoint::new(
        ModelIdentifier::parse("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0").unwrap(),
        ModelFamily::Claude3,
    )
}

fn request() -> ModelRequest {
    ModelRequest::new(Prompt::Text("def add(a, b):".into()))
}

fn with_api_key(fake: &FakeBedrock, key: &str) -> BedrockSettings {
    BedrockSettings {
        region: Some("us-east-1".into()),
        api_key: Some(Secret::new(key)),
        endpoint_url: Some(fake.url()),
        ..BedrockSettings::default()
    }
}

fn with_static_keys(fake: &FakeBedrock) -> BedrockSettings {
    BedrockSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDBASE".into()),
        secret_access_key: Some(Secret::new(BASE_SECRET)),
        endpoint_url: Some(fake.url()),
        ..BedrockSettings::default()
    }
}

async fn model(settings: BedrockSettings) -> BedrockModel {
    BedrockProvider::new(settings)
        .model(&endpoint())
        .await
        .unwrap()
}

async fn stream_events(model: &BedrockModel) -> Vec<Result<StreamEvent, Error>> {
    model
        .generate_stream(&request())
        .await
        .unwrap()
        .collect()
        .await
}

#[tokio::test]
async fn an_api_key_is_sent_as_a_bearer_token_and_nothing_is_signed() {
    let fake = FakeBedrock::start().await;
    fake.require_bearer(API_KEY);
    let model = model(with_api_key(&fake, API_KEY)).await;
    let generation = model.generate(&request()).await.unwrap();
    assert_eq!(generation.text, "Hello from Bedrock");
    let events = stream_events(&model).await;
    assert!(
        matches!(
            events.last(),
            Some(Ok(StreamEvent::Finish {
                reason: FinishReason::Stop,
                ..
            }))
        ),
        "{events:?}"
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.auth, Auth::Bearer(API_KEY.into()));
        assert_eq!(
            request.header("authorization").unwrap(),
            format!("Bearer {API_KEY}")
        );
        assert!(request.header("x-amz-date").is_none(), "not SigV4-signed");
        assert!(request.header("x-amz-security-token").is_none());
        assert!(request.header("x-amz-content-sha256").is_none());
    }
}

#[tokio::test]
async fn without_a_key_requests_are_sigv4_signed_and_a_key_checking_bedrock_refuses_them() {
    let fake = FakeBedrock::start().await;
    let signed = model(with_static_keys(&fake)).await;
    signed.generate(&request()).await.unwrap();
    let auth = &fake.requests()[0].auth;
    assert!(auth.is_sigv4(), "{auth:?}");
    assert_eq!(auth.access_key_id(), Some("AKIDBASE"));
    assert!(fake.requests()[0].header("x-amz-date").is_some());

    fake.require_bearer(API_KEY);
    let err = signed.generate(&request()).await.unwrap_err();
    match &err {
        Error::UpstreamAuth {
            status, message, ..
        } => {
            assert_eq!(*status, 403);
            assert!(message.contains(API_KEY_REJECTED), "{message}");
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert!(fake.requests()[1].auth.is_sigv4());
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_a_key_is_scrubbed_from_every_error() {
    let fake = FakeBedrock::start().await;
    fake.require_bearer("ABSK-the-right-key");
    let wrong = model(with_api_key(&fake, API_KEY)).await;
    let refused = wrong.generate(&request()).await.unwrap_err();
    assert_eq!(refused.kind(), "upstream_auth");
    assert_eq!(fake.requests()[0].auth.bearer(), Some(API_KEY));

    // An upstream that echoes the key, before the stream and inside it.
    let echo = FakeBedrock::start().await;
    let model = model(with_api_key(&echo, API_KEY)).await;
    echo.push(ErrorReply::new(
        400,
        "ValidationException",
        format!("malformed key {API_KEY}"),
    ));
    echo.push(ErrorReply::new(
        400,
        "ValidationException",
        format!("key {API_KEY}"),
    ));
    echo.push(Answer::chunks(["a", "b"]).exception_after_frames(
        2,
        StreamException::new("validationException", format!("bad key {API_KEY}")),
    ));
    let errors = [
        refused,
        model.generate(&request()).await.unwrap_err(),
        model.generate_stream(&request()).await.err().unwrap(),
        stream_events(&model)
            .await
            .into_iter()
            .find_map(Result::err)
            .unwrap(),
    ];
    for err in &errors {
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(API_KEY), "{shown}");
    }
    assert!(
        errors[1].to_string().contains("malformed key **********"),
        "{}",
        errors[1]
    );
    assert_eq!(errors[3].kind(), "upstream_status");
    assert!(!format!("{model:?}").contains(API_KEY));
    let provider = BedrockProvider::new(with_api_key(&echo, API_KEY));
    assert!(!format!("{provider:?}").contains(API_KEY));
}

#[tokio::test]
async fn an_api_key_no_header_can_carry_is_a_config_error_before_any_request() {
    let fake = FakeBedrock::start().await;
    let err = BedrockProvider::new(with_api_key(&fake, "ABSK key with spaces"))
        .model(&endpoint())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("api_key")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("key with spaces"));
    assert!(fake.requests().is_empty());
}

fn with_role(fake: &FakeBedrock, sts_url: String) -> BedrockSettings {
    BedrockSettings {
        role_arn: Some(ROLE.into()),
        external_id: Some("duo-customer-7f3a".into()),
        sts_endpoint_url: Some(sts_url),
        ..with_static_keys(fake)
    }
}

#[tokio::test]
async fn a_role_is_assumed_once_and_bedrock_calls_are_signed_with_its_credentials() {
    let fake = FakeBedrock::start().await;
    let sts = FakeSts::start().await;
    let assumed = AssumedCredentials::default();
    let model = model(with_role(&fake, sts.url())).await;
    model.generate(&request()).await.unwrap();
    assert!(stream_events(&model).await.iter().all(Result::is_ok));

    let sts_requests = sts.requests();
    assert_eq!(sts_requests.len(), 1, "the assumed credentials are cached");
    let call = &sts_requests[0];
    assert_eq!(call.param("Action"), Some("AssumeRole"));
    assert_eq!(call.param("Version"), Some("2011-06-15"));
    assert_eq!(call.param("RoleArn"), Some(ROLE));
    assert_eq!(call.param("ExternalId"), Some("duo-customer-7f3a"));
    assert_eq!(call.param("RoleSessionName"), Some("duo-gateway"));
    assert_eq!(
        call.auth,
        Auth::SigV4 {
            access_key_id: "AKIDBASE".into(),
            region: "us-east-1".into(),
            service: "sts".into(),
        },
        "STS is called with the base credentials"
    );

    let bedrock_requests = fake.requests();
    assert_eq!(bedrock_requests.len(), 2);
    for request in &bedrock_requests {
        assert_eq!(
            request.auth.access_key_id(),
            Some(assumed.access_key_id.as_str())
        );
        assert_eq!(
            request.header("x-amz-security-token"),
            Some(assumed.session_token.as_str())
        );
        for (name, value) in &request.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            assert!(
                !value.contains(&assumed.secret_access_key),
                "secret in {name}"
            );
            assert!(!value.contains(BASE_SECRET), "base secret in {name}");
        }
    }
}

#[tokio::test]
async fn without_an_external_id_none_is_sent_and_the_session_name_is_the_settings() {
    let fake = FakeBedrock::start().await;
    let sts = FakeSts::start().await;
    let settings = BedrockSettings {
        external_id: None,
        role_session_name: "gitlab-duo-prod".into(),
        ..with_role(&fake, sts.url())
    };
    model(settings).await.generate(&request()).await.unwrap();
    let call = &sts.requests()[0];
    assert_eq!(call.param("ExternalId"), None);
    assert_eq!(call.param("RoleSessionName"), Some("gitlab-duo-prod"));
}

#[tokio::test]
async fn a_role_sts_refuses_is_a_config_error_and_nothing_reaches_bedrock() {
    let fake = FakeBedrock::start().await;
    let sts = FakeSts::start().await;
    sts.deny(format!(
        "User: arn:aws:iam::123456789012:user/duo is not authorized to perform: sts:AssumeRole on resource: {ROLE}"
    ));
    let err = model(with_role(&fake, sts.url()))
        .await
        .generate(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("no usable AWS credentials")
            && m.contains("not authorized to perform: sts:AssumeRole")),
        "{err:?}"
    );
    assert!(!err.to_string().contains(BASE_SECRET));
    assert!(
        fake.requests().is_empty(),
        "nothing unsigned or half-signed is sent"
    );
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn sts_is_reached_through_the_egress_policy() {
    let fake = FakeBedrock::start().await;
    let sts = FakeSts::start().await;
    // The system resolver knows no `sts.internal.test`: answering proves the policy's resolver
    // (the Bedrock client's HTTP client) carried the STS call.
    let resolver = StaticResolver::new()
        .with("sts.internal.test", &[ip("127.0.0.1")])
        .with("sts.evil.test", &[ip("169.254.169.254")]);
    let policy = EgressPolicy::default().with_resolver(resolver.shared());
    let url = format!("http://sts.internal.test:{}", sts.addr().port());
    let provider = BedrockProvider::new(with_role(&fake, url)).with_egress(policy.clone());
    provider
        .model(&endpoint())
        .await
        .unwrap()
        .generate(&request())
        .await
        .unwrap();
    assert_eq!(sts.requests().len(), 1);
    assert_eq!(resolver.lookups(), ["sts.internal.test"]);

    let evil = BedrockProvider::new(with_role(&fake, "http://sts.evil.test:9".into()))
        .with_egress(policy.clone());
    let err = evil
        .model(&endpoint())
        .await
        .unwrap()
        .generate(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::EgressRefused { rule, .. } if rule.contains("cloud_metadata")),
        "{err:?}"
    );

    let literal =
        BedrockProvider::new(with_role(&fake, "http://169.254.169.254".into())).with_egress(policy);
    let err = literal.model(&endpoint()).await.unwrap_err();
    assert!(
        matches!(&err, Error::EgressRefused { upstream, .. } if upstream.contains("AWS STS")),
        "{err:?}"
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "only the allowed call reached Bedrock"
    );
}

/// The variable the child process below reads the fake's URL from.
const CHILD_URL: &str = "DUO_TEST_BEDROCK_CHILD_URL";

/// The variable's key wins over static keys. A test cannot set its own environment, so the test
/// runs itself again in a child process whose environment holds `AWS_BEARER_TOKEN_BEDROCK`
/// (and the fake's URL): there it makes the call, here it checks what the fake received.
#[tokio::test]
async fn the_environments_api_key_is_used_when_the_settings_have_none() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        let settings = BedrockSettings {
            region: Some("us-east-1".into()),
            access_key_id: Some("AKIDBASE".into()),
            secret_access_key: Some(Secret::new(BASE_SECRET)),
            endpoint_url: Some(url),
            ..BedrockSettings::default()
        };
        model(settings).await.generate(&request()).await.unwrap();
        return;
    }
    let fake = FakeBedrock::start().await;
    fake.require_bearer(API_KEY);
    let url = fake.url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "the_environments_api_key_is_used_when_the_settings_have_none",
                "--exact",
                "--test-threads=1",
            ])
            .env(CHILD_URL, url)
            .env("AWS_BEARER_TOKEN_BEDROCK", format!(" {API_KEY}\n"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].auth,
        Auth::Bearer(API_KEY.into()),
        "the variable's key (trimmed) wins over the static keys, unsigned"
    );
}
