//! The vLLM / OpenAI-compatible client against `FakeOpenAi` over loopback.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions unwrap too
#![cfg(feature = "vllm")]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{chat, completion, deltas, drain, endpoint, http, text};
use duo_core::{Error, FinishReason, LanguageModel, ModelRequest, Prompt, StreamEvent, Usage};
use duo_providers::OpenAiSettings;
use duo_providers::openai::OpenAiCompatibleModel;
use duo_testkit::openai::{FakeOpenAi, Reply};
use serde_json::json;

fn model(fake: &FakeOpenAi, key: Option<&str>) -> OpenAiCompatibleModel {
    let ep = endpoint("custom_openai/codestral-22b", &fake.url(), key);
    OpenAiCompatibleModel::new(&http(), &ep, &OpenAiSettings::default()).unwrap()
}

#[tokio::test]
async fn text_completion_without_streaming_sends_the_documented_body() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        Reply::answer("    return a + b\n")
            .finish_reason("length")
            .usage(12, 5),
    );
    let m = model(&fake, Some("sk-vllm"));
    let g = m.generate(&completion("def add(a, b):")).await.unwrap();
    assert_eq!(g.text, "    return a + b\n");
    assert_eq!(g.finish_reason, FinishReason::Length);
    assert_eq!(
        g.usage,
        Some(Usage {
            input_tokens: 12,
            output_tokens: 5
        })
    );

    let req = fake.last_request().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/completions")
    );
    assert_eq!(req.header("authorization"), Some("Bearer sk-vllm"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.body,
        json!({"model": "codestral-22b", "prompt": "def add(a, b):", "max_tokens": 64,
               "temperature": 0.25, "top_p": 0.5, "stream": false,
               "stop": ["[INST]", "[/INST]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]"]})
    );
    assert_eq!(m.upstream(), format!("vLLM at {}", fake.url()));
    assert_eq!(
        (m.provider(), m.model()),
        ("openai_compatible", "codestral-22b")
    );
}

#[tokio::test]
async fn chat_streams_deltas_then_one_finish_with_usage() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::stream("hello wide world").chunks(3).usage(4, 3));
    let m = model(&fake, None);
    let (events, err) = drain(&m, &chat("say hello")).await.unwrap();
    assert_eq!(err, None);
    assert_eq!(text(&events), "hello wide world");
    assert_eq!(deltas(&events), 3);
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finish {
            reason: FinishReason::Stop,
            usage: Some(Usage {
                input_tokens: 4,
                output_tokens: 3
            })
        })
    );
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("accept"), Some("text/event-stream"));
    assert_eq!(
        req.body["messages"],
        json!([{"role": "user", "content": "say hello"}])
    );
    assert_eq!(req.body["stream"], json!(true));
    assert_eq!(req.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        req.header("authorization"),
        Some("Bearer dummy_key"),
        "GitLab's placeholder"
    );
}

#[tokio::test]
async fn fill_in_the_middle_sends_prefix_as_prompt_and_the_suffix() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, None);
    let fim = ModelRequest::new(Prompt::FillInTheMiddle {
        prefix: "def add(a, b):\n".into(),
        suffix: "\nprint(add(1, 2))".into(),
    });
    let (events, err) = drain(&m, &fim).await.unwrap();
    assert_eq!((text(&events).as_str(), err), ("hello world", None));
    let req = fake.last_request().unwrap();
    assert_eq!(req.path, "/v1/completions");
    assert_eq!(req.body["prompt"], "def add(a, b):\n");
    assert_eq!(req.body["suffix"], "\nprint(add(1, 2))");
    assert!(req.body.get("messages").is_none());
}

#[tokio::test]
async fn an_empty_placeholder_sends_no_authorization() {
    let fake = FakeOpenAi::start().await;
    let settings = OpenAiSettings {
        placeholder_key: String::new(),
        ..OpenAiSettings::default()
    };
    let vllm = OpenAiCompatibleModel::new(
        &http(),
        &endpoint("hosted_vllm/m", &fake.url(), None),
        &settings,
    )
    .unwrap();
    vllm.generate(&completion("x")).await.unwrap();
    assert_eq!(fake.last_request().unwrap().header("authorization"), None);
}

