//! GitLab's settings that shape model calls, end to end: `custom_models.extra_headers`
//! (`AIGW_CUSTOM_MODELS__EXTRA_HEADERS`) goes to the endpoints a request names and nowhere
//! else (its scrubbing from upstream errors is tested in duo-providers); `duo_chat.max_tokens` caps Duo Chat's prompts only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use duo_core::Secret;
use duo_gateway::config::ExtraHeadersConfig;
use duo_testkit::anthropic::FakeAnthropic;
use duo_testkit::openai::FakeOpenAi;
use serde_json::{Value, json};
use support::{client, completion_body, config, prompt_body, start};

const HEADER: &str = "ocp-apim-subscription-key";
const VALUE: &str = "apim-subscription-0123456789";

fn with_headers() -> duo_gateway::Config {
    let mut c = config();
    c.custom_models.extra_headers = ExtraHeadersConfig(
        [("Ocp-Apim-Subscription-Key".to_owned(), Secret::new(VALUE))]
            .into_iter()
            .collect(),
    );
    c
}

#[tokio::test]
async fn extra_headers_reach_request_named_endpoints_only() {
    let vllm = FakeOpenAi::start().await;
    let operator = FakeAnthropic::start().await;
    let named = FakeAnthropic::start().await;
    let mut c = with_headers();
    c.providers.anthropic.base_url = operator.url();
    c.providers.anthropic.api_key = Some(Secret::new("sk-ant-operator-0123"));
    let gw = start(c).await;

    // vLLM, named by the request: the header goes along.
    let res = client()
        .post(gw.url("/v2/code/completions"))
        .json(&completion_body(
            "codestral",
            &vllm.url(),
            "custom_openai/codestral",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(vllm.last_request().unwrap().header(HEADER), Some(VALUE));

    // Anthropic at an endpoint the request names: the header goes along.
    let mut body = prompt_body(
        "claude_3",
        &named.url(),
        "anthropic/claude-sonnet-4-5",
        false,
    );
    let res = client()
        .post(gw.url("/v2/prompts/chat/explain_code"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(named.last_request().unwrap().header(HEADER), Some(VALUE));

    // Anthropic at the operator's default (no endpoint in the request): never.
    body["model_metadata"]
        .as_object_mut()
        .unwrap()
        .remove("endpoint");
    let res = client()
        .post(gw.url("/v2/prompts/chat/explain_code"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen = operator.last_request().unwrap();
    assert_eq!(seen.header(HEADER), None);
    assert_eq!(seen.header("x-api-key"), Some("upstream-key-123"));
}

#[tokio::test]
async fn a_bad_extra_header_stops_start_naming_the_header_not_the_value() {
    let mut c = config();
    c.custom_models.extra_headers = ExtraHeadersConfig(
        [(
            "Authorization".to_owned(),
            Secret::new("Bearer hidden-0123"),
        )]
        .into_iter()
        .collect(),
    );
    let err = duo_gateway::AppState::new(c).err().expect("must not start");
    let text = err.to_string();
    assert!(
        text.contains("custom_models.extra_headers: 'Authorization' is set by the gateway itself"),
        "{text}"
    );
    assert!(!text.contains("hidden-0123"), "{text}");
}

#[tokio::test]
async fn duo_chat_max_tokens_caps_chat_prompts_and_the_chat_agent_only() {
    let vllm = FakeOpenAi::start().await;
    let mut c = config();
    c.duo_chat.max_tokens = Some(77);
    let gw = start(c).await;
    let asked = |path: &'static str, body: Value| {
        let url = gw.url(path);
        async move {
            let res = client().post(url).json(&body).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            res.text().await.unwrap();
        }
    };
    asked(
        "/v2/prompts/chat/explain_code",
        prompt_body("mistral", &vllm.url(), "custom_openai/mistral", false),
    )
    .await;
    assert_eq!(vllm.last_request().unwrap().body["max_tokens"], 77);
    asked(
        "/v2/chat/agent",
        json!({
            "messages": [{"role": "user", "content": "What is GitLab?"}],
            "unavailable_resources": [],
            "model_metadata": {"name": "mistral", "provider": "litellm", "endpoint": vllm.url(),
                               "api_key": "k", "identifier": "custom_openai/mistral"}
        }),
    )
    .await;
    assert_eq!(vllm.last_request().unwrap().body["max_tokens"], 77);
    // Code suggestions are not Duo Chat: their own limit stays.
    asked(
        "/v2/code/completions",
        completion_body("codestral", &vllm.url(), "custom_openai/codestral"),
    )
    .await;
    assert_ne!(vllm.last_request().unwrap().body["max_tokens"], 77);
}
