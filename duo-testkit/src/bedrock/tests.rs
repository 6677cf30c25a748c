//! The fake over real HTTP: tool use answers (Converse JSON, ConverseStream frames decoded with
//! AWS's own decoder), the `toolConfig` check, the API-key check and guardrail answers.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use axum::http::header;
use bytes::BytesMut;
use serde_json::{Value, json};

use super::*;

fn weather_tool_use() -> Answer {
    Answer::tool_use("tooluse_1", "get_weather", json!({"city": "Paris"}))
        .and_tool_use("tooluse_2", "get_time", json!({}))
        .with_usage(20, 12)
}

fn tool_config() -> Value {
    json!({"tools": [
        {"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}},
        {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object"}}}}]})
}

fn ask() -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": "weather?"}]}], "toolConfig": tool_config()})
}

async fn post(fake: &FakeBedrock, operation: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/model/m/{operation}", fake.url()))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Every frame of `body` as (`:event-type`, payload without the padding `p`), checking the
/// other two headers of each.
fn events(body: &[u8]) -> Vec<(String, Value)> {
    let mut decoder = MessageFrameDecoder::new();
    let mut buffer = BytesMut::from(body);
    let mut out = Vec::new();
    while let DecodedFrame::Complete(message) = decoder.decode_frame(&mut buffer).unwrap() {
        let headers: Vec<(&str, &str)> = message
            .headers()
            .iter()
            .map(|h| (h.name().as_str(), h.value().as_string().unwrap().as_str()))
            .collect();
        assert_eq!(headers.len(), 3, "{headers:?}");
        assert_eq!(headers[0].0, ":event-type");
        assert_eq!(headers[1], (":content-type", "application/json"));
        assert_eq!(headers[2], (":message-type", "event"));
        let mut payload: Value = serde_json::from_slice(message.payload()).unwrap();
        assert!(payload["p"].is_string(), "padded: {payload}");
        payload.as_object_mut().unwrap().remove("p");
        out.push((headers[0].1.to_owned(), payload));
    }
    assert!(buffer.is_empty(), "no partial frame left");
    out
}

#[tokio::test]
async fn a_streamed_tool_use_answer_has_a_block_per_tool_after_the_text() {
    let fake = FakeBedrock::start().await;
    fake.push(weather_tool_use().with_text("Let me check."));
    let response = post(&fake, "converse-stream", &ask()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/vnd.amazon.eventstream"
    );
    let events = events(&response.bytes().await.unwrap());
    let expected = [
        ("messageStart", json!({"role": "assistant"})),
        ("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "Let me check."}})),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        ("contentBlockStart", json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"cit"}}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "y\":\"P"}}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "aris\"}"}}})),
        ("contentBlockStop", json!({"contentBlockIndex": 1})),
        ("contentBlockStart", json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_2", "name": "get_time"}}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{"}}})),
        ("contentBlockDelta", json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "}"}}})),
        ("contentBlockStop", json!({"contentBlockIndex": 2})),
        ("messageStop", json!({"stopReason": "tool_use"})),
        ("metadata", json!({"usage": {"inputTokens": 20, "outputTokens": 12, "totalTokens": 32}, "metrics": {"latencyMs": 42}})),
    ]
    .map(|(kind, payload)| (kind.to_owned(), payload));
    assert_eq!(events, expected);
    assert_eq!(fake.requests()[0].body["toolConfig"], tool_config());
}

#[tokio::test]
async fn without_text_the_first_tool_use_is_block_zero() {
    let fake = FakeBedrock::start().await;
    fake.push(
        Answer::tool_use("tooluse_1", "get_weather", json!({"city": "Paris"}))
            .with_input_pieces(1)
            .with_stop_reason("max_tokens"),
    );
    let response = post(&fake, "converse-stream", &ask()).await;
    let kinds: Vec<(String, Value)> = events(&response.bytes().await.unwrap())
        .into_iter()
        .map(|(kind, payload)| (kind, payload["contentBlockIndex"].clone()))
        .collect();
    let expected = [
        ("messageStart", Value::Null),
        ("contentBlockStart", json!(0)),
        ("contentBlockDelta", json!(0)),
        ("contentBlockStop", json!(0)),
        ("messageStop", Value::Null),
        ("metadata", Value::Null),
    ]
    .map(|(kind, index)| (kind.to_owned(), index));
    assert_eq!(kinds, expected);
}

#[tokio::test]
async fn a_converse_tool_use_answer_has_tool_use_blocks() {
    let fake = FakeBedrock::start().await;
    fake.push(weather_tool_use().with_text("Let me check."));
    fake.push(Answer::tool_use(
        "tooluse_3",
        "get_time",
        json!({"tz": "CET"}),
    ));
    let response = post(&fake, "converse", &ask()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "output": {"message": {"role": "assistant", "content": [
                {"text": "Let me check."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "tooluse_2", "name": "get_time", "input": {}}}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 20, "outputTokens": 12, "totalTokens": 32},
            "metrics": {"latencyMs": 42}
        })
    );
    let body: Value = post(&fake, "converse", &ask()).await.json().await.unwrap();
    assert_eq!(
        body["output"]["message"]["content"],
        json!([{"toolUse": {"toolUseId": "tooluse_3", "name": "get_time", "input": {"tz": "CET"}}}])
    );
}

