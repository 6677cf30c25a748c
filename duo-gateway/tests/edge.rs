//! Black-box tests of the client-facing edge over real loopback TCP: header, body and
//! keep-alive timeouts, the connection cap, the 413 a client that writes first still sees, and
//! JSON for every error.
//!
//! Timeouts are short here and assertions loose: CI machines are slow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::raw::{connect, exchange, read_response, time_until_closed};
use support::{client, completion_body, config, start};
use tokio::io::AsyncWriteExt;

const HEALTHZ: &[u8] = b"GET /monitoring/healthz HTTP/1.1\r\nHost: gw\r\n\r\n";

fn edge_config() -> duo_gateway::Config {
    let mut c = config();
    c.fastapi.header_read_timeout_s = 0.5;
    c.fastapi.body_read_timeout_s = 0.5;
    c.fastapi.keep_alive_timeout_s = 1.5;
    c
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected_after_the_header_timeout() {
    let gw = start(edge_config()).await;
    let mut stream = connect(&gw.base).await;
    let (mut reader, mut writer) = stream.split();
    let trickle = async {
        for byte in b"GET /monitoring/healthz HTTP/1.1\r\nHost: gw\r\nX-Slow: aaaaaaaaaaaa" {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    let closed = async {
        use tokio::io::AsyncReadExt;
        let started = std::time::Instant::now();
        let mut buf = [0u8; 256];
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => started.elapsed(),
            Ok(n) => panic!("answered a request never sent: {:?}", &buf[..n]),
        }
    };
    let waited = tokio::select! {
        waited = closed => waited,
        () = trickle => panic!("the server kept a trickling client for the whole header"),
    };
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_gets_the_header_timeout_not_the_idle_one() {
    let mut cfg = edge_config();
    cfg.fastapi.keep_alive_timeout_s = 30.0;
    let gw = start(cfg).await;
    let mut stream = connect(&gw.base).await;
    let waited = time_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let gw = start(edge_config()).await;
    let mut stream = connect(&gw.base).await;
    for _ in 0..2 {
        stream.write_all(HEALTHZ).await.unwrap();
        let res = read_response(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(res.status(), 200, "kept alive between requests");
    }
    let waited = time_until_closed(&mut stream, Duration::from_secs(15)).await;
    // longer than the 0.5 s header timeout: idle time between requests is not header time
    assert!(
        waited >= Duration::from_millis(1200) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_trickled_body_is_a_408_with_a_json_detail() {
    let gw = start(edge_config()).await;
    let mut stream = connect(&gw.base).await;
    stream
        .write_all(
            b"POST /v2/code/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"current_file\": ",
        )
        .await
        .unwrap();
    let res = read_response(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(res.status(), 408, "{res:?}");
    assert_eq!(
        res.json(),
        json!({"detail": "Request body was not received in time (fastapi.body_read_timeout_s)"})
    );
    assert_eq!(res.header("connection"), Some("close"));
    time_until_closed(&mut stream, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_client_that_writes_a_20_mb_body_before_reading_sees_the_413() {
    let gw = start(config()).await;
    let mut stream = connect(&gw.base).await;
    let len = 20 * 1024 * 1024;
    let head = format!(
        "POST /v2/code/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
         Content-Length: {len}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let body = vec![b' '; len];
    tokio::time::timeout(Duration::from_secs(30), stream.write_all(&body))
        .await
        .expect("the server reads the body")
        .expect("no broken pipe");
    let res = read_response(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(res.status_line, "HTTP/1.1 413 Payload Too Large");
    assert_eq!(
        res.json(),
        json!({"detail": "Request body is larger than the gateway accepts (fastapi.body_limit_bytes)"})
    );
}

#[tokio::test]
async fn early_answers_to_unread_bodies_reach_clients_that_write_first() {
    let gw = start(config()).await;
    let body = vec![b'x'; 16 * 1024 * 1024];
    let mut request = format!(
        "POST /v9/nothing HTTP/1.1\r\nHost: gw\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let res = exchange(&gw.base, &request).await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.json(), json!({"detail": "Not Found"}));
}

#[tokio::test]
async fn above_the_connection_cap_clients_wait_until_a_connection_closes() {
    let mut cfg = config();
    cfg.fastapi.max_connections = Some(4);
    cfg.fastapi.header_read_timeout_s = 30.0;
    let gw = start(cfg).await;
    let mut flood = Vec::new();
    for _ in 0..20 {
        flood.push(connect(&gw.base).await);
    }
    let waiting = client()
        .get(gw.url("/monitoring/healthz"))
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(waiting.is_err(), "served above the cap: {waiting:?}");
    drop(flood);
    for _ in 0..3 {
        let res = client()
            .get(gw.url("/monitoring/healthz"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

#[tokio::test]
async fn the_header_timeout_frees_slots_held_by_silent_connections() {
    let mut cfg = edge_config();
    cfg.fastapi.max_connections = Some(2);
    let gw = start(cfg).await;
    let mut silent = Vec::new();
    for _ in 0..6 {
        silent.push(connect(&gw.base).await);
    }
    let res = client()
        .get(gw.url("/monitoring/healthz"))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn method_not_allowed_is_json_and_keeps_allow() {
    let gw = start(config()).await;
    let res = client()
        .get(gw.url("/v2/code/completions"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(
        res.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Method Not Allowed"})
    );
}

#[tokio::test]
async fn path_parameters_that_are_not_utf8_are_json_errors() {
    let gw = start(config()).await;
    for path in ["/v1/prompts/%FF", "/v2/prompts/chat/%C3%28", "/v1/chat/%FF"] {
        let res = client()
            .post(gw.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        let body: Value = res.json().await.unwrap();
        let detail = body["detail"].as_str().unwrap_or_else(|| panic!("{body}"));
        assert!(detail.contains("UTF-8"), "{path}: {detail}");
    }
}

#[tokio::test]
async fn body_rejections_are_json_whatever_the_content_type() {
    let gw = start(config()).await;
    let url = gw.url("/v2/code/completions");
    let body = completion_body("codestral", "http://127.0.0.1:9/v1", "custom_openai/c");
    for (content_type, payload) in [
        ("text/plain", "{not json".to_owned()),
        ("application/json", "{not json".to_owned()),
        ("application/x-www-form-urlencoded", "a=b".to_owned()),
        ("application/json", String::new()),
    ] {
        let res = client()
            .post(&url)
            .header("content-type", content_type)
            .body(payload.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{content_type} {payload}");
        let json: Value = res.json().await.unwrap();
        assert!(json["detail"].is_string(), "{json}");
    }
    // the content type is not checked: a JSON body sent as text/plain is served
    let res = client()
        .post(&url)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        503,
        "read as JSON, then the model is unreachable"
    );
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Inference failed"})
    );
}
