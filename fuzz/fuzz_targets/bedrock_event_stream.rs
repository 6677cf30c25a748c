//! The Bedrock ConverseStream body (`application/vnd.amazon.eventstream` frames with CRCs) on
//! arbitrary bytes, through the real path: `BedrockModel::generate_stream` with an SDK client
//! whose HTTP client answers 200 with the fuzzed body (`duo_providers::fuzzing::bedrock_model`),
//! so the SDK's frame decoder and unmarshaller, then the crate's event translation and error
//! mapping, read it. Also the frame codec itself (`aws-smithy-eventstream`).
//!
//! Input: one flags byte (bit 0: repair the CRCs of every frame the lengths delimit, so mutated
//! headers and payloads get past the checksums; bits 1–7: read size), then the body. Checks:
//! - the body read in pieces of the read size yields the same events and errors as in one read;
//!   nothing follows an error or the finish, which comes last;
//! - every frame that decodes re-encodes to a frame that decodes to the same message, and that
//!   frame with its message CRC broken is an error (not a panic, not a message).
#![no_main]

use std::sync::{Mutex, OnceLock};

use aws_sdk_bedrockruntime::config::{HttpClient, SharedHttpClient};
use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder, write_message_to};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use bytes::{Bytes, BytesMut};
use duo_core::{Error, LanguageModel, ModelRequest, Prompt, StreamEvent};
use duo_providers::bedrock::BedrockModel;
use futures::StreamExt;
use http_body::Frame;
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

/// The pieces the next response body is made of.
static BODY: Mutex<Vec<Bytes>> = Mutex::new(Vec::new());

/// An HTTP client that answers every request with [`BODY`], as Bedrock answers ConverseStream.
#[derive(Debug)]
struct Canned;

impl HttpConnector for Canned {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let pieces = std::mem::take(&mut *BODY.lock().unwrap());
        let frames = futures::stream::iter(
            pieces
                .into_iter()
                .map(|p| Ok::<_, std::io::Error>(Frame::data(p))),
        );
        let body = SdkBody::from_body_1_x(http_body_util::StreamBody::new(frames));
        let mut response = Response::new(StatusCode::try_from(200).unwrap(), body);
        response
            .headers_mut()
            .insert("content-type", "application/vnd.amazon.eventstream");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Canned {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Canned)
    }
}

struct World {
    runtime: tokio::runtime::Runtime,
    model: BedrockModel,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = common::runtime();
        let model = runtime
            .block_on(duo_providers::fuzzing::bedrock_model(
                SharedHttpClient::new(Canned),
                "mistral.mistral-large-2402-v1:0",
            ))
            .unwrap();
        World { runtime, model }
    })
}

type Events = Vec<Result<StreamEvent, Error>>;

fn stream(pieces: Vec<Bytes>) -> Events {
    let world = world();
    *BODY.lock().unwrap() = pieces;
    let request = ModelRequest::new(Prompt::Text("hello".into()));
    world.runtime.block_on(async {
        match world.model.generate_stream(&request).await {
            Ok(events) => events.collect().await,
            Err(e) => vec![Err(e)],
        }
    })
}

/// Recomputes the prelude and message CRCs of each frame the length fields delimit.
fn repair(body: &mut [u8]) {
    let mut at = 0;
    while body.len() >= at + 16 {
        let total = u32::from_be_bytes(body[at..at + 4].try_into().unwrap()) as usize;
        if total < 16 || body.len() - at < total {
            return;
        }
        let prelude = crc32fast::hash(&body[at..at + 8]);
        body[at + 8..at + 12].copy_from_slice(&prelude.to_be_bytes());
        let message = crc32fast::hash(&body[at..at + total - 4]);
        body[at + total - 4..at + total].copy_from_slice(&message.to_be_bytes());
        at += total;
    }
}

/// Every frame of `body` the codec decodes: it round-trips, and a broken CRC is an error.
fn check_frames(body: &[u8]) {
    let mut decoder = MessageFrameDecoder::new();
    let mut buffer = BytesMut::from(body);
    while let Ok(DecodedFrame::Complete(message)) = decoder.decode_frame(&mut buffer) {
        let mut encoded = Vec::new();
        if write_message_to(&message, &mut encoded).is_err() {
            continue; // decodable but not encodable (e.g. a header past the encoder's limits)
        }
        let again = MessageFrameDecoder::new().decode_frame(&mut BytesMut::from(&encoded[..]));
        assert!(
            matches!(&again, Ok(DecodedFrame::Complete(m)) if *m == message),
            "a re-encoded frame decodes to the same message: {again:?} vs {message:?}"
        );
        *encoded.last_mut().unwrap() ^= 0x01;
        let broken = MessageFrameDecoder::new().decode_frame(&mut BytesMut::from(&encoded[..]));
        assert!(
            broken.is_err(),
            "a frame with a broken CRC is an error: {broken:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut body = rest.to_vec();
    if flags & 1 == 1 {
        repair(&mut body);
    }
    check_frames(&body);

    let body = Bytes::from(body);
    let whole = stream(vec![body.clone()]);
    let (last, before) = whole
        .split_last()
        .expect("a stream yields a finish or an error");
    assert!(
        before
            .iter()
            .all(|e| matches!(e, Ok(StreamEvent::Delta(_)))),
        "only deltas before the last event: {whole:?}"
    );
    assert!(
        last.is_err() || matches!(last, Ok(StreamEvent::Finish { .. })),
        "{whole:?}"
    );

    let size = 1 + usize::from(flags >> 1);
    let pieces: Vec<Bytes> = body.chunks(size).map(Bytes::copy_from_slice).collect();
    assert_eq!(stream(pieces), whole, "read in pieces of {size}");
});
