//! `duo-gateway healthcheck`: a container's HEALTHCHECK asks the running gateway's
//! `/monitoring/healthz` through it, with nothing but the binary in the image.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
#[path = "support/tls_client.rs"]
mod tls_client;

use std::process::{Command, Output};

use duo_testkit::tls::TestCa;
use support::{config, start};
use tls_client::{TlsFiles, tls_config};

fn healthcheck_with(host: &str, port: u16, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_duo-gateway"))
        .arg("healthcheck")
        .env_clear()
        .env("AIGW_FASTAPI__API_HOST", host)
        .env("AIGW_FASTAPI__API_PORT", port.to_string())
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn healthcheck(host: &str, port: u16) -> Output {
    healthcheck_with(host, port, &[])
}

#[tokio::test]
async fn a_serving_gateway_is_healthy_and_a_missing_one_is_not() {
    let gw = start(config()).await;
    let port: u16 = gw.base.rsplit(':').next().unwrap().parse().unwrap();
    // 0.0.0.0 (every address, the image's default) is probed on loopback
    for host in ["127.0.0.1", "0.0.0.0"] {
        let out = tokio::task::spawn_blocking(move || healthcheck(host, port))
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("http://127.0.0.1:{port}/monitoring/healthz: 200 OK\n")
        );
    }
    gw.shutdown().await.unwrap();
    let out = tokio::task::spawn_blocking(move || healthcheck("127.0.0.1", port))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "duo-gateway: healthcheck: http://127.0.0.1:{port}/monitoring/healthz: "
        )),
        "{stderr}"
    );
    let out = healthcheck("localhost", port);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "duo-gateway: healthcheck: fastapi.api_host 'localhost' is not an IP address\n"
    );
}

#[tokio::test]
async fn a_gateway_serving_tls_is_probed_over_tls() {
    let ca = TestCa::new();
    let files = TlsFiles::new(&ca.issue_server("duo.example.com"));
    let gw = start(tls_config(&files, 0.0)).await;
    let port: u16 = gw.base.rsplit(':').next().unwrap().parse().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        healthcheck_with("0.0.0.0", port, &[("AIGW_FASTAPI__TLS__ENABLED", "true")])
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("https://127.0.0.1:{port}/monitoring/healthz: 200 OK\n")
    );
    // plain HTTP to a TLS port is not healthy
    let out = tokio::task::spawn_blocking(move || healthcheck("127.0.0.1", port))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