#[tokio::test]
async fn upstream_statuses_map_to_exact_errors_streaming_or_not() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, Some("sk-secret-123"));
    let upstream = format!("vLLM at {}", fake.url());
    let message = |s: u16| format!("the fake upstream was scripted to answer {s}");
    for streaming in [false, true] {
        for status in [400u16, 401, 403, 404, 429, 500, 503] {
            let reply = Reply::status(status);
            fake.script(if status == 429 {
                reply.retry_after("7")
            } else {
                reply
            });
            let err = if streaming {
                drain(&m, &chat("x")).await.unwrap_err()
            } else {
                m.generate(&chat("x")).await.unwrap_err()
            };
            let expected = match status {
                429 => Error::RateLimited {
                    upstream: upstream.clone(),
                    retry_after: Some(Duration::from_secs(7)),
                    message: message(status),
                },
                401 | 403 => Error::UpstreamAuth {
                    upstream: upstream.clone(),
                    status,
                    message: message(status),
                },
                _ => Error::UpstreamStatus {
                    upstream: upstream.clone(),
                    status,
                    message: message(status),
                    retry_after: None,
                    code: None,
                },
            };
            assert_eq!(err, expected, "status {status}, streaming {streaming}");
            assert!(!err.to_string().contains("sk-secret-123"));
        }
    }
}

#[tokio::test]
async fn other_error_bodies_keep_their_message() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, None);
    fake.script(Reply::error(404, r#"{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}"#));
    let err = m.generate(&chat("x")).await.unwrap_err();
    assert!(
        matches!(&err, Error::UpstreamStatus { status: 404, message, .. } if message == "The model `x` does not exist."),
        "{err:?}"
    );
    fake.script(Reply::raw(
        502,
        "text/html",
        vec![Bytes::from_static(b"<html>Bad Gateway</html>")],
    ));
    let err = m.generate(&chat("x")).await.unwrap_err();
    assert!(
        matches!(&err, Error::UpstreamStatus { status: 502, message, .. } if message == "<html>Bad Gateway</html>"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_cut_stream_yields_its_deltas_then_a_broken_stream() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, None);
    fake.script(Reply::stream("abcdefgh").chunks(4).cut_after(2));
    let (events, err) = drain(&m, &completion("x")).await.unwrap();
    assert_eq!(text(&events), "abcd");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, StreamEvent::Finish { .. }))
    );
    assert!(matches!(err, Some(Error::BrokenStream { .. })), "{err:?}");

    fake.script(Reply::stream("one two three four").chunks(4).end_after(3));
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!(deltas(&events), 3);
    assert!(
        matches!(&err, Some(Error::BrokenStream { message, .. }) if message.contains("[DONE]")),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_json_chunks_and_bad_bytes_are_protocol_errors() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, None);
    fake.script(Reply::stream("abcdef").chunks(3).bad_json_at(1));
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!(text(&events), "ab");
    assert!(matches!(err, Some(Error::Protocol { .. })), "{err:?}");

    fake.script(Reply::raw_sse([
        &b"data: {\"choices\":[{\"index\":0,\"text\":\"\xff\"}]}\n\ndata: [DONE]\n\n"[..],
    ]));
    let (_, err) = drain(&m, &completion("x")).await.unwrap();
    assert!(
        matches!(&err, Some(Error::Protocol { message, .. }) if message.contains("UTF-8")),
        "{err:?}"
    );

    fake.script(Reply::raw(
        200,
        "application/json",
        vec![Bytes::from_static(b"{\"choices\":[]}")],
    ));
    let err = drain(&m, &completion("x")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { message, .. } if message.contains("got 'application/json'")),
        "{err:?}"
    );

    fake.script(Reply::raw(
        200,
        "application/json",
        vec![Bytes::from_static(b"{\"choices\": [")],
    ));
    let err = m.generate(&completion("x")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { message, .. } if message.contains("bad JSON")),
        "{err:?}"
    );
}

