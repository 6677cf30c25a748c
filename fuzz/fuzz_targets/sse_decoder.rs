//! The SSE decoders on arbitrary bodies: OpenAI-style (`duo_providers::openai::decode_sse_limited`,
//! as vLLM, OpenAI and Azure answers are read), Anthropic's
//! (`duo_providers::anthropic::decode_messages_sse`) and Gemini's on Vertex AI
//! (`duo_providers::vertex::decode_gemini_sse`), each body through all three.
//!
//! Input: two bytes of split point, one byte of event limit, then the body. Checks:
//! - the body in one piece yields a finish or an error last, and nothing else is one: nothing
//!   follows an error or the finish, and there is at most one finish (text and tool-call pieces
//!   come before it);
//! - the body cut at the split point, or into chunks of every size up to 7 bytes, decodes to
//!   exactly the events and errors of the body in one piece (the decoder's contract: events and
//!   UTF-8 split across reads are reassembled);
//! - under a small event limit the events are those of the unlimited decoding, possibly cut short
//!   by one `ResponseTooLarge` error, and nothing follows it.
#![no_main]

use bytes::Bytes;
use duo_core::{Error, StreamEvent};
use duo_core::EventStream;
use duo_providers::anthropic::decode_messages_sse;
use duo_providers::openai::{DEFAULT_MAX_EVENT_BYTES, decode_sse_limited};
use duo_providers::vertex::decode_gemini_sse;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

type Events = Vec<Result<StreamEvent, Error>>;

/// A decoder: the body's chunks, the upstream's name and the event limit to events.
type Decoder = fn(futures::stream::Iter<std::vec::IntoIter<Result<Bytes, std::io::Error>>>, std::sync::Arc<str>, usize) -> EventStream;

const DECODERS: [Decoder; 3] = [decode_sse_limited, decode_messages_sse, decode_gemini_sse];

fn decode_with(decoder: Decoder, chunks: Vec<Bytes>, limit: usize) -> Events {
    let body = futures::stream::iter(
        chunks
            .into_iter()
            .map(Ok::<_, std::io::Error>)
            .collect::<Vec<_>>(),
    );
    futures::executor::block_on(decoder(body, "fuzz".into(), limit).collect())
}

fn check_limited(limited: &Events, whole: &Events, limit: usize) {
    if limited == whole {
        return;
    }
    let (last, before) = limited
        .split_last()
        .expect("a limited decoding yields something");
    assert!(
        matches!(last, Err(Error::ResponseTooLarge { limit: l, .. }) if *l == limit),
        "a limited decoding differs only by ending in ResponseTooLarge: {limited:?} vs {whole:?}"
    );
    assert!(
        whole.starts_with(before),
        "the events before ResponseTooLarge are the unlimited ones: {limited:?} vs {whole:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    for decoder in DECODERS {
        check(decoder, data);
    }
});

fn check(decoder: Decoder, data: &[u8]) {
    let decode = |chunks: Vec<Bytes>, limit: usize| decode_with(decoder, chunks, limit);
    let split = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let limit = 1 + usize::from(data[2]) * 4;
    let body = Bytes::copy_from_slice(&data[3..]);
    let split = split % (body.len() + 1);

    let whole = decode(vec![body.clone()], DEFAULT_MAX_EVENT_BYTES);
    let (last, before) = whole
        .split_last()
        .expect("a body always yields a finish or an error");
    assert!(
        matches!(last, Ok(StreamEvent::Finish { .. }) | Err(_)),
        "a body ends in a finish or an error: {whole:?}"
    );
    assert!(
        before.iter().all(Result::is_ok),
        "nothing follows an error: {whole:?}"
    );
    assert!(
        before
            .iter()
            .all(|e| matches!(e, Ok(StreamEvent::Delta(_) | StreamEvent::ToolCall(_)))),
        "only the last event may be a finish: {whole:?}"
    );

    let halves = vec![body.slice(..split), body.slice(split..)];
    assert_eq!(
        decode(halves.clone(), DEFAULT_MAX_EVENT_BYTES),
        whole,
        "split at {split}"
    );
    let size = 1 + split % 7;
    let pieces: Vec<Bytes> = body.chunks(size).map(Bytes::copy_from_slice).collect();
    assert_eq!(
        decode(pieces, DEFAULT_MAX_EVENT_BYTES),
        whole,
        "chunks of {size}"
    );

    check_limited(&decode(vec![body.clone()], limit), &whole, limit);
    check_limited(&decode(halves, limit), &whole, limit);
}
