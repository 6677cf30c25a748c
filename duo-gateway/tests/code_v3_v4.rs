//! Black-box tests of `POST /v3/code/completions` and `POST /v4/code/suggestions` over real HTTP
//! with the fake vLLM / Azure / Bedrock upstreams: the F9 and F10 fixtures, the SSE framing, each
//! route × streaming × provider, faults, validation and scopes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "code_v3_v4/helpers.rs"]
mod helpers;

#[path = "code_v3_v4/inputs.rs"]
mod inputs;
#[path = "code_v3_v4/providers.rs"]
mod providers;
#[path = "code_v3_v4/scopes.rs"]
mod scopes;
#[path = "code_v3_v4/validation.rs"]
mod validation;

use helpers::*;

#[tokio::test]
async fn f9_v3_completion_answers_what_the_running_reference_answered() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("fmt.Println(\"hello\")").finish_reason("stop"));
    let gw = start(config()).await;
    let body = completion(
        "codestral",
        Some(&fake.url()),
        "custom_openai/Codestral-22B-v0.1",
    );
    let res = client()
        .post(gw.url("/v3/code/completions"))
        .header("x-gitlab-enabled-feature-flags", "ff_one,ff_two")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let json: Value = res.json().await.unwrap();
    let model = json!({"engine": "openai", "name": "codestral", "lang": "go"});
    assert_eq!(json["model"], model);
    assert_eq!(json["metadata"]["model"], model);
    assert_eq!(json["metadata"]["region"], Value::Null);
    assert!(json["metadata"].as_object().unwrap().contains_key("region"));
    assert_eq!(
        json["metadata"]["enabled_feature_flags"],
        json!(["ff_one", "ff_two"])
    );
    assert!(json["metadata"]["timestamp"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(
        json["choices"],
        json!([{"text": "fmt.Println(\"hello\")", "index": 0, "finish_reason": "length"}])
    );
    assert_eq!(
        json.as_object().unwrap().len(),
        3,
        "choices, metadata, model only: {json}"
    );

    let req = fake.last_request().unwrap();
    assert_eq!(req.header("authorization"), Some("Bearer token"));
    assert_eq!(req.body["model"], "Codestral-22B-v0.1");
    assert_eq!(
        upstream_text(&req),
        "[SUFFIX]\n}[PREFIX]func hello_world(){\n\t"
    );
    assert!(!req.is_streaming());
}

#[tokio::test]
async fn v4_answers_the_same_json_as_v3_when_not_streaming() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::answer("x := 1"));
    let gw = start(config()).await;
    let body = completion("codestral", Some(&fake.url()), "custom_openai/c");
    let (s3, mut v3) = post_json(&gw.url("/v3/code/completions"), &body).await;
    let (s4, mut v4) = post_json(&gw.url("/v4/code/suggestions"), &body).await;
    assert_eq!((s3, s4), (200, 200));
    for v in [&mut v3, &mut v4] {
        assert!(v["metadata"]["timestamp"].is_u64());
        v["metadata"]["timestamp"] = json!(0);
    }
    assert_eq!(v3, v4);
    assert_eq!(v4["choices"][0]["text"], "x := 1");
}

