//! [`init`] installs the process-wide subscriber; [`subscriber`] builds one for any writer
//! (tests capture output with it and `tracing::subscriber::set_default`).

use std::path::Path;

use tracing::Subscriber;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, fmt};

use crate::config::{ConfigError, LoggingConfig};
use crate::json_format::{JsonFields, JsonFormat};

/// Why [`init`] could not set up logging.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A setting is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The log file cannot be opened.
    #[error("cannot open the log file {path}: {message}")]
    File {
        /// The configured path.
        path: String,
        /// What failed.
        message: String,
    },
    /// A global subscriber is already installed (`init` was called before).
    #[error("logging is already initialised: {0}")]
    AlreadyInitialized(String),
}

/// Keeps the background log writer alive; dropping it flushes the lines still queued.
#[must_use = "dropping the guard stops the log writer"]
#[derive(Debug)]
pub struct LoggingGuard {
    _worker: WorkerGuard,
}

/// A subscriber with the configured filter and format, writing to `writer`.
///
/// # Errors
/// A [`ConfigError`] when the level setting is invalid.
pub fn subscriber<W>(
    config: &LoggingConfig,
    writer: W,
) -> Result<impl Subscriber + Send + Sync + 'static, ConfigError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::builder()
        .parse(config.filter_directives()?)
        .map_err(|e| ConfigError::new("logging.level", e.to_string()))?;
    let (json, text) = if config.format_json {
        let layer = fmt::layer()
            .fmt_fields(JsonFields)
            .event_format(JsonFormat)
            .with_writer(writer);
        (Some(layer), None)
    } else {
        let ansi = config.to_file.is_none();
        (None, Some(fmt::layer().with_ansi(ansi).with_writer(writer)))
    };
    Ok(Registry::default().with(filter).with(json).with(text))
}

/// Installs the process-wide subscriber: stdout, or `to_file` rotated daily, through a
/// background writer that applies back-pressure rather than dropping lines.
///
/// Call once; a second call returns [`InitError::AlreadyInitialized`].
///
/// # Errors
/// An invalid setting, an unusable log file, or a subscriber already installed.
pub fn init(config: &LoggingConfig) -> Result<LoggingGuard, InitError> {
    config.validate()?;
    let builder = NonBlockingBuilder::default().lossy(false);
    let (writer, worker) = match &config.to_file {
        Some(path) => builder.finish(rolling_file(path)?),
        None => builder.finish(std::io::stdout()),
    };
    subscriber(config, writer)?
        .try_init()
        .map_err(|e| InitError::AlreadyInitialized(e.to_string()))?;
    Ok(LoggingGuard { _worker: worker })
}

fn rolling_file(path: &Path) -> Result<RollingFileAppender, InitError> {
    let err = |message: String| InitError::File {
        path: path.display().to_string(),
        message,
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| err("the path has no file name".into()))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(name)
        .build(dir)
        .map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_path_without_a_name_is_refused() {
        let err = rolling_file(Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("no file name"), "{err}");
    }

    #[test]
    fn subscriber_refuses_a_bad_level() {
        let c = LoggingConfig {
            level: "chatty".into(),
            ..LoggingConfig::default()
        };
        assert!(subscriber(&c, std::io::sink).is_err());
    }
}
