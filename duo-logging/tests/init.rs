//! `init` (process-wide, once) writing to a rotated file, and the human-readable format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use duo_logging::{InitError, LogCapture, LoggingConfig, init, subscriber};

#[test]
fn init_writes_json_to_the_file_once_and_refuses_a_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = LoggingConfig {
        level: "info,noisy=error".into(),
        to_file: Some(dir.path().join("gateway.log")),
        ..LoggingConfig::default()
    };
    let guard = init(&config).unwrap();
    tracing::info!(target: "duo::test", answer = 42, "written to the file");
    tracing::warn!(target: "noisy", "filtered out by the per-target directive");
    tracing::debug!(target: "duo::test", "below the level");

    let again = init(&config).unwrap_err();
    assert!(matches!(again, InitError::AlreadyInitialized(_)), "{again}");
    drop(guard); // flushes the background writer

    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with("gateway.log."), "rotated daily: {name}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["message"], "written to the file");
    assert_eq!(lines[0]["answer"], 42);
    assert_eq!(lines[0]["logger"], "duo::test");
}

#[test]
fn init_refuses_invalid_settings_without_installing_anything() {
    let config = LoggingConfig {
        redact_patterns: vec!["[".into()],
        ..LoggingConfig::default()
    };
    let err = init(&config).unwrap_err();
    assert!(
        matches!(&err, InitError::Config(c) if c.key == "logging.redact_patterns[0]"),
        "{err}"
    );
}

#[test]
fn text_format_is_human_readable() {
    let capture = LogCapture::default();
    let config = LoggingConfig {
        format_json: false,
        to_file: Some("unused.log".into()), // no colours when not on a terminal
        ..LoggingConfig::default()
    };
    let sub = subscriber(&config, capture.clone()).unwrap();
    tracing::subscriber::with_default(sub, || {
        tracing::info!(target: "duo::test", status = 200, "plain words");
    });
    let text = capture.text();
    assert!(
        text.contains("INFO duo::test: plain words status=200"),
        "{text}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(text.trim()).is_err());
}
