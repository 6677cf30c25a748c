//! The ReAct output parser of `/v2/chat/agent` (`ReactParser`), alone and behind the NDJSON
//! pump (`stream::lines`, with and without the reasoning filter), on arbitrary model output.
//!
//! Input: one byte of chunk size (its top bit: strip reasoning), then UTF-8 text. Checks the
//! parser's contract: the output cut into any chunks (markers and characters split anywhere)
//! yields the same actions, the same unknown text and the same concatenated final answer as in
//! one piece; only the last answer delta carries the finish reason; nothing follows an action.
//! The pump's body is one JSON object per line.
#![no_main]

use duo_core::{FinishReason, StreamEvent, Usage};
use duo_gateway::fuzzing::{AgentEvent, ReactParser, lines};
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;
use common::chunks;

fn parse(chunks: &[&str]) -> Vec<AgentEvent> {
    let mut parser = ReactParser::new();
    let mut events: Vec<AgentEvent> = chunks.iter().flat_map(|c| parser.push(c)).collect();
    events.extend(parser.finish(Some("stop")));
    assert!(parser.push("more").is_empty(), "nothing after finish");
    events
}

/// Consecutive answer deltas merged into one (text concatenated, the finish reason of the last).
fn normalized(events: Vec<AgentEvent>) -> Vec<AgentEvent> {
    let mut out: Vec<AgentEvent> = Vec::new();
    for event in events {
        if let (
            Some(AgentEvent::FinalAnswerDelta {
                text: merged,
                finish_reason: reason,
            }),
            AgentEvent::FinalAnswerDelta {
                text,
                finish_reason,
            },
        ) = (out.last_mut(), &event)
        {
            assert!(reason.is_none(), "only the last delta has a finish reason");
            merged.push_str(text);
            reason.clone_from(finish_reason);
            continue;
        }
        out.push(event);
    }
    if let Some(i) = out
        .iter()
        .position(|e| matches!(e, AgentEvent::Action { .. }))
    {
        assert_eq!(i + 1, out.len(), "nothing follows an action: {out:?}");
    }
    out
}

fn ndjson(chunks: &[&str], strip_reasoning: bool) -> Vec<u8> {
    let mut events: Vec<Result<StreamEvent, duo_core::Error>> = chunks
        .iter()
        .map(|c| Ok(StreamEvent::Delta((*c).to_owned())))
        .collect();
    events.push(Ok(StreamEvent::Finish {
        reason: FinishReason::Stop,
        usage: Some(Usage {
            input_tokens: 1,
            output_tokens: 2,
        }),
    }));
    let upstream: duo_core::EventStream = Box::pin(futures::stream::iter(events));
    let upstream = if strip_reasoning {
        duo_core::reasoning::strip_reasoning(upstream)
    } else {
        upstream
    };
    let body = lines(upstream, "fuzz".into());
    futures::executor::block_on(body.map(|b| b.expect("infallible").to_vec()).concat())
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let whole = normalized(parse(&[text]));
    let size = 1 + usize::from(flags & 0x3f);
    assert_eq!(
        normalized(parse(&chunks(text, size))),
        whole,
        "chunks of {size}"
    );
    assert_eq!(
        normalized(parse(&chunks(text, 1))),
        whole,
        "one character at a time"
    );

    let body = ndjson(&chunks(text, size), flags & 0x80 != 0);
    assert_eq!(body.last(), Some(&b'\n'), "the body ends with a whole line");
    for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let value: serde_json::Value = serde_json::from_slice(line).expect("each line is JSON");
        assert!(value.is_object(), "each line is an object: {value}");
    }
});
