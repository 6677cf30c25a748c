//! Renders a [`Reply`] as the bytes vLLM/OpenAI or Azure OpenAI would send.

use bytes::Bytes;
use serde_json::{Value, json};

use super::reply::{Answer, Reply, ReplyKind, StreamFault, ToolCall, split_chunks};

/// Azure's body for a prompt its content filter refused (our own wording, Azure's shape).
pub(crate) const CONTENT_FILTER_BODY: &str = r#"{"error":{"message":"The prompt was filtered by the content management policy of this deployment. Change the prompt and retry.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}}}"#;

const CREATED: u64 = 1_732_450_000;

/// Which server the fake plays on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// vLLM / OpenAI (`/v1/...`).
    OpenAi,
    /// Azure OpenAI (`/openai/deployments/{deployment}/...`).
    Azure,
}

/// Which API a request called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Completions,
    Chat,
    Models,
}

/// What the fake needs to know about the request to shape its answer.
#[derive(Debug, Clone)]
pub(crate) struct Ask<'a> {
    pub flavour: Flavour,
    pub api: Api,
    pub body: &'a Value,
    /// The model name to echo (the request's `model`, or the Azure deployment).
    pub model: String,
    pub models: &'a [String],
}

/// One write of the response body, or the order to drop the connection.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Bytes(Bytes),
    Cut,
}

/// A response ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub status: u16,
    pub content_type: String,
    pub pieces: Vec<Piece>,
}

pub(crate) fn render(reply: &Reply, ask: &Ask<'_>) -> Rendered {
    match &reply.kind {
        ReplyKind::Error { status, body } => {
            let body = body
                .clone()
                .unwrap_or_else(|| standard_error(ask.flavour, *status));
            Rendered {
                status: *status,
                content_type: "application/json".into(),
                pieces: vec![Piece::Bytes(Bytes::from(body))],
            }
        }
        ReplyKind::Raw {
            status,
            content_type,
            pieces,
        } => Rendered {
            status: *status,
            content_type: content_type.clone(),
            pieces: pieces.iter().cloned().map(Piece::Bytes).collect(),
        },
        ReplyKind::Answer(answer) => match ask.api {
            Api::Models => json_response(&models_list(ask.models)),
            _ if ask.body.get("stream").and_then(Value::as_bool) == Some(true) => Rendered {
                status: 200,
                content_type: "text/event-stream; charset=utf-8".into(),
                pieces: sse_pieces(answer, ask),
            },
            _ => json_response(&full_answer(answer, ask)),
        },
    }
}

/// The standard error body of `flavour` for `status`.
pub(crate) fn standard_error(flavour: Flavour, status: u16) -> String {
    let message = format!("the fake upstream was scripted to answer {status}");
    match flavour {
        Flavour::Azure => json!({"error": {"code": status.to_string(), "message": message}}),
        Flavour::OpenAi => {
            let kind = match status {
                400 => "BadRequestError",
                401 => "AuthenticationError",
                404 => "NotFoundError",
                429 => "RateLimitError",
                _ => "InternalServerError",
            };
            json!({"error": {"message": message, "type": kind, "param": null, "code": status}})
        }
    }
    .to_string()
}

fn json_response(value: &Value) -> Rendered {
    Rendered {
        status: 200,
        content_type: "application/json".into(),
        pieces: vec![Piece::Bytes(Bytes::from(value.to_string()))],
    }
}

fn models_list(models: &[String]) -> Value {
    let data: Vec<Value> = models
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": CREATED, "owned_by": "vllm", "root": id, "parent": null, "max_model_len": 32768}))
        .collect();
    json!({"object": "list", "data": data})
}

/// One content chunk of a streamed answer (what the stream faults count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content<'a> {
    /// A piece of the answer text.
    Text(&'a str),
    /// The opening chunk of call `index`: its id, type and name, `arguments` empty.
    CallStart(usize, &'a ToolCall),
    /// A piece of call `index`'s arguments.
    CallArguments(usize, &'a str),
}

/// The content chunks of `answer`, in stream order: the text's (none for a tool-call answer
/// without text on chat), then per tool call (chat only) its opening chunk and its arguments'
/// pieces.
fn contents<'a>(answer: &'a Answer, api: Api) -> Vec<Content<'a>> {
    let calls: &[ToolCall] = if api == Api::Chat {
        &answer.tool_calls
    } else {
        &[]
    };
    let mut out = Vec::new();
    if calls.is_empty() || !answer.text.is_empty() {
        out.extend(
            split_chunks(&answer.text, answer.chunks)
                .into_iter()
                .map(Content::Text),
        );
    }
    for (index, call) in calls.iter().enumerate() {
        out.push(Content::CallStart(index, call));
        if !call.arguments.is_empty() {
            out.extend(
                split_chunks(&call.arguments, answer.chunks)
                    .into_iter()
                    .map(|piece| Content::CallArguments(index, piece)),
            );
        }
    }
    out
}

