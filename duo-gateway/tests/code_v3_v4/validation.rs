//! Invalid v3/v4 bodies: 422 with the field named, and no model call.

use crate::helpers::*;

fn edit(base: &Value, f: impl FnOnce(&mut Value)) -> Value {
    let mut b = base.clone();
    f(&mut b);
    b
}

fn payload(b: &mut Value) -> &mut Value {
    &mut b["prompt_components"][0]["payload"]
}

fn context_item(content: &str) -> Value {
    json!({"type": "code_context", "payload": {"type": "file", "name": "a.go", "content": content}})
}

#[tokio::test]
async fn invalid_bodies_get_422_naming_the_field() {
    let fake = FakeOpenAi::start().await;
    let gw = start(config()).await;
    let base = completion("codestral", Some(&fake.url()), "custom_openai/c");

    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "missing field `prompt_components`"),
        (
            edit(&base, |b| b["prompt_components"] = json!([])),
            "prompt_components: must have 1 to 100 items, not 0",
        ),
        (
            edit(&base, |b| {
                let first = b["prompt_components"][0].clone();
                let mut all = vec![first];
                all.extend(std::iter::repeat_n(context_item("x"), 100));
                b["prompt_components"] = Value::Array(all);
            }),
            "prompt_components: must have 1 to 100 items, not 101",
        ),
        (
            edit(&base, |b| {
                b["prompt_components"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "x_ray_package_file_prompt", "payload": {}}));
            }),
            "prompt_components[1].type: unknown component type 'x_ray_package_file_prompt'",
        ),
        (
            edit(&base, |b| b["prompt_components"][0]["type"] = json!(7)),
            "prompt_components[0].type: must be a string",
        ),
        (
            edit(&base, |b| {
                b["prompt_components"] = json!([context_item("x")]);
            }),
            "prompt_components[0].type: the first component must be code_editor_completion",
        ),
        (
            edit(&base, |b| *payload(b) = json!({"file_name": "a.go"})),
            "prompt_components[0].payload: missing field `content_above_cursor`",
        ),
        (
            edit(&base, |b| payload(b)["file_name"] = json!("a".repeat(256))),
            "prompt_components[0].payload.file_name: must have at most 255 characters",
        ),
        (
            edit(&base, |b| {
                payload(b)["content_below_cursor"] = json!("x".repeat(100_001));
            }),
            "prompt_components[0].payload.content_below_cursor: must have at most 100000 characters",
        ),
        (
            edit(&base, |b| {
                b["prompt_components"]
                    .as_array_mut()
                    .unwrap()
                    .push(context_item(&"y".repeat(100_001)));
            }),
            "prompt_components[1].payload.content: must have at most 100000 characters",
        ),
        (
            edit(&base, |b| {
                b["prompt_components"][0]["metadata"] =
                    json!({"source": "s".repeat(256), "version": "1"});
            }),
            "prompt_components[0].metadata.source: must have at most 255 characters",
        ),
        (
            edit(&base, |b| payload(b)["stream"] = json!("yes")),
            "prompt_components[0].payload: invalid type: string \"yes\", expected a boolean",
        ),
        (
            edit(&base, |b| payload(b)["prompt"] = json!(5)),
            "prompt_components[0].payload.prompt: must be a string or a list of messages",
        ),
        (
            edit(&base, |b| payload(b)["model_provider"] = json!("anthropic")),
            "prompt_components[0].payload.model_provider: 'anthropic' is a GitLab-managed provider",
        ),
        (
            edit(&base, |b| {
                b.as_object_mut().unwrap().remove("model_metadata").unwrap();
            }),
            "model_metadata is required",
        ),
        (
            edit(&base, |b| {
                b["model_metadata"]["identifier"] = json!("i".repeat(1001));
            }),
            "model_metadata.identifier: must have at most 1000 characters",
        ),
        (
            edit(&base, |b| b["model_metadata"]["provider"] = json!("gitlab")),
            "model_metadata.provider: 'gitlab' models are GitLab-managed",
        ),
        (
            edit(&base, |b| b["model_metadata"]["name"] = json!("")),
            "model name (the model family, e.g. codestral) is required",
        ),
        (
            edit(&base, |b| {
                b["model_metadata"]["endpoint"] = json!("http://169.254.169.254/latest");
            }),
            "is a cloud metadata address (169.254.169.254)",
        ),
    ];
    for path in ["/v3/code/completions", "/v4/code/suggestions"] {
        for (body, needle) in &cases {
            let (status, json) = post_json(&gw.url(path), body).await;
            assert_eq!(status, 422, "{path} {needle}: {json}");
            let detail = json["detail"].as_str().unwrap();
            assert!(
                detail.contains(needle),
                "{path}: {needle:?} not in {detail:?}"
            );
        }
    }
    // A generation prompt must be a string of at most 400 000 characters.
    let generation = streaming(
        generation("mistral", Some(&fake.url()), "custom_openai/m"),
        false,
    );
    for (prompt, needle) in [
        (
            json!(["a"]),
            "prompt_components[0].payload.prompt: must be a string",
        ),
        (
            json!("p".repeat(400_001)),
            "prompt_components[0].payload.prompt: must have at most 400000 characters",
        ),
    ] {
        let body = edit(&generation, |b| payload(b)["prompt"] = prompt);
        let (status, json) = post_json(&gw.url("/v4/code/suggestions"), &body).await;
        assert_eq!(status, 422, "{json}");
        assert!(json["detail"].as_str().unwrap().contains(needle), "{json}");
    }
    assert_eq!(
        fake.request_count(),
        0,
        "no invalid request reaches the model"
    );
}

#[tokio::test]
async fn later_editor_components_and_unused_payload_fields_are_accepted_and_ignored() {
    let fake = FakeOpenAi::start().await;
    fake.script(Reply::answer("ok()"));
    let gw = start(config()).await;
    let mut body = completion("codestral", Some(&fake.url()), "custom_openai/c");
    body["prompt_components"][0]["payload"]["choices_count"] = json!(3);
    body["prompt_components"][0]["payload"]["role_arn"] = json!("arn:aws:iam::1:role/x");
    body["prompt_components"][0]["payload"]["prompt"] = json!([{"role": "user", "content": "x"}]);
    body["prompt_components"][0]["metadata"] = json!({"source": "GitLab EE", "version": "18.2"});
    let second = json!({"type": "code_editor_generation",
        "payload": {"file_name": "other.rs", "content_above_cursor": "// ignored", "content_below_cursor": ""}});
    body["prompt_components"]
        .as_array_mut()
        .unwrap()
        .push(second);
    let (status, json) = post_json(&gw.url("/v3/code/completions"), &body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["choices"][0]["text"], "ok()");
    let req = fake.last_request().unwrap();
    assert_eq!(
        req.path, "/v1/completions",
        "the first component decides: completion"
    );
    assert!(!upstream_text(&req).contains("ignored"));
}
