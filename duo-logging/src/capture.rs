//! [`LogCapture`]: an in-memory log writer for tests, used with [`subscriber`](crate::subscriber).

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

/// Collects log output in memory.
///
/// ```
/// use duo_logging::{LogCapture, LoggingConfig, subscriber};
/// let capture = LogCapture::default();
/// let sub = subscriber(&LoggingConfig::default(), capture.clone())?;
/// tracing::subscriber::with_default(sub, || tracing::info!(answer = 42, "hello"));
/// let lines = capture.json_lines()?;
/// assert_eq!(lines[0]["message"], "hello");
/// assert_eq!(lines[0]["answer"], 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LogCapture {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl LogCapture {
    /// Everything written so far.
    #[must_use]
    pub fn text(&self) -> String {
        let buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Every line parsed as JSON.
    ///
    /// # Errors
    /// The first line that is not valid JSON.
    pub fn json_lines(&self) -> Result<Vec<serde_json::Value>, serde_json::Error> {
        self.text().lines().map(serde_json::from_str).collect()
    }

    /// The JSON lines whose `logger` (target) is `target`.
    ///
    /// # Errors
    /// The first line that is not valid JSON.
    pub fn lines_for(&self, target: &str) -> Result<Vec<serde_json::Value>, serde_json::Error> {
        Ok(self
            .json_lines()?
            .into_iter()
            .filter(|l| l["logger"] == target)
            .collect())
    }
}

/// The writer [`LogCapture`] hands out for each line.
#[derive(Debug)]
pub struct CaptureWriter {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl io::Write for CaptureWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter {
            buf: Arc::clone(&self.buf),
        }
    }
}
