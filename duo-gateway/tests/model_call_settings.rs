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

#[cfg(feature = "openai-api")]
#[tokio::test]
async fn gitlabs_guardrail_variable_reaches_bedrock_and_an_intervention_is_a_content_filter_finish()
{
    use duo_openai_api::{ClientKeyEntry, OpenAiModelConfig};
    use duo_testkit::bedrock::{Answer, FakeBedrock};
    let bedrock = FakeBedrock::start().await;
    bedrock.set_default(Answer::guardrail_intervened(
        "Sorry, I cannot help with that.",
    ));
    let mut c = config();
    c.providers.bedrock.endpoint_url = Some(bedrock.url());
    c.providers.bedrock.region = Some("eu-west-1".into());
    c.providers.bedrock.access_key_id = Some("AKIDGUARD".into());
    c.providers.bedrock.secret_access_key = Some(Secret::new("guard-secret"));
    c.bedrock_guardrail_config = Some(duo_gateway::config::JsonSetting::Text(
        r#"{"guardrailIdentifier": "gr1abc", "guardrailVersion": "3", "trace": "enabled"}"#.into(),
    ));
    c.openai_api.enabled = true;
    c.openai_api.api_keys = vec![ClientKeyEntry::Plain(Secret::new("sk-client-guard-0123"))];
    c.openai_api.models = vec![OpenAiModelConfig {
        name: "claude".into(),
        identifier: "bedrock/anthropic.claude-sonnet-4-5-v1:0".into(),
        endpoint: None,
        api_key: None,
        api_key_env: None,
        api_key_file: None,
        family: None,
    }];
    let gw = start(c).await;
    for stream in [false, true] {
        let res = client()
            .post(gw.url("/v1/chat/completions"))
            .bearer_auth("sk-client-guard-0123")
            .json(&json!({"model": "claude", "stream": stream,
                          "messages": [{"role": "user", "content": "something forbidden"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "stream={stream}");
        let text = res.text().await.unwrap();
        if stream {
            assert!(
                text.contains(r#""finish_reason":"content_filter""#),
                "{text}"
            );
            assert!(text.contains("Sorry, I cannot help"), "{text}");
            assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
        } else {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
            assert_eq!(
                v["choices"][0]["message"]["content"],
                "Sorry, I cannot help with that."
            );
        }
        let seen = bedrock.requests().pop().unwrap();
        assert_eq!(
            seen.guardrail_config().unwrap()["guardrailIdentifier"],
            "gr1abc",
            "stream={stream}"
        );
        assert_eq!(seen.guardrail_config().unwrap()["guardrailVersion"], "3");
        assert!(seen.guardrail_trace_enabled());
    }
}

#[tokio::test]
async fn a_malformed_guardrail_variable_stops_start_naming_it() {
    let mut c = config();
    c.bedrock_guardrail_config = Some(duo_gateway::config::JsonSetting::Text(
        r#"{"guardrailIdentifier": "gr1abc"}"#.into(),
    ));
    let err = duo_gateway::AppState::new(c).err().expect("must not start");
    assert!(
        err.to_string().contains("bedrock_guardrail_config: "),
        "{err}"
    );
}
