//! Streamed answers: SSE exactly as OpenAI frames it, for each route and provider, and what
//! happens when the upstream fails before or during the stream.

use duo_testkit::bedrock::{Answer as BedrockAnswer, Cut, Operation, StreamException};
use duo_testkit::openai::Reply;
use serde_json::{Value, json};

use super::stand::{self, Stand};
use super::{chat_body, completion_body, stream};

fn streaming(mut body: Value, include_usage: bool) -> Value {
    body["stream"] = json!(true);
    if include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

#[tokio::test]
async fn chat_streams_are_framed_byte_for_byte_like_openai() {
    let s = Stand::start().await;
    s.vllm
        .script(Reply::answer("Hello world").chunks(2).usage(7, 2));
    let got = stream(
        &s,
        "/v1/chat/completions",
        &streaming(chat_body(stand::VLLM), true),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, "text/event-stream; charset=utf-8");
    assert!(!got.aborted);
    let first = &got.chunks()[0];
    let (id, created) = (
        first["id"].as_str().unwrap(),
        first["created"].as_u64().unwrap(),
    );
    assert!(id.starts_with("chatcmpl-"));
    let head = format!(
        r#"{{"id":"{id}","object":"chat.completion.chunk","created":{created},"model":"{}","choices":"#,
        stand::VLLM
    );
    let choice = |delta: &str, finish: &str| {
        format!(r#"[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]"#)
    };
    let expected = [
        format!("data: {head}{},\"usage\":null}}\n\n", choice(r#"{"role":"assistant","content":""}"#, "null")),
        format!("data: {head}{},\"usage\":null}}\n\n", choice(r#"{"content":"Hello"}"#, "null")),
        format!("data: {head}{},\"usage\":null}}\n\n", choice(r#"{"content":" world"}"#, "null")),
        format!("data: {head}{},\"usage\":null}}\n\n", choice("{}", r#""stop""#)),
        format!(
            "data: {head}[],\"usage\":{{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}}}\n\n"
        ),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    assert_eq!(got.raw, expected);
    let req = s.vllm.last_request().unwrap();
    assert!(req.is_streaming());
    assert_eq!(req.path, "/v1/chat/completions");
}

#[tokio::test]
async fn without_include_usage_chunks_have_no_usage() {
    let s = Stand::start().await;
    s.vllm.script(Reply::answer("a b c").chunks(3));
    let got = stream(
        &s,
        "/v1/chat/completions",
        &streaming(chat_body(stand::VLLM), false),
    )
    .await;
    assert!(!got.raw.contains("usage"), "{}", got.raw);
    assert_eq!(got.text(), "a b c");
    assert_eq!(got.events().last().map(String::as_str), Some("[DONE]"));
    let chunks = got.chunks();
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
}

#[tokio::test]
async fn chat_streams_from_azure_and_bedrock() {
    let s = Stand::start().await;
    s.azure
        .script(Reply::answer("Azure says hi").chunks(3).usage(4, 3));
    let got = stream(
        &s,
        "/v1/chat/completions",
        &streaming(chat_body(stand::AZURE), true),
    )
    .await;
    assert!(!got.aborted);
    assert_eq!(got.text(), "Azure says hi");
    let chunks = got.chunks();
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(chunks.last().unwrap()["usage"]["total_tokens"], 7);
    assert_eq!(chunks.last().unwrap()["choices"], json!([]));
    assert!(
        s.azure
            .last_request()
            .unwrap()
            .path
            .ends_with("/chat/completions")
    );

    s.bedrock
        .push(BedrockAnswer::chunks(["Bedrock", " says", " hi"]).with_usage(11, 3));
    let got = stream(
        &s,
        "/v1/chat/completions",
        &streaming(chat_body(stand::BEDROCK), true),
    )
    .await;
    assert!(!got.aborted, "{}", got.raw);
    assert_eq!(got.text(), "Bedrock says hi");
    let chunks = got.chunks();
    assert_eq!(
        chunks.len(),
        6,
        "role, 3 deltas, finish, usage: {}",
        got.raw
    );
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        chunks[5]["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14})
    );
    assert!(got.raw.ends_with("data: [DONE]\n\n"));
    assert_eq!(s.bedrock.requests()[0].operation, Operation::ConverseStream);
}

#[tokio::test]
async fn completion_streams_on_each_provider() {
    let s = Stand::start().await;
    s.vllm
        .script(Reply::answer("    return a + b").chunks(2).usage(5, 2));
    s.azure
        .script(Reply::answer("    return a + b").chunks(2).usage(5, 2));
    s.bedrock
        .push(BedrockAnswer::chunks(["    return", " a + b"]).with_usage(5, 2));
    for model in [stand::VLLM, stand::AZURE, stand::BEDROCK] {
        let got = stream(
            &s,
            "/v1/completions",
            &streaming(completion_body(model), true),
        )
        .await;
        assert!(!got.aborted, "{model}: {}", got.raw);
        assert_eq!(got.text(), "    return a + b", "{model}");
        let chunks = got.chunks();
        assert!(
            chunks.iter().all(|c| c["object"] == "text_completion"),
            "{model}"
        );
        assert!(chunks.iter().all(|c| c["id"] == chunks[0]["id"]), "{model}");
        assert!(chunks[0]["id"].as_str().unwrap().starts_with("cmpl-"));
        assert!(
            !got.raw.contains("\"role\""),
            "{model}: no role chunk on completions"
        );
        let n = chunks.len();
        assert_eq!(
            chunks[n - 2]["choices"],
            json!([{"text": "", "index": 0, "logprobs": null, "finish_reason": "stop"}])
        );
        assert_eq!(chunks[n - 1]["choices"], json!([]));
        assert_eq!(chunks[n - 1]["usage"]["total_tokens"], 7, "{model}");
        assert!(got.raw.ends_with("data: [DONE]\n\n"), "{model}");
    }
    assert_eq!(s.vllm.last_request().unwrap().path, "/v1/completions");
}

#[tokio::test]
async fn a_mid_stream_cut_aborts_the_body_without_done() {
    let s = Stand::start().await;
    s.vllm
        .script(Reply::answer("abcdefgh").chunks(4).cut_after(2));
    let got = stream(
        &s,
        "/v1/chat/completions",
        &streaming(chat_body(stand::VLLM), true),
    )
    .await;
    assert_eq!(got.status, 200);
    assert!(
        got.aborted,
        "the client must see a broken stream: {}",
        got.raw
    );
    assert!(!got.raw.contains("[DONE]"), "{}", got.raw);
    assert!(!got.raw.contains("finish_reason\":\"stop"), "{}", got.raw);
    assert_eq!(got.text(), "abcd");

    // Bedrock: the connection dies after messageStart and two deltas
    s.bedrock
        .push(BedrockAnswer::chunks(["a", "b", "c"]).cut(Cut::Abort(3)));
    let got = stream(
        &s,
        "/v1/completions",
        &streaming(completion_body(stand::BEDROCK), false),
    )
    .await;
    assert!(got.aborted, "{}", got.raw);
    assert!(!got.raw.contains("[DONE]"));
    assert_eq!(got.text(), "ab");

    // Bedrock: an exception frame mid-stream
    s.bedrock.push(
        BedrockAnswer::chunks(["x", "y"])
            .exception_after_frames(2, StreamException::model_stream_error()),
    );
    let got = stream(
        &s,
        "/v1/chat/completions",
        &streaming(chat_body(stand::BEDROCK), false),
    )
    .await;
    assert!(got.aborted, "{}", got.raw);
    assert_eq!(got.text(), "x");
}

#[tokio::test]
async fn failures_before_the_first_byte_are_openai_errors_not_streams() {
    let s = Stand::start().await;
    s.vllm.script(Reply::status(429).retry_after("9"));
    let got = stream(
        &s,
        "/v1/chat/completions",
        &streaming(chat_body(stand::VLLM), true),
    )
    .await;
    assert_eq!(got.status, 429);
    assert!(
        got.content_type.starts_with("application/json"),
        "{}",
        got.content_type
    );
    let body: Value = serde_json::from_str(&got.raw).unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    s.azure.script(Reply::status(500));
    let got = stream(
        &s,
        "/v1/completions",
        &streaming(completion_body(stand::AZURE), false),
    )
    .await;
    assert_eq!(got.status, 502);
    assert!(!got.raw.contains("data:"));
}

#[tokio::test]
async fn done_without_a_finish_reason_is_never_reported_as_stop() {
    // llama.cpp's server ends an interrupted stream with [DONE] and no finish reason.
    let s = Stand::start().await;
    s.vllm.script(Reply::raw_sse([
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"abc\"}}]}\n\n",
        "data: [DONE]\n\n",
    ]));
    let got = stream(
        &s,
        "/v1/chat/completions",
        &streaming(chat_body(stand::VLLM), true),
    )
    .await;
    assert_eq!(got.status, 200);
    assert!(got.aborted, "a truncated answer: {}", got.raw);
    assert!(!got.raw.contains("[DONE]"), "{}", got.raw);
    assert!(
        !got.raw.contains("\"finish_reason\":\"stop\""),
        "{}",
        got.raw
    );
    assert_eq!(got.text(), "abc");
}
