//! Decoding throughput (MB/s) of a Bedrock ConverseStream body: `application/vnd.amazon.eventstream`
//! frames, decoded with `aws-smithy-eventstream`'s `MessageFrameDecoder` (the decoder the AWS
//! SDK's event receiver runs), fed in TCP-read-sized chunks as the SDK receives them.
//!
//! `cargo bench -p duo-benches --bench eventstream`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use duo_testkit::bedrock::{Answer, frames};

/// A ConverseStream body of `n` `contentBlockDelta` frames of a few tokens each, framed by
/// `messageStart` … `metadata`, exactly as `FakeBedrock` sends it.
fn body(n: usize) -> Bytes {
    let chunks = (0..n).map(|i| format!("fn item_{i}(x: u32) -> u32 {{ x + {i} }}\n"));
    let frames = frames::answer_frames(&Answer::chunks(chunks)).unwrap();
    let mut out = BytesMut::new();
    for frame in frames {
        out.extend_from_slice(&frame);
    }
    out.freeze()
}

/// Decodes every frame of `body`, arriving in `read` byte pieces; returns the frame count and
/// the payload bytes seen.
fn decode(body: &Bytes, read: usize) -> (usize, usize) {
    let mut decoder = MessageFrameDecoder::new();
    let mut buffer = BytesMut::new();
    let (mut frames, mut payload) = (0, 0);
    for piece in body.chunks(read) {
        buffer.extend_from_slice(piece);
        while let DecodedFrame::Complete(message) = decoder.decode_frame(&mut buffer).unwrap() {
            frames += 1;
            payload += message.payload().len();
        }
    }
    (frames, payload)
}

/// As [`decode`], and parses each delta's JSON payload for its text, as the SDK's unmarshaller does.
fn decode_and_parse(body: &Bytes, read: usize) -> usize {
    let mut decoder = MessageFrameDecoder::new();
    let mut buffer = BytesMut::new();
    let mut text = 0;
    for piece in body.chunks(read) {
        buffer.extend_from_slice(piece);
        while let DecodedFrame::Complete(message) = decoder.decode_frame(&mut buffer).unwrap() {
            let value: serde_json::Value = serde_json::from_slice(message.payload()).unwrap();
            if let Some(delta) = value["delta"]["text"].as_str() {
                text += delta.len();
            }
        }
    }
    text
}

fn bench(c: &mut Criterion) {
    let body = body(2_000);
    let (frames, _) = decode(&body, 16 * 1024);
    assert_eq!(frames, 2_004, "all frames decode");
    let mut group = c.benchmark_group("bedrock_eventstream");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("decode_frames_16k_reads", |b| {
        b.iter(|| decode(black_box(&body), 16 * 1024));
    });
    group.bench_function("decode_frames_1k_reads", |b| {
        b.iter(|| decode(black_box(&body), 1024));
    });
    group.bench_function("decode_and_parse_json_16k_reads", |b| {
        b.iter(|| decode_and_parse(black_box(&body), 16 * 1024));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