#[tokio::test]
async fn f10_v4_generation_streams_server_sent_events_exactly() {
    let fake = FakeOpenAi::start().await;
    let answer = "func minAbs(xs []int) int {\n\treturn 0\n}\n";
    fake.script(Reply::stream(answer).chunks(4));
    let gw = start(config()).await;
    let body = generation(
        "mistral",
        Some(&fake.url()),
        "custom_openai/Mistral-7B-Instruct-v0.3",
    );
    let res = client()
        .post(gw.url("/v4/code/suggestions"))
        .header("x-gitlab-enabled-feature-flags", "ff_a")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["x-streaming-format"], "sse");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert_eq!(headers["content-type"], "text/event-stream; charset=utf-8");
    let text = res.text().await.unwrap();
    let events = parse_sse(&text);
    assert_eq!(complete_stream_text(&events), answer);
    assert!(
        events.len() >= 4,
        "several content chunks, not one: {events:?}"
    );

    let start_data = &events[0].data;
    assert_eq!(start_data.as_object().unwrap().len(), 1, "{start_data}");
    let metadata = &start_data["metadata"];
    assert_eq!(
        metadata["model"],
        json!({"engine": "api", "name": "mistral", "lang": "go"})
    );
    assert_eq!(metadata["enabled_feature_flags"], json!(["ff_a"]));
    assert!(metadata["timestamp"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(metadata["region"], Value::Null);
    assert_eq!(metadata.as_object().unwrap().len(), 4, "{metadata}");

    let req = fake.last_request().unwrap();
    assert!(req.is_streaming());
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.body["model"], "Mistral-7B-Instruct-v0.3");
    // No API key in model_metadata: vLLM gets the placeholder key, as the reference sends it.
    assert_eq!(req.header("authorization"), Some("Bearer dummy_key"));
    let asked = upstream_text(&req);
    assert!(
        asked.contains("// write a function to find min abs value from an array"),
        "{asked}"
    );
    assert!(asked.contains("package client"), "{asked}");
}

#[tokio::test]
async fn v3_streams_raw_text_without_framing() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("fmt.Println(1)\nreturn").chunks(3));
    let gw = start(config()).await;
    let body = streaming(
        completion("codegemma", Some(&fake.url()), "custom_openai/cg"),
        true,
    );
    let res = client()
        .post(gw.url("/v3/code/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert!(res.headers().get("x-streaming-format").is_none());
    assert_eq!(res.text().await.unwrap(), "fmt.Println(1)\nreturn");
    assert!(fake.last_request().unwrap().is_streaming());
}

#[tokio::test]
async fn an_empty_suggestion_or_an_unknown_language_gives_no_choices() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer(""));
    let gw = start(config()).await;
    let url = gw.url("/v4/code/suggestions");
    let body = completion("codestral", Some(&fake.url()), "custom_openai/c");
    let (status, json) = post_json(&url, &body).await;
    assert_eq!((status, &json["choices"]), (200, &json!([])));
    assert_eq!(fake.request_count(), 1);

    let mut body = body;
    body["prompt_components"][0]["payload"]["file_name"] = json!("NOTES.unknownext");
    body["prompt_components"][0]["payload"]["language_identifier"] = Value::Null;
    let (status, json) = post_json(&url, &body).await;
    assert_eq!((status, &json["choices"]), (200, &json!([])));
    assert_eq!(json["model"]["lang"], Value::Null);
    assert_eq!(fake.request_count(), 1, "no model call without a language");
}

#[tokio::test]
async fn a_v4_stream_cut_upstream_aborts_the_body_without_stream_end() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::stream("one two three four five six")
            .chunks(6)
            .cut_after(2),
    );
    let gw = start(config()).await;
    let body = generation("mistral", Some(&fake.url()), "custom_openai/m");
    let mut res = client()
        .post(gw.url("/v4/code/suggestions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut received = Vec::new();
    let failure = loop {
        match res.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let received = String::from_utf8(received).unwrap();
    let err = failure.unwrap_or_else(|| panic!("body ended cleanly: {received:?}"));
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    assert!(
        received.starts_with("event: stream_start\r\n"),
        "{received:?}"
    );
    assert!(
        received.contains("event: content_chunk\r\n"),
        "{received:?}"
    );
    assert!(!received.contains("stream_end"), "{received:?}");
}

#[tokio::test]
async fn upstream_errors_before_the_first_byte_keep_their_status() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let body = generation("mistral", Some(&fake.url()), "custom_openai/m");
    fake.script(Reply::status(429).retry_after("3"));
    let res = client()
        .post(gw.url("/v4/code/suggestions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "3");
    assert!(res.headers().get("x-streaming-format").is_none());
    fake.script(Reply::status(500));
    let (status, json) = post_json(&gw.url("/v3/code/completions"), &streaming(body, false)).await;
    assert_eq!((status, json), (503, json!({"detail": "Inference failed"})));
}
