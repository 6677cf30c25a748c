//! SSE decoding throughput of the OpenAI-style providers (`duo_providers::openai::decode_sse`):
//! a vLLM chat stream held in memory, fed in network-sized reads, decoded into model events.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use duo_core::StreamEvent;
use duo_providers::openai::decode_sse;
use futures::StreamExt;

/// A vLLM chat stream of `tokens` content chunks, with role, finish, usage and `[DONE]`.
fn chat_stream(tokens: usize) -> Vec<u8> {
    let mut body = String::new();
    let head = r#"{"id":"chatcmpl-8c4f2d","object":"chat.completion.chunk","created":1732450000,"model":"codestral-22b","choices":[{"index":0,"#;
    body.push_str(&format!(
        "data: {head}\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
    ));
    let words = [
        "def", " add", "(a", ", b", "):\n", "    ", "return", " a", " +", " b", "\n", "é✓",
    ];
    for i in 0..tokens {
        let word = words[i % words.len()].replace('\n', "\\n");
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

/// `body` cut into reads of `size` bytes (splitting events and UTF-8 characters anywhere).
fn reads(body: &[u8], size: usize) -> Vec<Bytes> {
    body.chunks(size).map(Bytes::copy_from_slice).collect()
}

/// `body` cut into one read per SSE event, as a streaming server writes them.
fn reads_per_event(body: &[u8]) -> Vec<Bytes> {
    let text = std::str::from_utf8(body).unwrap_or_default();
    text.split_inclusive("\n\n")
        .map(|e| Bytes::copy_from_slice(e.as_bytes()))
        .collect()
}

fn decode(pieces: &[Bytes]) -> usize {
    let owned: Vec<Bytes> = pieces.to_vec(); // the decoder takes a 'static stream
    let body = futures::stream::iter(owned.into_iter().map(Ok::<_, std::io::Error>));
    let upstream: Arc<str> = Arc::from("vLLM at http://bench/v1");
    futures::executor::block_on(decode_sse(body, upstream).fold(0, |n, e| async move {
        match e {
            Ok(StreamEvent::Delta(t)) => n + t.len(),
            Ok(_) => n,
            Err(e) => panic!("bench stream failed: {e}"),
        }
    }))
}

fn bench(c: &mut Criterion) {
    let body = chat_stream(2_000);
    let mut group = c.benchmark_group("sse_decode");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.sample_size(50);
    for (name, pieces) in [
        ("one_read_per_event", reads_per_event(&body)),
        ("reads_of_16KiB", reads(&body, 16 * 1024)),
        ("reads_of_1460B", reads(&body, 1460)),
    ] {
        assert!(decode(&pieces) > 0);
        group.bench_function(name, |b| b.iter(|| black_box(decode(black_box(&pieces)))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