#[tokio::test]
async fn comments_crlf_and_utf8_split_across_writes_decode_cleanly() {
    let fake = FakeOpenAi::start().await;
    let m = model(&fake, None);
    fake.script(
        Reply::stream("grüße, 世界")
            .chunks(4)
            .keep_alive_comments()
            .crlf(),
    );
    let (events, err) = drain(&m, &chat("x")).await.unwrap();
    assert_eq!((text(&events).as_str(), err), ("grüße, 世界", None));

    let event = "data: {\"choices\":[{\"index\":0,\"text\":\"日本\"}]}\n\ndata: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n".as_bytes();
    let split = event.iter().position(|b| *b == 0xE6).unwrap() + 1; // inside 日
    fake.script(
        Reply::raw_sse([event[..split].to_vec(), event[split..].to_vec()])
            .chunk_delay(Duration::from_millis(30)),
    );
    let (events, err) = drain(&m, &completion("x")).await.unwrap();
    assert_eq!((text(&events).as_str(), err), ("日本", None));
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/v1");
    let m = OpenAiCompatibleModel::new(
        &http(),
        &endpoint("m", &url, None),
        &OpenAiSettings::default(),
    )
    .unwrap();
    let err = m.generate(&chat("x")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Connect { upstream, .. } if *upstream == format!("vLLM at {url}")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn probe_lists_models_and_needs_ours() {
    let fake = FakeOpenAi::start().await;
    fake.set_models(["codestral-22b", "other"]);
    let m = model(&fake, Some("k"));
    m.probe().await.unwrap();
    let req = fake.last_request().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(req.header("authorization"), Some("Bearer k"));

    fake.set_models(["other"]);
    let err = m.probe().await.unwrap_err();
    assert!(
        matches!(&err, Error::UpstreamStatus { status: 404, message, .. } if message.contains("served: other")),
        "{err:?}"
    );
    fake.script(Reply::status(503));
    assert_eq!(m.probe().await.unwrap_err().upstream_status(), Some(503));
}

#[tokio::test]
async fn credentials_in_the_url_never_reach_messages_and_bad_urls_are_refused() {
    let fake = FakeOpenAi::start().await;
    let url = format!("http://user:pa55word@{}/v1", fake.addr());
    let m = OpenAiCompatibleModel::new(
        &http(),
        &endpoint("m", &url, None),
        &OpenAiSettings::default(),
    )
    .unwrap();
    assert_eq!(m.upstream(), format!("vLLM at http://{}/v1", fake.addr()));
    for bad in ["not a url", "ftp://h/v1"] {
        let err = OpenAiCompatibleModel::new(
            &http(),
            &endpoint("m", bad, None),
            &OpenAiSettings::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{bad}: {err:?}");
    }
    let no_url = duo_core::ModelEndpoint::new(
        duo_core::ModelIdentifier::parse("m").unwrap(),
        duo_core::ModelFamily::parse("mistral"),
    );
    let err = OpenAiCompatibleModel::new(&http(), &no_url, &OpenAiSettings::default()).unwrap_err();
    assert!(err.to_string().contains("needs an endpoint URL"), "{err}");
}

#[tokio::test]
async fn a_trailing_assistant_turn_is_continued_on_vllm_but_not_on_openai() {
    let fake = FakeOpenAi::start().await;
    let prefill = ModelRequest::new(Prompt::Chat(vec![
        duo_core::Message::user("Say hi"),
        duo_core::Message::assistant("Thought: I will"),
    ]));
    model(&fake, None).generate(&prefill).await.unwrap();
    let req = fake.last_request().unwrap();
    assert_eq!(req.body["continue_final_message"], json!(true));
    assert_eq!(req.body["add_generation_prompt"], json!(false));

    let plain = ModelRequest::new(Prompt::Chat(vec![duo_core::Message::user("Say hi")]));
    model(&fake, None).generate(&plain).await.unwrap();
    let req = fake.last_request().unwrap();
    assert!(req.body.get("continue_final_message").is_none());
}
