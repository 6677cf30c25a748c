//! Unit tests of the checks made before the script (routes, bearer tokens, Gemini bodies) and
//! of the Claude routes, over real HTTP.

use serde_json::{Value, json};

use super::tests::{TOKEN, ask, gemini, google_error, header, post, url};
use super::*;

#[tokio::test]
async fn bearer_tokens_are_required_and_checked() {
    let fake = FakeVertex::start().await;
    fake.script(Reply::text("kept"));
    let target = url(&fake, "google", "gemini-2.5-flash:generateContent");
    let client = reqwest::Client::new();

    let missing = client.post(&target).json(&ask()).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(
        header(&missing, "www-authenticate"),
        "Bearer realm=\"https://accounts.google.com/\""
    );
    assert_eq!(
        missing.text().await.unwrap(),
        "{\n  \"error\": {\n    \"code\": 401,\n    \"message\": \"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.\",\n    \"status\": \"UNAUTHENTICATED\"\n  }\n}\n"
    );
    // With neither accept_token nor trust, any bearer token goes.
    let any = client
        .post(&target)
        .bearer_auth("whatever")
        .json(&ask())
        .send()
        .await
        .unwrap();
    assert_eq!(any.status(), 200);

    fake.accept_token("ya29.right").script(Reply::text("kept"));
    let basic = client
        .post(&target)
        .basic_auth("u", Some("p"))
        .json(&ask())
        .send();
    assert_eq!(basic.await.unwrap().status(), 401);
    let wrong = client
        .post(&target)
        .bearer_auth("ya29.wrong")
        .json(&ask())
        .send();
    let (code, status, _) = google_error(wrong.await.unwrap()).await;
    assert_eq!((code, status.as_str()), (401, "UNAUTHENTICATED"));
    assert_eq!(fake.pending(), 1, "refusals use no scripted reply");
    let right = client
        .post(&target)
        .bearer_auth("ya29.right")
        .json(&ask())
        .send();
    let answer: Value = right.await.unwrap().json().await.unwrap();
    assert_eq!(
        answer["candidates"][0]["content"]["parts"][0]["text"],
        "kept"
    );
    assert_eq!(fake.request_count(), 5, "refused requests are recorded too");
}

#[tokio::test]
async fn unknown_routes_are_not_found() {
    let fake = FakeVertex::start().await;
    let base = fake.url();
    let routes = [
        url(&fake, "google", "gemini-2.5-flash:rawPredict"),
        url(
            &fake,
            "anthropic",
            "claude-sonnet-4@20250514:generateContent",
        ),
        url(&fake, "meta", "llama:generateContent"),
        url(&fake, "google", "gemini-2.5-flash"),
        format!("{base}/v2/projects/p/locations/l/publishers/google/models/g:generateContent"),
        format!("{base}/v1/chat/completions"),
    ];
    for route in &routes {
        let got = google_error(post(route, &ask()).await).await;
        let expected = (
            404,
            "NOT_FOUND".to_owned(),
            "Requested entity was not found.".to_owned(),
        );
        assert_eq!(got, expected, "{route}");
    }
    let get = reqwest::Client::new()
        .get(url(&fake, "google", "gemini-2.5-flash:generateContent"))
        .bearer_auth(TOKEN)
        .send();
    assert_eq!(get.await.unwrap().status(), 404);
    assert_eq!(fake.request_count(), routes.len() + 1);
}

#[tokio::test]
async fn malformed_gemini_bodies_get_invalid_argument() {
    let fake = FakeVertex::start().await;
    fake.script(Reply::text("kept"));
    let content = |role: &str, parts: Value| json!({"contents": [{"role": role, "parts": parts}]});
    let with = |field: &str, value: Value| {
        let mut body = ask();
        body[field] = value;
        body
    };
    let learn =
        "Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini";
    let cases = [
        (json!({}), format!("Unable to submit request because at least one contents field is required. {learn}")),
        (json!({"contents": []}), format!("Unable to submit request because at least one contents field is required. {learn}")),
        (content("assistant", json!([{"text": "x"}])), "Please use a valid role: user, model.".into()),
        (json!({"contents": [{"parts": [{"text": "x"}]}]}), "Please use a valid role: user, model.".into()),
        (content("user", json!([])), format!("Unable to submit request because it must include at least one parts field, which describes the prompt input. {learn}")),
        (content("user", json!([{"text": ""}])), format!("Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. {learn}")),
        (content("user", json!([{}])), "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field".into()),
        (content("model", json!([{"functionCall": {"args": {}}}])), "* GenerateContentRequest.contents[0].parts[0].function_call.name: Name cannot be empty.".into()),
        (with("messages", json!([])), "Invalid JSON payload received. Unknown name \"messages\": Cannot find field.".into()),
        (json!([1]), "Invalid JSON payload received. Unknown name \"\": Root element must be a message.".into()),
        (with("generationConfig", json!({"topP": 1.5})), "Unable to submit request because it has a topP value of 1.5 but the supported range is from 0 (inclusive) to 1.0001 (exclusive). Update the value and try again.".into()),
        (with("generationConfig", json!({"maxOutputTokens": 0})), "Unable to submit request because it has a maxOutputTokens value of 0 but the supported range is from 1 (inclusive) to 65537 (exclusive). Update the value and try again.".into()),
        (with("generationConfig", json!({"temperature": "hot"})), "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"".into()),
        (with("tools", json!([{"functionDeclarations": [{"name": "1bad"}]}])), "* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or dashes (-), with a maximum length of 64.".into()),
        (with("toolConfig", json!({"functionCallingConfig": {"mode": "SOMETIMES"}})), "Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.cloud.aiplatform.v1.FunctionCallingConfig.Mode), \"SOMETIMES\"".into()),
    ];
    for (body, message) in cases {
        let got = google_error(gemini(&fake, "generateContent", &body).await).await;
        assert_eq!(got, (400, "INVALID_ARGUMENT".to_owned(), message), "{body}");
    }
    let not_json = reqwest::Client::new()
        .post(url(&fake, "google", "gemini-2.5-flash:generateContent"))
        .bearer_auth(TOKEN)
        .body("{not json");
    let (_, _, message) = google_error(not_json.send().await.unwrap()).await;
    assert_eq!(message, "Invalid JSON payload received. Unexpected token.");

    assert_eq!(fake.pending(), 1, "no refusal used the script");
    let full = json!({
        "contents": [{"role": "user", "parts": [{"text": "Weather?"}]},
                     {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
                     {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 20}}}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 256, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather",
                   "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
    });
    let kept: Value = gemini(&fake, "generateContent", &full)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["candidates"][0]["content"]["parts"][0]["text"], "kept");
    assert_eq!(
        kept["usageMetadata"]["promptTokenCount"], 3,
        "words of the text parts"
    );
}

