//! Unit tests of [`Error`](super::Error): scrubbing, codes, kinds.

use super::*;

fn all() -> Vec<Error> {
    let u = || "vLLM at http://h/v1".to_owned();
    let m = || "m".to_owned();
    vec![
        Error::InvalidRequest(m()),
        Error::Config(m()),
        Error::UpstreamAuth {
            upstream: u(),
            status: 401,
            message: m(),
        },
        Error::UpstreamStatus {
            upstream: u(),
            status: 500,
            message: m(),
            retry_after: None,
            code: Some("server_error".into()),
        },
        Error::RateLimited {
            upstream: u(),
            retry_after: Some(Duration::from_secs(3)),
            message: m(),
        },
        Error::Timeout {
            upstream: u(),
            phase: TimeoutPhase::FirstByte,
            after: Duration::from_secs(1),
        },
        Error::Connect {
            upstream: u(),
            message: m(),
        },
        Error::BrokenStream {
            upstream: u(),
            message: m(),
        },
        Error::Protocol {
            upstream: u(),
            message: m(),
        },
        Error::ContentFiltered {
            upstream: u(),
            message: m(),
        },
        Error::EgressRefused {
            upstream: u(),
            rule: m(),
        },
        Error::ResponseTooLarge {
            upstream: u(),
            what: "an answer",
            limit: 1,
        },
    ]
}

#[test]
fn only_identifier_codes_are_kept_and_an_echoed_key_drops_the_code() {
    let code_of = |e: Error| match e {
        Error::UpstreamStatus { code, .. } => code,
        _ => None,
    };
    let status = |c: &str| Error::from_status("u", 400, "m", None).with_upstream_code(Some(c));
    assert_eq!(
        code_of(status("context_length_exceeded")).as_deref(),
        Some("context_length_exceeded")
    );
    for bad in ["", "400", "two words", "a\nb", &"x".repeat(65)] {
        assert_eq!(code_of(status(bad)), None, "{bad:?}");
    }
    let limited = Error::from_status("u", 429, "m", None).with_upstream_code(Some("x"));
    assert!(matches!(limited, Error::RateLimited { .. }));
    let key = crate::Secret::new("sk-echoed-key");
    assert_eq!(code_of(status("sk-echoed-key").scrubbed(&key)), None);
    assert_eq!(
        code_of(status("invalid_api_key").scrubbed(&key)).as_deref(),
        Some("invalid_api_key")
    );
}

#[test]
fn scrubbed_removes_the_secret_from_every_message() {
    let key = crate::Secret::new("sk-echoed-key");
    for e in all() {
        let echoed = match e {
            Error::UpstreamStatus {
                upstream,
                status,
                retry_after,
                ..
            } => Error::UpstreamStatus {
                upstream,
                status,
                message: "bad key sk-echoed-key".into(),
                retry_after,
                code: Some("sk-echoed-key".into()),
            },
            other => other,
        };
        assert!(!echoed.scrubbed(&key).to_string().contains("sk-echoed-key"));
    }
}

#[test]
fn every_variant_is_classified() {
    let table: Vec<(&str, Fault, bool)> = all()
        .iter()
        .map(|e| (e.kind(), e.fault(), e.is_retryable()))
        .collect();
    assert_eq!(
        table,
        vec![
            ("invalid_request", Fault::Client, false),
            ("config", Fault::Config, false),
            ("upstream_auth", Fault::Config, false),
            ("upstream_status", Fault::Upstream, true),
            ("rate_limited", Fault::Upstream, true),
            ("timeout", Fault::Upstream, true),
            ("connect", Fault::Upstream, true),
            ("broken_stream", Fault::Upstream, true),
            ("protocol", Fault::Upstream, false),
            ("content_filtered", Fault::Client, false),
            ("egress_refused", Fault::Client, false),
            ("response_too_large", Fault::Upstream, false),
        ]
    );
}

#[test]
fn from_status_classifies_by_status() {
    let e = Error::from_status("u", 429, "slow down", Some(Duration::from_secs(2)));
    assert_eq!(e.kind(), "rate_limited");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(e.upstream_status(), Some(429));
    for s in [401, 403] {
        let e = Error::from_status("u", s, "no", None);
        assert_eq!(e.kind(), "upstream_auth");
        assert_eq!(e.fault(), Fault::Config);
        assert_eq!(e.upstream_status(), Some(s));
    }
    let e = Error::from_status("u", 404, "no such model", None);
    assert_eq!(e.kind(), "upstream_status");
    assert!(!e.is_retryable());
    assert_eq!(e.retry_after(), None);
    let e = Error::from_status("u", 503, "busy", Some(Duration::from_secs(4)));
    assert_eq!(e.kind(), "upstream_status");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
    let e = Error::from_status("u", 401, "no", Some(Duration::from_secs(4)));
    assert_eq!(e.retry_after(), None, "auth failures are not retried");
}

#[test]
fn only_transient_statuses_are_retryable() {
    for (status, retryable) in [
        (400, false),
        (404, false),
        (422, false),
        (408, true),
        (500, true),
        (501, false),
        (502, true),
        (503, true),
        (504, true),
    ] {
        assert_eq!(
            Error::from_status("u", status, "", None).is_retryable(),
            retryable,
            "{status}"
        );
    }
}

#[test]
fn total_timeouts_are_not_retried() {
    let e = Error::Timeout {
        upstream: "u".into(),
        phase: TimeoutPhase::Total,
        after: Duration::from_secs(60),
    };
    assert!(!e.is_retryable());
    assert_eq!(e.to_string(), "u timed out (total timeout of 60s)");
    assert_eq!(TimeoutPhase::FirstByte.to_string(), "first_byte");
}

#[test]
fn messages_name_the_upstream() {
    let e = Error::from_status(
        "Azure OpenAI at https://r.openai.azure.com",
        503,
        "busy",
        None,
    );
    assert_eq!(
        e.to_string(),
        "Azure OpenAI at https://r.openai.azure.com answered HTTP 503: busy"
    );
    assert_eq!(e.upstream_status(), Some(503));
    assert_eq!(Error::InvalidRequest("x".into()).upstream_status(), None);
}
