//! Anthropic's stream over in-memory bodies, split at every byte.

use super::*;
use futures::{StreamExt, stream};

const UPSTREAM: &str = "Anthropic at http://h";

fn decode(pieces: Vec<Bytes>) -> Vec<Result<StreamEvent, Error>> {
    let body = stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    futures::executor::block_on(decode_messages_sse(body, UPSTREAM.into(), 1 << 20).collect())
}

fn whole(text: &str) -> Vec<Result<StreamEvent, Error>> {
    decode(vec![Bytes::copy_from_slice(text.as_bytes())])
}

fn event(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// A complete stream as Anthropic sends it: text in two deltas, a thinking delta that is not
/// text, a tool_use block whose input arrives in pieces, a ping, and usage split over
/// message_start and message_delta.
fn complete(stop_reason: &str) -> String {
    [
        event(
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#,
        ),
        event("ping", r#"{"type":"ping"}"#),
        event(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"héllo "}}"#,
        ),
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
        ),
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"wörld ✓"}}"#,
        ),
        event("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        event(
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#,
        ),
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
        ),
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
        ),
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1}"}}"#,
        ),
        event("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
        event("brand_new_event", r#"{"type":"brand_new_event","x":1}"#),
        event(
            "message_delta",
            &format!(
                r#"{{"type":"message_delta","delta":{{"stop_reason":"{stop_reason}","stop_sequence":null}},"usage":{{"output_tokens":15}}}}"#
            ),
        ),
        event("message_stop", r#"{"type":"message_stop"}"#),
    ]
    .concat()
}

fn text_of(events: &[Result<StreamEvent, Error>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Delta(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_complete_stream_is_its_text_then_one_finish_with_usage() {
    let events = whole(&complete("end_turn"));
    assert_eq!(text_of(&events), "héllo wörld ✓");
    assert_eq!(
        events.last(),
        Some(&Ok(StreamEvent::Finish {
            reason: FinishReason::Stop,
            usage: Some(Usage {
                input_tokens: 25,
                output_tokens: 15
            }),
        }))
    );
    let calls: Vec<&duo_core::ToolCallDelta> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::ToolCall(c)) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            &duo_core::ToolCallDelta::start(0, "toolu_1", "get_weather"),
            &duo_core::ToolCallDelta::arguments(0, "{\"a\":"),
            &duo_core::ToolCallDelta::arguments(0, "1}"),
        ]
    );
    assert_eq!(events.len(), 6, "{events:?}");
}

#[test]
fn every_split_of_the_body_decodes_the_same() {
    let body = complete("max_tokens").into_bytes();
    let expected = decode(vec![Bytes::from(body.clone())]);
    for at in 1..body.len() {
        let events = decode(vec![
            Bytes::copy_from_slice(&body[..at]),
            Bytes::copy_from_slice(&body[at..]),
        ]);
        assert_eq!(text_of(&events), text_of(&expected), "split at {at}");
        assert_eq!(events.last(), expected.last(), "split at {at}");
    }
    assert!(matches!(
        expected.last(),
        Some(Ok(StreamEvent::Finish {
            reason: FinishReason::Length,
            ..
        }))
    ));
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    for (stop, reason) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("refusal", FinishReason::ContentFilter),
        ("pause_turn", FinishReason::Other("pause_turn".into())),
    ] {
        let events = whole(&complete(stop));
        assert!(
            matches!(events.last(), Some(Ok(StreamEvent::Finish { reason: r, .. })) if *r == reason),
            "{stop}: {events:?}"
        );
    }
}

#[test]
fn a_stream_cut_before_the_stop_reason_is_a_broken_stream_after_its_text() {
    let full = complete("end_turn");
    let cut = &full[..full.find("event: message_delta").unwrap()];
    let events = whole(cut);
    assert_eq!(text_of(&events), "héllo wörld ✓");
    match events.last() {
        Some(Err(Error::BrokenStream { message, .. })) => {
            assert!(message.contains("no stop_reason"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn message_stop_without_a_stop_reason_is_not_a_complete_answer() {
    let body = [
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#,
        ),
        event("message_stop", r#"{"type":"message_stop"}"#),
    ]
    .concat();
    let events = whole(&body);
    assert_eq!(events[0], Ok(StreamEvent::Delta("hi".into())));
    assert!(
        matches!(&events[1], Err(Error::BrokenStream { .. })),
        "{events:?}"
    );
    assert_eq!(events.len(), 2);
}

#[test]
fn an_overloaded_error_event_is_a_retryable_529_and_ends_the_stream() {
    let body = [
        event(
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}"#,
        ),
        event(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
        event("message_stop", r#"{"type":"message_stop"}"#),
    ]
    .concat();
    let events = whole(&body);
    assert_eq!(events.len(), 1, "nothing follows an error: {events:?}");
    match &events[0] {
        Err(err @ Error::UpstreamStatus { status, code, .. }) => {
            assert_eq!(*status, 529);
            assert_eq!(code.as_deref(), Some("overloaded_error"));
            assert!(err.is_retryable());
            assert!(err.to_string().contains("Overloaded"), "{err}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_json_is_a_protocol_error_and_an_empty_body_too() {
    let events = whole(&event("content_block_delta", "{not json"));
    assert!(
        matches!(&events[0], Err(Error::Protocol { message, .. }) if message.contains("bad JSON")),
        "{events:?}"
    );
    let events = decode(vec![]);
    assert!(
        matches!(&events[0], Err(Error::Protocol { .. })),
        "{events:?}"
    );
}

#[test]
fn an_event_over_the_limit_is_refused() {
    let huge = event(
        "content_block_delta",
        &format!(
            r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{}"}}}}"#,
            "x".repeat(4096)
        ),
    );
    // Arriving in pieces, as a stream that never ends its event would: refused once the
    // unfinished event passes the limit, not buffered to the end.
    let pieces: Vec<_> = huge
        .as_bytes()
        .chunks(512)
        .map(|p| Ok::<_, std::io::Error>(Bytes::copy_from_slice(p)))
        .collect();
    let body = stream::iter(pieces);
    let events: Vec<_> =
        futures::executor::block_on(decode_messages_sse(body, UPSTREAM.into(), 1024).collect());
    assert!(
        matches!(&events[0], Err(Error::ResponseTooLarge { limit: 1024, .. })),
        "{events:?}"
    );
}
