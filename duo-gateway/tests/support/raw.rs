//! A raw HTTP/1.1 client over `TcpStream`, for tests that trickle, flood or write before reading.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A parsed answer.
#[derive(Debug)]
pub struct RawResponse {
    /// E.g. `HTTP/1.1 413 Payload Too Large`.
    pub status_line: String,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (by `Content-Length`).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Connects to `base` (`http://host:port`).
pub async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads one response (headers and a `Content-Length` body) within `within`.
pub async fn read_response(stream: &mut TcpStream, within: Duration) -> RawResponse {
    tokio::time::timeout(within, async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(
                n > 0,
                "closed before a response: {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < len {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed mid-body");
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
        RawResponse {
            status_line,
            headers,
            body,
        }
    })
    .await
    .expect("a response in time")
}

/// Waits until the server closes `stream` (EOF or reset), up to `within`; how long it took.
/// Bytes the server sends meanwhile are discarded.
pub async fn time_until_closed(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    tokio::time::timeout(within, async {
        let mut chunk = [0u8; 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closed the connection in time");
    started.elapsed()
}

/// Sends `request` (a whole request, head and body) and reads the answer.
pub async fn exchange(base: &str, request: &[u8]) -> RawResponse {
    let mut stream = connect(base).await;
    stream.write_all(request).await.unwrap();
    read_response(&mut stream, Duration::from_secs(10)).await
}