/// A streamed `delta` of chat content.
fn chat_delta(content: Content<'_>) -> Value {
    match content {
        Content::Text(text) => json!({"content": text}),
        Content::CallStart(index, call) => json!({"tool_calls": [{
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }]}),
        Content::CallArguments(index, piece) => {
            json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        }
    }
}

fn usage(answer: &Answer, ask: &Ask<'_>, chunks: usize) -> Value {
    let (prompt, completion) = answer.usage.unwrap_or_else(|| {
        let words = prompt_words(ask.body);
        (words, u32::try_from(chunks).unwrap_or(u32::MAX))
    });
    json!({"prompt_tokens": prompt, "total_tokens": prompt + completion, "completion_tokens": completion})
}

/// Words in the request's prompt, suffix and messages: the fake's stand-in for a token count.
fn prompt_words(body: &Value) -> u32 {
    let mut words = 0usize;
    for key in ["prompt", "suffix"] {
        if let Some(s) = body.get(key).and_then(Value::as_str) {
            words += s.split_whitespace().count();
        }
    }
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        for m in messages {
            if let Some(s) = m.get("content").and_then(Value::as_str) {
                words += s.split_whitespace().count();
            }
        }
    }
    u32::try_from(words).unwrap_or(u32::MAX)
}

fn full_answer(answer: &Answer, ask: &Ask<'_>) -> Value {
    let chunks = contents(answer, ask.api).len();
    let usage = usage(answer, ask, chunks);
    let reason = answer.finish_reason();
    let choice = match ask.api {
        Api::Chat if !answer.tool_calls.is_empty() => {
            let content = if answer.text.is_empty() {
                Value::Null
            } else {
                json!(answer.text)
            };
            let calls: Vec<Value> = answer
                .tool_calls
                .iter()
                .map(|call| json!({"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}))
                .collect();
            json!({"index": 0, "message": {"role": "assistant", "content": content, "tool_calls": calls}, "logprobs": null, "finish_reason": reason})
        }
        Api::Chat => {
            json!({"index": 0, "message": {"role": "assistant", "content": answer.text}, "logprobs": null, "finish_reason": reason})
        }
        _ => json!({"index": 0, "text": answer.text, "logprobs": null, "finish_reason": reason}),
    };
    let object = if ask.api == Api::Chat {
        "chat.completion"
    } else {
        "text_completion"
    };
    let mut value = json!({"id": "cmpl-fake-1", "object": object, "created": CREATED, "model": ask.model, "choices": [choice], "usage": usage});
    if ask.flavour == Flavour::Azure {
        value["prompt_filter_results"] = prompt_filter_results();
        value["choices"][0]["content_filter_results"] = filter_results();
    }
    value
}

fn filter_results() -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    json!({"hate": safe, "self_harm": safe, "sexual": safe, "violence": safe})
}

fn prompt_filter_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": filter_results()}])
}

/// The SSE events of a streamed answer, grouped so that piece `i` carries content chunk `i`
/// (the preamble joins the first piece, the finish/usage/`[DONE]` trailer the last one): a
/// chunk delay then separates content, as a slow model would.
fn sse_pieces(answer: &Answer, ask: &Ask<'_>) -> Vec<Piece> {
    let nl = if answer.crlf { "\r\n" } else { "\n" };
    let event = |data: &str| -> String {
        let comment = if answer.keep_alive {
            format!(": keep-alive{nl}{nl}")
        } else {
            String::new()
        };
        format!("{comment}data: {data}{nl}{nl}")
    };
    let include_usage = ask
        .body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    let azure = ask.flavour == Flavour::Azure;
    let chat = ask.api == Api::Chat;
    let object = if chat {
        "chat.completion.chunk"
    } else {
        "text_completion"
    };
    let chunk = |content: Option<Content<'_>>, finish: Option<&str>| -> String {
        let mut choice = if chat {
            let delta = content.map_or_else(|| json!({}), chat_delta);
            json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish})
        } else {
            let text = match content {
                Some(Content::Text(text)) => text,
                _ => "",
            };
            json!({"index": 0, "text": text, "logprobs": null, "finish_reason": finish})
        };
        if azure {
            choice["content_filter_results"] = if matches!(content, Some(Content::Text(_))) {
                filter_results()
            } else {
                json!({})
            };
        }
        let mut value = json!({"id": "cmpl-fake-1", "object": object, "created": CREATED, "model": ask.model, "choices": [choice]});
        if include_usage && !azure {
            value["usage"] = Value::Null;
        }
        event(&value.to_string())
    };

    let contents = contents(answer, ask.api);
    let mut preamble = String::new();
    if azure {
        let first = json!({"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": prompt_filter_results()});
        preamble.push_str(&event(&first.to_string()));
    }
    if chat {
        let mut role = json!({"id": "cmpl-fake-1", "object": object, "created": CREATED, "model": ask.model, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]});
        if azure {
            role["choices"][0]["content_filter_results"] = json!({});
        } else if include_usage {
            role["usage"] = Value::Null;
        }
        preamble.push_str(&event(&role.to_string()));
    }

    let mut pieces = Vec::with_capacity(contents.len() + 1);
    let last = contents.len().saturating_sub(1);
    for (i, content) in contents.iter().enumerate() {
        match answer.fault {
            Some(StreamFault::Cut(k)) if i == k => {
                pieces.push(Piece::Cut);
                return pieces;
            }
            Some(StreamFault::End(k)) if i == k => return pieces,
            _ => {}
        }
        let mut piece = if i == 0 {
            std::mem::take(&mut preamble)
        } else {
            String::new()
        };
        if answer.fault == Some(StreamFault::BadJson(i)) {
            piece.push_str(&event(
                r#"{"id": "cmpl-fake-1", "choices": [{"index": 0, "text": "#,
            ));
        } else {
            piece.push_str(&chunk(Some(*content), None));
        }
        if i == last {
            match answer.fault {
                Some(StreamFault::Cut(_)) => {
                    pieces.push(Piece::Bytes(Bytes::from(piece)));
                    pieces.push(Piece::Cut);
                    return pieces;
                }
                Some(StreamFault::End(_)) => {
                    pieces.push(Piece::Bytes(Bytes::from(piece)));
                    return pieces;
                }
                _ => {}
            }
            piece.push_str(&chunk(None, Some(answer.finish_reason())));
            if include_usage {
                let mut value = json!({"id": "cmpl-fake-1", "object": object, "created": CREATED, "model": ask.model, "choices": [], "usage": usage(answer, ask, contents.len())});
                if azure {
                    value["system_fingerprint"] = json!("fp_fake");
                }
                piece.push_str(&event(&value.to_string()));
            }
            piece.push_str(&event("[DONE]"));
        }
        pieces.push(Piece::Bytes(Bytes::from(piece)));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: &Piece) -> String {
        match p {
            Piece::Bytes(b) => String::from_utf8(b.to_vec()).unwrap(),
            Piece::Cut => "<cut>".into(),
        }
    }

    fn ask(flavour: Flavour, api: Api, body: &Value) -> Ask<'_> {
        Ask {
            flavour,
            api,
            body,
            model: "m".into(),
            models: &[],
        }
    }

    #[test]
    fn vllm_completion_stream_has_chunks_finish_usage_and_done() {
        let body =
            json!({"stream": true, "stream_options": {"include_usage": true}, "prompt": "a b c"});
        let r = render(
            &Reply::answer("hello world").chunks(2),
            &ask(Flavour::OpenAi, Api::Completions, &body),
        );
        assert_eq!(r.pieces.len(), 2);
        let all: String = r.pieces.iter().map(text).collect();
        assert!(all.contains(r#""text":"hello""#), "{all}");
        assert!(all.contains(r#""finish_reason":"stop""#));
        assert!(all.contains(r#""prompt_tokens":3"#));
        assert!(all.ends_with("data: [DONE]\n\n"));
    }

    #[test]
    fn azure_chat_stream_starts_with_prompt_filter_results() {
        let body = json!({"stream": true});
        let r = render(
            &Reply::answer("hi").crlf(),
            &ask(Flavour::Azure, Api::Chat, &body),
        );
        let all = text(&r.pieces[0]);
        assert!(all.starts_with("data: {\"choices\":[]"), "{all}");
        assert!(all.contains("prompt_filter_results"));
        assert!(all.contains("\r\n\r\n"));
        assert!(!all.contains("\"usage\""));
    }

    #[test]
    fn faults_shape_the_stream() {
        let body = json!({"stream": true});
        let a = ask(Flavour::OpenAi, Api::Chat, &body);
        let cut = render(&Reply::answer("abcd").chunks(4).cut_after(2), &a);
        assert_eq!(cut.pieces.len(), 3);
        assert!(matches!(cut.pieces[2], Piece::Cut));
        let end = render(&Reply::answer("abcd").chunks(4).end_after(1), &a);
        assert_eq!(end.pieces.len(), 1);
        assert!(!text(&end.pieces[0]).contains("[DONE]"));
        let bad = render(&Reply::answer("abcd").chunks(2).bad_json_at(1), &a);
        assert!(text(&bad.pieces[1]).starts_with("data: {\"id\": \"cmpl-fake-1\", \"choices\""));
    }
}
