//! TLS on the gateway's API listener (`[fastapi.tls]`), over real loopback TLS: HTTPS served and
//! plain HTTP refused on the port, the certificate reloaded when its files are replaced (and kept
//! when the replacement is broken), unusable settings failing start and `check-config` naming the
//! setting and the file, and a client that never handshakes closed after the header timeout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
#[path = "support/tls_client.rs"]
mod tls_client;

use std::path::Path;
use std::time::{Duration, Instant};

use duo_gateway::{Config, Gateway};
use duo_testkit::tls::TestCa;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::raw::time_until_closed;
use support::{check_config, start};
use tls_client::{
    TlsFiles, addr, chain, connect, der_of, healthz, https, https_client, leaf, logged, served,
    tls_config,
};

#[tokio::test]
async fn https_is_served_and_plain_http_and_clients_not_trusting_the_ca_are_refused() {
    let capture = duo_logging::LogCapture::default();
    let subscriber =
        duo_logging::subscriber(&duo_logging::LoggingConfig::default(), capture.clone()).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    let ca = TestCa::new();
    let a = ca.issue_server("a");
    let files = TlsFiles::new(&a);
    let mut config = tls_config(&files, 0.0);
    config.fastapi.tls.ssl_ciphers = Some("TLSv1".into());
    let gw = start(config).await;
    let ignored = logged(
        &capture,
        "fastapi.tls.ssl_ciphers is ignored: rustls uses its own safe cipher suites (TLS 1.2 and 1.3)",
    );
    assert_eq!(ignored.len(), 1, "{ignored:#?}");
    assert_eq!(ignored[0]["ssl_ciphers"], "TLSv1");

    let res = https_client(&ca)
        .get(https(&gw.base, "/monitoring/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.version(), reqwest::Version::HTTP_11);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"status": "ok"})
    );
    let stream = connect(addr(&gw.base), &ca).await.unwrap();
    assert_eq!(leaf(&stream), der_of(&a.cert));
    assert_eq!(tls_client::alpn(&stream).as_deref(), Some(&b"http/1.1"[..]));

    // Plain HTTP to the same port: no HTTP answer, and the connection is closed.
    let plain = support::client()
        .get(gw.url("/monitoring/healthz"))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    let mut tcp = TcpStream::connect(addr(&gw.base)).await.unwrap();
    tcp.write_all(b"GET /monitoring/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer))
        .await
        .expect("closed in time")
        .ok();
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    // A client trusting another CA (or only the system's roots) fails the handshake. (Every
    // test CA has the same name, so the other one is found as the issuer and its key refuses
    // the signature.)
    let other = TestCa::new();
    let err = connect(addr(&gw.base), &other).await.unwrap_err();
    assert!(
        matches!(
            err.get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>()),
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::BadSignature
            ))
        ),
        "{err}"
    );
    let err = reqwest::Client::new()
        .get(https(&gw.base, "/monitoring/healthz"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(chain(&err).contains("UnknownIssuer"), "{}", chain(&err));

    // None of that hurt the listener.
    assert_eq!(healthz(&gw, &ca).await, 200);
}

const NOT_RELOADED: &str = "the TLS certificate was not reloaded: still serving the previous one";

#[tokio::test]
async fn a_replaced_pair_is_served_to_new_connections_and_a_broken_replacement_is_not() {
    let capture = duo_logging::LogCapture::default();
    let subscriber =
        duo_logging::subscriber(&duo_logging::LoggingConfig::default(), capture.clone()).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    let ca = TestCa::new();
    let a = ca.issue_server("a");
    let b = ca.issue_server("b");
    let files = TlsFiles::new(&a);
    let gw = start(tls_config(&files, 0.2)).await;
    let mut open = connect(addr(&gw.base), &ca).await.unwrap();
    assert_eq!(leaf(&open), der_of(&a.cert));
    assert_eq!(
        tls_client::get_status_line(&mut open, "/monitoring/healthz").await,
        "HTTP/1.1 200 OK"
    );

    // Broken replacements, one file at a time (each renamed over the old one): each is seen,
    // refused with one warning naming the file and why, and A stays.
    let (cert, key) = (shown(&files.cert), shown(&files.key));
    let garbage = "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n";
    let half_b = &b.cert[..b.cert.len() / 2];
    let mismatch =
        format!("the private key does not match the certificate of fastapi.tls.cert_file '{cert}'");
    let truncated = "a PEM section has no END line (a truncated or half-written file?)";
    let steps: [(&Path, &str, &str, &str); 4] = [
        (&files.cert, &b.cert, &key, &mismatch),
        (
            &files.key,
            garbage,
            &key,
            "a PEM section is not valid base64",
        ),
        (&files.cert, half_b, &cert, truncated),
        (&files.key, &b.key, &cert, truncated),
    ];
    for (i, (path, contents, file, reason)) in steps.into_iter().enumerate() {
        tls_client::replace_file(path, contents);
        let replaced = Instant::now();
        while logged(&capture, NOT_RELOADED).len() <= i {
            assert!(
                replaced.elapsed() < Duration::from_secs(5),
                "step {i}: no warning"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // A few more intervals: the broken pair is not tried again, A is still served.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(served(&gw, &ca).await, der_of(&a.cert), "step {i}");
        assert_eq!(healthz(&gw, &ca).await, 200);
        let warnings = logged(&capture, NOT_RELOADED);
        assert_eq!(warnings.len(), i + 1, "step {i}: {warnings:#?}");
        let last = &warnings[i];
        assert_eq!(last["file"], file, "step {i}");
        assert_eq!(last["reason"], reason, "step {i}");
    }
    assert!(logged(&capture, "reloaded the TLS certificate").is_empty());

    // The certificate completed: the pair B loads and new connections get it.
    tls_client::replace_file(&files.cert, &b.cert);
    let replaced = Instant::now();
    while served(&gw, &ca).await != der_of(&b.cert) {
        assert!(
            replaced.elapsed() < Duration::from_secs(5),
            "certificate B not served after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(healthz(&gw, &ca).await, 200);
    let reloaded = logged(&capture, "reloaded the TLS certificate");
    assert_eq!(reloaded.len(), 1, "{reloaded:#?}");
    assert_eq!(reloaded[0]["cert_file"], cert.as_str());
    assert_eq!(reloaded[0]["key_file"], key.as_str());
    // The connection opened on A is unaffected: still A, still served.
    assert_eq!(leaf(&open), der_of(&a.cert));
    assert_eq!(
        tls_client::get_status_line(&mut open, "/monitoring/healthz").await,
        "HTTP/1.1 200 OK"
    );
    // No key material in any log line.
    let text = capture.text();
    for line in a
        .key
        .lines()
        .chain(b.key.lines())
        .filter(|l| !l.starts_with("-----"))
    {
        assert!(!text.contains(line), "key material logged");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_kubernetes_secret_volume_swap_is_picked_up() {
    // A secret volume: tls.crt -> ..data/tls.crt, ..data -> ..v1; an update writes ..v2 and
    // renames a new ..data symlink over the old one.
    use std::os::unix::fs::symlink;
    let ca = TestCa::new();
    let a = ca.issue_server("a");
    let b = ca.issue_server("b");
    let dir = tempfile::tempdir().unwrap();
    let version = |name: &str, pair: &duo_testkit::tls::ServerPem| {
        let v = dir.path().join(name);
        std::fs::create_dir(&v).unwrap();
        std::fs::write(v.join("tls.crt"), &pair.cert).unwrap();
        std::fs::write(v.join("tls.key"), &pair.key).unwrap();
    };
    version("..v1", &a);
    symlink("..v1", dir.path().join("..data")).unwrap();
    symlink("..data/tls.crt", dir.path().join("tls.crt")).unwrap();
    symlink("..data/tls.key", dir.path().join("tls.key")).unwrap();
    let mut c = support::config();
    c.fastapi.tls.enabled = true;
    c.fastapi.tls.cert_file = Some(dir.path().join("tls.crt"));
    c.fastapi.tls.key_file = Some(dir.path().join("tls.key"));
    c.fastapi.tls.reload_interval_s = 0.2;
    let gw = start(c).await;
    assert_eq!(served(&gw, &ca).await, der_of(&a.cert));

    version("..v2", &b);
    symlink("..v2", dir.path().join("..data_tmp")).unwrap();
    std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).unwrap();
    let swapped = Instant::now();
    while served(&gw, &ca).await != der_of(&b.cert) {
        assert!(swapped.elapsed() < Duration::from_secs(5), "B not served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn with_reload_off_a_replaced_pair_is_not_picked_up() {
    let ca = TestCa::new();
    let a = ca.issue_server("a");
    let b = ca.issue_server("b");
    let files = TlsFiles::new(&a);
    let gw = start(tls_config(&files, 0.0)).await;
    files.replace(&b.cert, &b.key);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(served(&gw, &ca).await, der_of(&a.cert));
}

/// `Gateway::bind`'s error for `config`.
async fn start_error(config: Config) -> String {
    match Gateway::bind(config).await {
        Ok(_) => panic!("the gateway started"),
        Err(e) => e.to_string(),
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[tokio::test]
async fn unusable_tls_settings_fail_start_naming_the_setting_and_the_file() {
    let ca = TestCa::new();
    let a = ca.issue_server("a");
    let b = ca.issue_server("b");
    let files = TlsFiles::new(&a);
    let dir = files.dir.path();
    let write = |name: &str, contents: &str| {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    };
    let with = |cert: Option<&Path>, key: Option<&Path>| {
        let mut c = tls_config(&files, 10.0);
        c.fastapi.tls.cert_file = cert.map(Path::to_path_buf);
        c.fastapi.tls.key_file = key.map(Path::to_path_buf);
        c
    };
    let missing = dir.join("missing.pem");
    let key_b = write("b.key", &b.key);
    let cert_b = write("b.crt", &b.cert);
    let half = write("half.crt", &a.cert[..a.cert.len() / 2]);
    let (cert, key) = (files.cert.as_path(), files.key.as_path());
    for (config, says) in [
        (
            with(None, None),
            "invalid configuration: fastapi.tls.cert_file must be set when fastapi.tls.enabled is true (AIGW_FASTAPI__TLS__CERT_FILE)".to_owned(),
        ),
        (
            with(Some(cert), None),
            "invalid configuration: fastapi.tls.key_file must be set when fastapi.tls.enabled is true (AIGW_FASTAPI__TLS__KEY_FILE)".to_owned(),
        ),
        (
            with(Some(&missing), Some(key)),
            format!(
                "invalid configuration: fastapi.tls.cert_file '{}': cannot be read: No such file or directory (os error 2)",
                shown(&missing)
            ),
        ),
        (
            with(Some(cert), Some(&missing)),
            format!(
                "invalid configuration: fastapi.tls.key_file '{}': cannot be read: No such file or directory (os error 2)",
                shown(&missing)
            ),
        ),
        (
            with(Some(dir), Some(key)),
            format!(
                "invalid configuration: fastapi.tls.cert_file '{}': cannot be read: Is a directory (os error 21)",
                shown(dir)
            ),
        ),
        (
            with(Some(key), Some(key)),
            format!(
                "invalid configuration: fastapi.tls.cert_file '{}': holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                shown(key)
            ),
        ),
        (
            with(Some(cert), Some(cert)),
            format!(
                "invalid configuration: fastapi.tls.key_file '{}': holds no PEM private key (PKCS#8 PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
                shown(cert)
            ),
        ),
        (
            with(Some(&half), Some(key)),
            format!(
                "invalid configuration: fastapi.tls.cert_file '{}': a PEM section has no END line (a truncated or half-written file?)",
                shown(&half)
            ),
        ),
        (
            with(Some(cert), Some(&key_b)),
            format!(
                "invalid configuration: fastapi.tls.key_file '{}': the private key does not match the certificate of fastapi.tls.cert_file '{}'",
                shown(&key_b),
                shown(cert)
            ),
        ),
        (
            with(Some(&cert_b), Some(key)),
            format!(
                "invalid configuration: fastapi.tls.key_file '{}': the private key does not match the certificate of fastapi.tls.cert_file '{}'",
                shown(key),
                shown(&cert_b)
            ),
        ),
    ] {
        let err = start_error(config).await;
        assert_eq!(err, says);
        for secret_line in a.key.lines().chain(b.key.lines()).filter(|l| !l.starts_with("-----")) {
            assert!(!err.contains(secret_line), "{err}");
        }
    }
    let mut bad_interval = tls_config(&files, -1.0);
    bad_interval.fastapi.tls.enabled = false;
    assert_eq!(
        start_error(bad_interval).await,
        "invalid configuration: fastapi.tls.reload_interval_s must be a number of seconds from 0 (no reload) to 86400, not -1"
    );
}

#[test]
fn check_config_loads_the_pair_and_fails_on_a_bad_one_under_gitlabs_variables() {
    let ca = TestCa::new();
    let a = ca.issue_server("a");
    let b = ca.issue_server("b");
    let files = TlsFiles::new(&a);
    let key_b = files.dir.path().join("b.key");
    std::fs::write(&key_b, &b.key).unwrap();
    let cert = files.cert.to_str().unwrap();
    let key = files.key.to_str().unwrap();

    let out = check_config(&[
        ("AIGW_FASTAPI__TLS__ENABLED", "true"),
        ("AIGW_FASTAPI__TLS__CERT_FILE", cert),
        ("AIGW_FASTAPI__TLS__KEY_FILE", key),
        ("AIGW_FASTAPI__TLS__SSL_CIPHERS", "TLSv1"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("configuration is valid"), "{stdout}");
    for line in a.key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            !stdout.contains(line) && !stderr.contains(line),
            "key material printed"
        );
    }

    let out = check_config(&[
        ("AIGW_FASTAPI__TLS__ENABLED", "true"),
        ("AIGW_FASTAPI__TLS__CERT_FILE", cert),
        ("AIGW_FASTAPI__TLS__KEY_FILE", key_b.to_str().unwrap()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "duo-gateway: invalid configuration: fastapi.tls.key_file '{}': the private key does not match the certificate of fastapi.tls.cert_file '{cert}'",
            key_b.display()
        )
    );

    let out = check_config(&[("AIGW_FASTAPI__TLS__ENABLED", "true")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "duo-gateway: invalid configuration: fastapi.tls.cert_file must be set when fastapi.tls.enabled is true (AIGW_FASTAPI__TLS__CERT_FILE)"
    );
}

#[tokio::test]
async fn a_client_that_never_handshakes_is_closed_after_the_header_timeout_and_frees_its_slot() {
    let ca = TestCa::new();
    let files = TlsFiles::new(&ca.issue_server("a"));
    let mut c = tls_config(&files, 0.0);
    c.fastapi.header_read_timeout_s = 0.5;
    c.fastapi.max_connections = Some(1);
    let gw = start(c).await;

    // Opens TCP and sends nothing: it holds the only connection slot.
    let mut silent = TcpStream::connect(addr(&gw.base)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let (closed_after, (status, served_after)) = tokio::join!(
        time_until_closed(&mut silent, Duration::from_secs(5)),
        async {
            let status = healthz(&gw, &ca).await;
            (status, started.elapsed())
        }
    );
    assert!(
        closed_after >= Duration::from_millis(350) && closed_after < Duration::from_secs(3),
        "closed after {closed_after:?}"
    );
    assert_eq!(status, 200);
    assert!(
        served_after >= Duration::from_millis(350),
        "served after {served_after:?}: the silent client did not hold the slot"
    );

    // A client that starts a handshake and stalls is cut the same way.
    let mut stalled = TcpStream::connect(addr(&gw.base)).await.unwrap();
    stalled
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    let closed_after = time_until_closed(&mut stalled, Duration::from_secs(5)).await;
    assert!(
        closed_after >= Duration::from_millis(350) && closed_after < Duration::from_secs(3),
        "closed after {closed_after:?}"
    );
    assert_eq!(healthz(&gw, &ca).await, 200);
}
