//! The SSE decoder over in-memory bodies, split every way a network can split them.

use super::*;
use futures::{StreamExt, stream};

fn decode(pieces: Vec<Result<Bytes, std::io::Error>>) -> Vec<Result<StreamEvent, Error>> {
    futures::executor::block_on(
        decode_sse(stream::iter(pieces), "vLLM at http://h/v1".into()).collect(),
    )
}

fn ok(pieces: &[&[u8]]) -> Vec<Result<Bytes, std::io::Error>> {
    pieces
        .iter()
        .map(|p| Ok(Bytes::copy_from_slice(p)))
        .collect()
}

fn delta(s: &str) -> Result<StreamEvent, Error> {
    Ok(StreamEvent::Delta(s.into()))
}

fn finish(reason: FinishReason, usage: Option<(u32, u32)>) -> Result<StreamEvent, Error> {
    Ok(StreamEvent::Finish {
        reason,
        usage: usage.map(|(i, o)| Usage {
            input_tokens: i,
            output_tokens: o,
        }),
    })
}

const CHAT: &str = concat!(
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"héllo \"},\"finish_reason\":null}],\"usage\":null}\n\n",
    ": keep-alive\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"wörld ✓\"},\"finish_reason\":null}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n",
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
    "data: [DONE]\n\n",
);

fn chat_events() -> Vec<Result<StreamEvent, Error>> {
    vec![
        delta("héllo "),
        delta("wörld ✓"),
        finish(FinishReason::Length, Some((5, 2))),
    ]
}

#[test]
fn chat_deltas_then_one_finish_with_usage() {
    assert_eq!(decode(ok(&[CHAT.as_bytes()])), chat_events());
}

#[test]
fn every_split_point_gives_the_same_events_even_inside_a_utf8_character() {
    let bytes = CHAT.as_bytes();
    for cut in 1..bytes.len() {
        let got = decode(ok(&[&bytes[..cut], &bytes[cut..]]));
        assert_eq!(got, chat_events(), "split at byte {cut}");
    }
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(decode(ok(&singles)), chat_events());
}

#[test]
fn crlf_line_endings_and_comments_are_understood() {
    let crlf = CHAT.replace('\n', "\r\n");
    assert_eq!(decode(ok(&[crlf.as_bytes()])), chat_events());
}

#[test]
fn completion_text_and_azure_preamble() {
    let body = concat!(
        "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"text\":\"def\",\"content_filter_results\":{}}]}\n\n",
        "data: {\"choices\":[{\"index\":1,\"text\":\"ignored\"}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"content_filter\"}]}\n\n",
        "data: [DONE]\n\n",
        "data: {\"choices\":[{\"index\":0,\"text\":\"after done\"}]}\n\n",
    );
    assert_eq!(
        decode(ok(&[body.as_bytes()])),
        vec![delta("def"), finish(FinishReason::ContentFilter, None)]
    );
}

#[test]
fn an_early_end_is_a_broken_stream_after_the_deltas() {
    let body = "data: {\"choices\":[{\"index\":0,\"text\":\"half\"}]}\n\ndata: {\"choices\":[{\"index\":0,\"te";
    let got = decode(ok(&[body.as_bytes()]));
    assert_eq!(got[0], delta("half"));
    assert!(
        matches!(&got[1], Err(Error::BrokenStream { upstream, message })
        if upstream == "vLLM at http://h/v1" && message.contains("no finish_reason")),
        "{got:?}"
    );
    assert_eq!(got.len(), 2);
}

#[test]
fn a_finish_reason_without_done_still_finishes() {
    let body = "data: {\"choices\":[{\"index\":0,\"text\":\"x\",\"finish_reason\":\"stop\"}]}\n\n";
    assert_eq!(
        decode(ok(&[body.as_bytes()])),
        vec![delta("x"), finish(FinishReason::Stop, None)]
    );
}

#[test]
fn bad_json_is_a_protocol_error_and_ends_the_stream() {
    let body = "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\ndata: {\"choices\": [\n\ndata: [DONE]\n\n";
    let got = decode(ok(&[body.as_bytes()]));
    assert_eq!(got.len(), 2);
    assert!(
        matches!(&got[1], Err(Error::Protocol { message, .. }) if message.contains("bad JSON")),
        "{got:?}"
    );
    let wrong_shape = "data: {\"choices\": \"nope\"}\n\n";
    assert!(matches!(
        &decode(ok(&[wrong_shape.as_bytes()]))[0],
        Err(Error::Protocol { .. })
    ));
}

#[test]
fn invalid_utf8_is_a_protocol_error() {
    let got = decode(ok(&[
        b"data: {\"choices\":[{\"index\":0,\"text\":\"\xff\xfe\"}]}\n\n",
    ]));
    assert!(
        matches!(&got[..], [Err(Error::Protocol { message, .. })] if message.contains("UTF-8")),
        "{got:?}"
    );
}

#[test]
fn error_objects_and_error_events_break_the_stream_with_their_message() {
    let body = "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\ndata: {\"error\":{\"message\":\"engine died\",\"code\":500}}\n\n";
    let got = decode(ok(&[body.as_bytes()]));
    assert!(
        matches!(&got[1], Err(Error::BrokenStream { message, .. }) if message.contains("engine died")),
        "{got:?}"
    );
    let event = "event: error\ndata: overloaded\n\n";
    let got = decode(ok(&[event.as_bytes()]));
    assert!(
        matches!(&got[0], Err(Error::BrokenStream { message, .. }) if message.contains("overloaded")),
        "{got:?}"
    );
}

#[test]
fn a_transport_error_is_a_broken_stream() {
    let pieces = vec![
        Ok(Bytes::from_static(
            b"data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n",
        )),
        Err(std::io::Error::other("connection reset by peer")),
        Ok(Bytes::from_static(b"data: [DONE]\n\n")),
    ];
    let got = decode(pieces);
    assert_eq!(got.len(), 2);
    assert!(
        matches!(&got[1], Err(Error::BrokenStream { message, .. }) if message.contains("connection reset")),
        "{got:?}"
    );
}

#[test]
fn done_without_finish_reason_is_a_truncated_answer() {
    // llama.cpp's server ends an interrupted stream like this: never report it as complete.
    let got = decode(ok(&[
        b"data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\ndata: [DONE]\n\n",
    ]));
    assert_eq!(got[0], delta("a"));
    assert!(
        matches!(&got[1], Err(Error::BrokenStream { message, .. }) if message.contains("no finish_reason")),
        "{got:?}"
    );
    assert_eq!(got.len(), 2);
}

#[test]
fn tool_call_pieces_are_events_and_two_in_one_chunk_come_out_in_order() {
    let body = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}},{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let events = decode(ok(&[body.as_bytes()]));
    assert_eq!(
        events,
        vec![
            Ok(StreamEvent::ToolCall(duo_core::ToolCallDelta::start(
                0,
                "call_a",
                "get_weather"
            ))),
            Ok(StreamEvent::ToolCall(duo_core::ToolCallDelta::arguments(
                0,
                "{\"city\":\"Oslo\"}"
            ))),
            Ok(StreamEvent::ToolCall(duo_core::ToolCallDelta {
                index: 1,
                id: Some("call_b".into()),
                name: Some("get_time".into()),
                arguments: "{}".into(),
            })),
            finish(FinishReason::ToolCalls, None),
        ]
    );
}