fn claude_body(stream: Option<bool>) -> Value {
    let mut body = json!({"anthropic_version": VERTEX_ANTHROPIC_VERSION, "max_tokens": 64,
                          "messages": [{"role": "user", "content": "Say hi"}]});
    if let Some(stream) = stream {
        body["stream"] = json!(stream);
    }
    body
}

#[tokio::test]
async fn claude_raw_predict_and_stream_raw_predict() {
    let fake = FakeVertex::start().await;
    fake.script_claude(anthropic::Reply::text("Hi!").usage(3, 1))
        .script_claude(anthropic::Reply::text("Hello there").chunks(2));
    let raw = post(
        &url(&fake, "anthropic", "claude-sonnet-4@20250514:rawPredict"),
        &claude_body(None),
    )
    .await;
    assert_eq!(raw.status(), 200);
    assert_eq!(
        header(&raw, "request-id"),
        "req_vrtx_01Fake000000000000000001"
    );
    assert_eq!(
        raw.text().await.unwrap(),
        r#"{"id":"msg_vrtx_01Fake000000000000000001","type":"message","role":"assistant","model":"claude-sonnet-4@20250514","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}"#
    );

    // streamRawPredict streams even without `"stream": true`; `@` may come percent-encoded.
    let target = url(
        &fake,
        "anthropic",
        "claude-sonnet-4%4020250514:streamRawPredict",
    );
    let streamed = post(&target, &claude_body(None)).await;
    assert_eq!(
        header(&streamed, "content-type"),
        "text/event-stream; charset=utf-8"
    );
    let body = streamed.text().await.unwrap();
    let names: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert!(
        body.contains(r#""model":"claude-sonnet-4@20250514""#),
        "{body}"
    );
    assert!(body.contains(r#""text":" there"}"#), "{body}");
    assert_eq!(
        fake.last_request().unwrap().model(),
        Some("claude-sonnet-4@20250514")
    );

    // The default Claude reply, and a Google-shaped error of Vertex's own.
    fake.script_claude(Reply::status(429));
    let limited = post(
        &url(&fake, "anthropic", "claude-3-5-haiku@20241022:rawPredict"),
        &claude_body(None),
    )
    .await;
    let (code, status, _) = google_error(limited).await;
    assert_eq!((code, status.as_str()), (429, "RESOURCE_EXHAUSTED"));
    let default: Value = post(
        &url(&fake, "anthropic", "claude-3-5-haiku@20241022:rawPredict"),
        &claude_body(Some(false)),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(default["content"][0]["text"], "Hello from the fake.");
    assert_eq!(default["model"], "claude-3-5-haiku@20241022");
    assert_eq!(fake.pending(), 0);
    assert_eq!(fake.pending_claude(), 0);
}

#[tokio::test]
async fn claude_bodies_need_the_vertex_version_and_no_model() {
    let fake = FakeVertex::start().await;
    fake.script_claude(anthropic::Reply::text("kept"));
    let target = url(&fake, "anthropic", "claude-sonnet-4@20250514:rawPredict");
    let mut cases = Vec::new();
    let mut no_version = claude_body(None);
    no_version
        .as_object_mut()
        .unwrap()
        .remove("anthropic_version");
    cases.push((no_version, "anthropic_version: Field required"));
    let mut direct_version = claude_body(None);
    direct_version["anthropic_version"] = json!("2023-06-01");
    cases.push((
        direct_version,
        "anthropic_version: Input should be 'vertex-2023-10-16'",
    ));
    let mut with_model = claude_body(Some(true));
    with_model["model"] = json!("claude-sonnet-4@20250514");
    cases.push((with_model, "model: Extra inputs are not permitted"));
    let mut no_max = claude_body(None);
    no_max.as_object_mut().unwrap().remove("max_tokens");
    cases.push((no_max, "max_tokens: Field required"));
    for (n, (body, message)) in cases.into_iter().enumerate() {
        let response = post(&target, &body).await;
        assert_eq!(response.status(), 400);
        let expected = format!(
            r#"{{"type":"error","error":{{"type":"invalid_request_error","message":"{message}"}},"request_id":"req_vrtx_01Fake{:018}"}}"#,
            n + 1
        );
        assert_eq!(response.text().await.unwrap(), expected);
    }
    assert_eq!(fake.pending_claude(), 1, "no refusal used the script");
    let kept: Value = post(&target, &claude_body(None))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["content"][0]["text"], "kept");
}