#[tokio::test]
async fn tool_blocks_without_a_tool_config_are_refused_as_bedrock_does() {
    let fake = FakeBedrock::start().await;
    fake.push(Answer::text("after the tool"));
    let mut turn = json!({"messages": [
        {"role": "user", "content": [{"text": "weather?"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_1", "content": [{"json": {"sky": "sunny"}}]}}]}]});

    for operation in ["converse", "converse-stream"] {
        let refused = post(&fake, operation, &turn).await;
        assert_eq!(refused.status(), 400);
        assert_eq!(
            refused.headers()["x-amzn-errortype"],
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
        );
        assert_eq!(
            refused.text().await.unwrap(),
            r#"{"message":"The toolConfig field must be defined when using toolUse and toolResult content blocks."}"#
        );
    }

    turn["toolConfig"] = tool_config();
    let answered: Value = post(&fake, "converse", &turn).await.json().await.unwrap();
    assert_eq!(
        answered["output"]["message"]["content"],
        json!([{"text": "after the tool"}]),
        "the refusals consumed no scripted reply"
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "the refused requests are recorded");
    assert_eq!(requests[0].body["toolConfig"], Value::Null);
    assert_eq!(requests[2].body["toolConfig"], tool_config());
}

async fn post_with_auth(
    fake: &FakeBedrock,
    operation: &str,
    body: &Value,
    authorization: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/model/m/{operation}", fake.url()))
        .json(body);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_required_api_key_refuses_anything_but_that_bearer_token() {
    let fake = FakeBedrock::start().await;
    fake.push(Answer::text("only for the key holder"));
    fake.require_bearer("bedrock-api-key-right");
    let sigv4 = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240620/us-east-1/bedrock/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=00";
    for auth in [None, Some("Bearer bedrock-api-key-wrong"), Some(sigv4)] {
        let refused = post_with_auth(&fake, "converse", &ask(), auth).await;
        assert_eq!(refused.status(), 403, "{auth:?}");
        assert!(refused.headers().get("x-amzn-errortype").is_none());
        assert_eq!(
            refused.text().await.unwrap(),
            r#"{"Message":"Authentication failed: Please make sure your API Key is valid."}"#
        );
    }
    let answered = post_with_auth(
        &fake,
        "converse",
        &ask(),
        Some("Bearer bedrock-api-key-right"),
    )
    .await;
    assert_eq!(answered.status(), 200);
    let body: Value = answered.json().await.unwrap();
    assert_eq!(
        body["output"]["message"]["content"][0]["text"], "only for the key holder",
        "the refusals consumed no scripted reply"
    );
    let auths: Vec<Auth> = fake.requests().into_iter().map(|r| r.auth).collect();
    assert_eq!(auths[0], Auth::Missing);
    assert_eq!(auths[1].bearer(), Some("bedrock-api-key-wrong"));
    assert_eq!(auths[2].access_key_id(), Some("AKIDTEST"));
    assert_eq!(auths[3].bearer(), Some("bedrock-api-key-right"));
}

fn guarded(trace: &str) -> Value {
    let mut body = ask();
    body["guardrailConfig"] =
        json!({"guardrailIdentifier": "gr1abc", "guardrailVersion": "3", "trace": trace});
    body
}

#[tokio::test]
async fn a_guardrail_intervention_is_a_200_with_the_trace_only_when_asked_for() {
    let fake = FakeBedrock::start().await;
    fake.set_default(Answer::guardrail_intervened(
        "Sorry, I can't help with that.",
    ));
    let body: Value = post(&fake, "converse", &guarded("enabled"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["stopReason"], "guardrail_intervened");
    assert_eq!(
        body["output"]["message"]["content"],
        json!([{"text": "Sorry, I can't help with that."}])
    );
    assert_eq!(
        body["trace"]["guardrail"],
        Answer::default_guardrail_assessment()
    );
    assert_eq!(
        body["trace"]["guardrail"]["inputAssessment"][Answer::GUARDRAIL_ID]["topicPolicy"]["topics"]
            [0]["action"],
        "BLOCKED"
    );
    let untraced: Value = post(&fake, "converse", &guarded("disabled"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(untraced["stopReason"], "guardrail_intervened");
    assert!(untraced.get("trace").is_none(), "{untraced}");

    let streamed = post(&fake, "converse-stream", &guarded("enabled")).await;
    let events = events(&streamed.bytes().await.unwrap());
    let (kind, metadata) = events.last().unwrap();
    assert_eq!(kind, "metadata");
    assert_eq!(
        metadata["trace"]["guardrail"],
        Answer::default_guardrail_assessment()
    );
    assert!(events.contains(&(
        "messageStop".to_owned(),
        json!({"stopReason": "guardrail_intervened"})
    )));

    let requests = fake.requests();
    assert!(requests[0].guardrail_trace_enabled());
    assert!(!requests[1].guardrail_trace_enabled());
    assert_eq!(
        requests[1].guardrail_config().unwrap()["guardrailIdentifier"],
        "gr1abc"
    );
    let plain = post(&fake, "converse", &ask())
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert!(plain.get("trace").is_none());
    assert!(fake.requests()[3].guardrail_config().is_none());
}
