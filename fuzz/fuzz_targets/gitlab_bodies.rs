//! Every route that takes a body, run through its own handler on arbitrary bytes: the GitLab
//! routes (`/v2/code/completions`, `/v2/code/generations`, `/v3/code/completions`,
//! `/v4/code/suggestions`, `/v1/prompts/{id}`, `/v2/prompts/{id}`, `/v2/chat/agent`,
//! `/v1/chat/{name}`) and the OpenAI-compatible ones (`/v1/chat/completions`, `/v1/completions`).
//!
//! `duo_gateway::fuzzing::call` runs the handler as the router does after authentication (every
//! scope); the model registry builds and checks each client, then answers with a stand-in, so a
//! body goes through parsing, validation, model selection, prompt resolution and rendering, and
//! the answer's shaping (JSON, raw text, SSE, NDJSON) without a model server.
//!
//! Input: one selector byte (route; for the prompt routes the next byte picks the prompt id),
//! then the JSON body. Checks: no panic, and no body makes a 5xx: whatever a client sends is
//! either served or refused with a 4xx (the stand-in model never fails).
#![no_main]

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue};
use duo_gateway::fuzzing::{self, Route};
use duo_gateway::AppState;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

struct World {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    prompt_ids: Vec<String>,
    invokables: Vec<String>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = common::runtime();
        let state = runtime.block_on(async { fuzzing::state() });
        let prompt_ids = fuzzing::prompt_ids(&state);
        World {
            runtime,
            state,
            prompt_ids,
            invokables: fuzzing::chat_invokables(),
        }
    })
}

fn route(selector: u8, pick: u8, world: &World) -> Route {
    let prompt_id = || world.prompt_ids[usize::from(pick) % world.prompt_ids.len()].clone();
    match selector % 10 {
        0 => Route::V2Completions,
        1 => Route::V2Generations,
        2 => Route::V3Completions,
        3 => Route::V4Suggestions,
        4 => Route::PromptsV1(prompt_id()),
        5 => Route::PromptsV2(prompt_id()),
        6 => Route::ChatAgent,
        7 => Route::ChatV1(world.invokables[usize::from(pick) % world.invokables.len()].clone()),
        8 => Route::OpenAiChat,
        _ => Route::OpenAiCompletions,
    }
}

fuzz_target!(|data: &[u8]| {
    let [selector, pick, body @ ..] = data else {
        return;
    };
    let world = world();
    let route = route(*selector, *pick, world);
    let mut headers = HeaderMap::new();
    // Language-server clients that may send advanced context (v3/v4 keep their context items).
    headers.insert(
        "x-gitlab-language-server-version",
        HeaderValue::from_static("7.17.1"),
    );
    let body = Bytes::copy_from_slice(body);
    world.runtime.block_on(async {
        let response = fuzzing::call(&world.state, &route, headers, body).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert!(
            !status.is_server_error(),
            "{route:?} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    });
});
