//! SSE decoding throughput: a vLLM chat stream (`duo_providers::openai::decode_sse`), an
//! Anthropic Messages stream (`duo_providers::anthropic::decode_messages_sse`) and a Gemini
//! stream from Vertex AI (`duo_providers::vertex::decode_gemini_sse`) of the same tokens, held in
//! memory, fed in network-sized reads, decoded into model events.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use duo_core::EventStream;
use duo_core::StreamEvent;
use duo_providers::anthropic::decode_messages_sse;
use duo_providers::openai::decode_sse;
use duo_providers::vertex::decode_gemini_sse;
use futures::StreamExt;

/// A vLLM chat stream of `tokens` content chunks, with role, finish, usage and `[DONE]`.
fn chat_stream(tokens: usize) -> Vec<u8> {
    let mut body = String::new();
    let head = r#"{"id":"chatcmpl-8c4f2d","object":"chat.completion.chunk","created":1732450000,"model":"codestral-22b","choices":[{"index":0,"#;
    body.push_str(&format!(
        "data: {head}\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
    ));
    for i in 0..tokens {
        let word = WORDS[i % WORDS.len()];
        body.push_str(&format!(
            "data: {head}\"delta\":{{\"content\":\"{word}\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        ));
    }
    body.push_str(&format!(
        "data: {head}\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":null}}\n\n"
    ));
    body.push_str(&format!(
        "data: {{\"id\":\"chatcmpl-8c4f2d\",\"object\":\"chat.completion.chunk\",\"created\":1732450000,\"model\":\"codestral-22b\",\"choices\":[],\"usage\":{{\"prompt_tokens\":512,\"total_tokens\":{},\"completion_tokens\":{tokens}}}}}\n\n",
        512 + tokens
    ));
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

/// The words of a streamed answer, one per token, JSON-escaped as they go in the events.
const WORDS: [&str; 12] = [
    "def", " add", "(a", ", b", r"):\n", "    ", "return", " a", " +", " b", r"\n", "é✓",
];

/// An Anthropic Messages stream of `tokens` text deltas, as the API sends it: `message_start`,
/// a text block with a `ping`, the deltas, `message_delta` with the stop reason and usage,
/// `message_stop`.
fn messages_stream(tokens: usize) -> Vec<u8> {
    let mut body = String::new();
    let mut event = |name: &str, data: &str| {
        body.push_str(&format!("event: {name}\ndata: {data}\n\n"));
    };
    event(
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":512,"output_tokens":1}}}"#,
    );
    event(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    );
    event("ping", r#"{"type":"ping"}"#);
    for i in 0..tokens {
        event(
            "content_block_delta",
            &format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{}"}}}}"#,
                WORDS[i % WORDS.len()]
            ),
        );
    }
    event(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0}"#,
    );
    event(
        "message_delta",
        &format!(
            r#"{{"type":"message_delta","delta":{{"stop_reason":"end_turn","stop_sequence":null}},"usage":{{"output_tokens":{tokens}}}}}"#
        ),
    );
    event("message_stop", r#"{"type":"message_stop"}"#);
    body.into_bytes()
}

/// A Gemini stream of `tokens` chunks as Vertex AI's `:streamGenerateContent?alt=sse` sends it:
/// `data: <GenerateContentResponse>` events ended by CRLF, Google's JSON spacing, one text part
/// per chunk, each chunk with the running `usageMetadata`; the last one carries
/// `finishReason: STOP` and the full usage (traffic type and per-modality details).
fn gemini_stream(tokens: usize) -> Vec<u8> {
    const PROMPT: usize = 512;
    let tail = r#""modelVersion": "gemini-2.5-flash","createTime": "2026-12-01T09:30:12.417652Z","responseId": "xJ4sZ6ObGo-Vm9IPtK2p8AQ"}"#;
    let mut body = String::new();
    for i in 0..tokens {
        let word = WORDS[i % WORDS.len()];
        let sent = i + 1;
        let (finish, usage) = if sent == tokens {
            (
                r#","finishReason": "STOP""#.to_owned(),
                format!(
                    r#"{{"promptTokenCount": {PROMPT},"candidatesTokenCount": {sent},"totalTokenCount": {},"trafficType": "ON_DEMAND","promptTokensDetails": [{{"modality": "TEXT","tokenCount": {PROMPT}}}],"candidatesTokensDetails": [{{"modality": "TEXT","tokenCount": {sent}}}]}}"#,
                    PROMPT + sent
                ),
            )
        } else {
            (
                String::new(),
                format!(
                    r#"{{"promptTokenCount": {PROMPT},"candidatesTokenCount": {sent},"totalTokenCount": {}}}"#,
                    PROMPT + sent
                ),
            )
        };
        body.push_str(&format!(
            "data: {{\"candidates\": [{{\"content\": {{\"role\": \"model\",\"parts\": [{{\"text\": \"{word}\"}}]}}{finish},\"index\": 0}}],\"usageMetadata\": {usage},{tail}\r\n\r\n"
        ));
    }
    body.into_bytes()
}

/// `body` cut into reads of `size` bytes (splitting events and UTF-8 characters anywhere).
fn reads(body: &[u8], size: usize) -> Vec<Bytes> {
    body.chunks(size).map(Bytes::copy_from_slice).collect()
}

/// `body` cut into one read per SSE event (each ended by `end`), as a streaming server writes
/// them.
fn reads_per_event(body: &[u8], end: &str) -> Vec<Bytes> {
    let text = std::str::from_utf8(body).unwrap_or_default();
    text.split_inclusive(end)
        .map(|e| Bytes::copy_from_slice(e.as_bytes()))
        .collect()
}

/// The decoders measured, by name.
type Decoder = fn(Vec<Bytes>) -> EventStream;

fn vllm(pieces: Vec<Bytes>) -> EventStream {
    let body = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    decode_sse(body, Arc::from("vLLM at http://bench/v1"))
}

fn anthropic(pieces: Vec<Bytes>) -> EventStream {
    let body = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    decode_messages_sse(body, Arc::from("Anthropic at http://bench"), 1 << 20)
}

fn gemini(pieces: Vec<Bytes>) -> EventStream {
    let body = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    decode_gemini_sse(body, Arc::from("Vertex AI at http://bench"), 1 << 20)
}

/// The text the streams carry: `tokens` of the words, unescaped.
fn joined_words(tokens: usize) -> String {
    (0..tokens)
        .map(|i| {
            let word = WORDS[i % WORDS.len()];
            serde_json::from_str::<String>(&format!("\"{word}\""))
                .unwrap_or_else(|e| panic!("{word:?} is not a JSON string's content: {e}"))
        })
        .collect()
}

/// Checks, outside the measurement, that `pieces` decode to `text` and end with one finish.
fn check_decodes_to(name: &str, decoder: Decoder, pieces: &[Bytes], text: &str) {
    let events: Vec<_> = futures::executor::block_on(decoder(pieces.to_vec()).collect());
    let mut decoded = String::new();
    let mut finishes = 0;
    for event in &events {
        match event {
            Ok(StreamEvent::Delta(t)) => decoded.push_str(t),
            Ok(StreamEvent::Finish { .. }) => finishes += 1,
            Ok(other) => panic!("{name}: unexpected event {other:?}"),
            Err(e) => panic!("{name}: bench stream failed: {e}"),
        }
    }
    assert_eq!(decoded, text, "{name}: the decoded text");
    assert_eq!(finishes, 1, "{name}: one finish");
    assert!(
        matches!(events.last(), Some(Ok(StreamEvent::Finish { .. }))),
        "{name}: the finish comes last"
    );
}

fn decode(decoder: Decoder, pieces: &[Bytes]) -> usize {
    // The decoder takes a 'static stream: the pieces are copied (reference-counted) per run.
    futures::executor::block_on(decoder(pieces.to_vec()).fold(0, |n, e| async move {
        match e {
            Ok(StreamEvent::Delta(t)) => n + t.len(),
            Ok(_) => n,
            Err(e) => panic!("bench stream failed: {e}"),
        }
    }))
}

fn bench(c: &mut Criterion) {
    const TOKENS: usize = 2_000;
    // (group, decoder, body, how its events end)
    let streams: [(&str, Decoder, Vec<u8>, &str); 3] = [
        ("sse_decode", vllm, chat_stream(TOKENS), "\n\n"),
        (
            "anthropic_decode",
            anthropic,
            messages_stream(TOKENS),
            "\n\n",
        ),
        ("gemini_decode", gemini, gemini_stream(TOKENS), "\r\n\r\n"),
    ];
    // All streams carry the same text: the figures compare per token as well as per byte.
    let text = joined_words(TOKENS);
    for (group_name, decoder, body, end) in &streams {
        let mut group = c.benchmark_group(*group_name);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.sample_size(50);
        for (name, pieces) in [
            ("one_read_per_event", reads_per_event(body, end)),
            ("reads_of_16KiB", reads(body, 16 * 1024)),
            ("reads_of_1460B", reads(body, 1460)),
        ] {
            check_decodes_to(group_name, *decoder, &pieces, &text);
            assert_eq!(decode(*decoder, &pieces), text.len());
            group.bench_function(name, |b| {
                b.iter(|| black_box(decode(*decoder, black_box(&pieces))));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
