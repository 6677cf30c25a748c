//! v3 and v4, streaming and not, against each provider: vLLM, Azure OpenAI, AWS Bedrock.

use duo_core::Secret;
use duo_testkit::bedrock::{Answer, Cut, FakeBedrock, Operation};

use crate::helpers::*;

/// The four ways of asking: (route, stream).
const WAYS: [(&str, bool); 4] = [
    ("/v3/code/completions", false),
    ("/v3/code/completions", true),
    ("/v4/code/suggestions", false),
    ("/v4/code/suggestions", true),
];

/// Sends `body` the given way and returns the suggestion text, checking the response shape.
async fn ask(base: &str, path: &str, stream: bool, body: &Value) -> String {
    let body = streaming(body.clone(), stream);
    let res = client()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path} stream={stream}");
    let sse = res.headers().get("x-streaming-format").is_some();
    match (path.starts_with("/v4"), stream) {
        (_, false) => {
            assert!(!sse);
            let json: Value = res.json().await.unwrap();
            assert_eq!(json["model"], json["metadata"]["model"]);
            json["choices"][0]["text"].as_str().unwrap().to_owned()
        }
        (false, true) => {
            assert!(!sse);
            res.text().await.unwrap()
        }
        (true, true) => {
            assert!(sse);
            complete_stream_text(&parse_sse(&res.text().await.unwrap()))
        }
    }
}

#[tokio::test]
async fn vllm_serves_every_route_and_mode() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::answer("return 42").chunks(3));
    let gw = start(config()).await;
    for (kind, body) in [
        (
            "completion",
            completion("llama3", Some(&fake.url()), "custom_openai/llama-3-8b"),
        ),
        (
            "generation",
            generation("codestral", Some(&fake.url()), "hosted_vllm/codestral-22b"),
        ),
    ] {
        let mut body = body;
        body["model_metadata"]["api_key"] = json!("token");
        for (path, stream) in WAYS {
            let text = ask(&gw.base, path, stream, &body).await;
            assert_eq!(text, "return 42", "{kind} {path} stream={stream}");
            let req = fake.last_request().unwrap();
            assert_eq!(req.path, "/v1/chat/completions", "{kind}");
            assert_eq!(req.is_streaming(), stream, "{kind} {path}");
            assert_eq!(req.header("authorization"), Some("Bearer token"));
        }
    }
}

#[tokio::test]
async fn azure_deployments_serve_every_route_and_mode() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Reply::answer("print('hi')").chunks(2));
    let gw = start(config()).await;
    for body in [
        completion("gpt", Some(&fake.azure_url()), "azure/gpt-4o-deploy"),
        generation("gpt", Some(&fake.azure_url()), "azure/gpt-4o-deploy"),
    ] {
        let mut body = body;
        body["model_metadata"]["api_key"] = json!("azure-key-1");
        for (path, stream) in WAYS {
            assert_eq!(ask(&gw.base, path, stream, &body).await, "print('hi')");
            let req = fake.last_request().unwrap();
            assert_eq!(
                req.path,
                "/openai/deployments/gpt-4o-deploy/chat/completions"
            );
            assert!(req.query_param("api-version").is_some());
            assert_eq!(req.header("api-key"), Some("azure-key-1"));
            assert_eq!(req.is_streaming(), stream);
        }
    }
}

fn bedrock_config(fake: &FakeBedrock) -> duo_gateway::Config {
    let mut c = config();
    c.providers.bedrock.endpoint_url = Some(fake.url());
    c.providers.bedrock.region = Some("us-east-1".into());
    c.providers.bedrock.access_key_id = Some("AKIDTESTKEY".into());
    c.providers.bedrock.secret_access_key = Some(Secret::new("test-secret-access-key"));
    c
}

const CLAUDE: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

#[tokio::test]
async fn bedrock_serves_every_route_and_mode() {
    let fake = FakeBedrock::start().await;
    fake.set_default(Answer::chunks(["fn ", "main() ", "{}"]));
    let gw = start(bedrock_config(&fake)).await;
    let identifier = format!("bedrock/{CLAUDE}");
    for body in [
        completion("claude_3", None, &identifier),
        generation("claude_3", None, &identifier),
    ] {
        for (path, stream) in WAYS {
            assert_eq!(ask(&gw.base, path, stream, &body).await, "fn main() {}");
            let req = fake.requests().pop().unwrap();
            assert_eq!(req.model_id, CLAUDE);
            let expected = if stream {
                Operation::ConverseStream
            } else {
                Operation::Converse
            };
            assert_eq!(req.operation, expected, "{path} stream={stream}");
            assert!(
                req.header("authorization")
                    .unwrap()
                    .contains("Credential=AKIDTESTKEY/"),
                "SigV4 with the configured key"
            );
        }
    }
    assert_eq!(fake.requests().len(), 8);
}

#[tokio::test]
async fn a_bedrock_stream_aborted_mid_answer_ends_the_v4_body_without_stream_end() {
    let fake = FakeBedrock::start().await;
    fake.push(Answer::chunks(["a", "b", "c", "d"]).cut(Cut::Abort(3)));
    let gw = start(bedrock_config(&fake)).await;
    let body = generation("claude_3", None, &format!("bedrock/{CLAUDE}"));
    let mut res = client()
        .post(gw.url("/v4/code/suggestions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut received = Vec::new();
    let aborted = loop {
        match res.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    let received = String::from_utf8(received).unwrap();
    assert!(aborted, "the body must not end cleanly: {received:?}");
    assert!(received.starts_with("event: stream_start\r\n"));
    assert!(!received.contains("stream_end"), "{received:?}");
}
