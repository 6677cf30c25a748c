//! The HTTP answers of [`FakeBedrock`](super::FakeBedrock): Converse JSON, ConverseStream
//! event-stream bodies (with their scripted faults), and errors as Bedrock sends them.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde_json::json;

use super::auth::API_KEY_REJECTED;
use super::errors::ErrorReply;
use super::frames;
use super::script::{Answer, Cut};

pub(super) fn request_id() -> (header::HeaderName, HeaderValue) {
    (
        header::HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_static("00000000-0000-4000-8000-000000000000"),
    )
}

pub(super) fn error_response(error: &ErrorReply) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let error_type = format!(
        "{}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        error.error_type
    );
    let mut response = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            request_id(),
        ],
        json!({ "message": error.message }).to_string(),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&error_type) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    if let Some(seconds) = error.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

pub(super) fn converse_response(answer: &Answer) -> Response {
    let mut content = Vec::with_capacity(answer.tool_uses.len() + 1);
    if answer.has_text_block() {
        content.push(json!({ "text": answer.joined() }));
    }
    content.extend(answer.tool_uses.iter().map(|tool| {
        json!({ "toolUse": { "toolUseId": tool.tool_use_id, "name": tool.name, "input": tool.input } })
    }));
    let mut body = json!({
        "output": { "message": { "role": "assistant", "content": content } },
        "stopReason": answer.stop_reason,
        "usage": {
            "inputTokens": answer.input_tokens,
            "outputTokens": answer.output_tokens,
            "totalTokens": answer.input_tokens.saturating_add(answer.output_tokens),
        },
        "metrics": { "latencyMs": 42 },
    });
    if let Some(guardrail) = &answer.guardrail_trace {
        body["trace"] = json!({ "guardrail": guardrail });
    }
    let body = body.to_string();
    let body = match answer.cut {
        // a truncated JSON document with a matching Content-Length: well-formed HTTP, bad JSON
        Some(_) => body[..body.len() / 2].to_owned(),
        None => body,
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            request_id(),
        ],
        body,
    )
        .into_response()
}

/// One step of a streamed body.
enum Step {
    Send(Bytes),
    Abort,
}

fn stream_steps(answer: &Answer) -> Result<Vec<Step>, frames::EncodeError> {
    let mut frames = frames::answer_frames(answer)?;
    if let Some(index) = answer.corrupt_frame
        && let Some(frame) = frames.get_mut(index)
    {
        *frame = frames::corrupt_crc(frame);
    }
    if let Some((after, exception)) = &answer.exception {
        frames.truncate(*after);
        frames.push(frames::exception_frame(exception)?);
    }
    let mut steps: Vec<Step> = Vec::with_capacity(frames.len() + 1);
    match answer.cut {
        None => steps.extend(frames.into_iter().map(Step::Send)),
        Some(Cut::AfterFrames(k)) => steps.extend(frames.into_iter().take(k).map(Step::Send)),
        Some(Cut::MidFrame(k)) => {
            let half = frames.get(k).map(|f| f.slice(..f.len() / 2));
            steps.extend(frames.into_iter().take(k).map(Step::Send));
            steps.extend(half.map(Step::Send));
        }
        Some(Cut::Abort(k)) => {
            steps.extend(frames.into_iter().take(k).map(Step::Send));
            steps.push(Step::Abort);
        }
    }
    Ok(steps)
}

pub(super) fn stream_response(answer: &Answer) -> Response {
    let steps = match stream_steps(answer) {
        Ok(steps) => steps,
        Err(e) => {
            return error_response(&ErrorReply::new(
                500,
                "InternalServerException",
                e.to_string(),
            ));
        }
    };
    let delay = answer.frame_delay;
    let body = stream::unfold(steps.into_iter(), move |mut steps| async move {
        let step = steps.next()?;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let item = match step {
            Step::Send(bytes) => Ok(bytes),
            Step::Abort => {
                // return Pending once so hyper flushes the frames already sent, then fail
                tokio::task::yield_now().await;
                Err(std::io::Error::other("FakeBedrock aborted the stream"))
            }
        };
        Some((item, steps))
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.amazon.eventstream"),
            ),
            request_id(),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// 403 to a request without the API key [`FakeBedrock::require_bearer`](super::FakeBedrock::require_bearer)
/// asked for: `{"Message":"Authentication failed: Please make sure your API Key is valid."}`,
/// without an `x-amzn-ErrorType` header.
pub(super) fn api_key_rejected() -> Response {
    (
        StatusCode::FORBIDDEN,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            request_id(),
        ],
        json!({ "Message": API_KEY_REJECTED }).to_string(),
    )
        .into_response()
}
