//! [`RequestContext`]: what a request's headers say about its client, read in one pass over
//! the headers into one buffer (one allocation per request, whatever the headers).

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

/// Longest correlation id accepted from `X-Request-ID`; longer or odd ones are replaced.
const MAX_CORRELATION_ID: usize = 128;
/// Longest header value copied into the log.
const MAX_HEADER_CHARS: usize = 256;

/// The headers copied into the log, by slot.
#[derive(Debug, Clone, Copy)]
enum Slot {
    ClientType,
    ClientVersion,
    InstanceId,
    Realm,
    Version,
    HostName,
    LanguageServerVersion,
    UserAgent,
    Path,
}

const SLOTS: usize = 9;
/// Longest request path copied into the log.
const MAX_PATH_CHARS: usize = 512;

/// What the request's headers say about its client, as logged (never `Authorization` or any
/// key header: only the headers named here are read).
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The copied header values, back to back; `ranges` index into it.
    text: String,
    ranges: [Option<(u16, u16)>; SLOTS],
    user_id_hash: Option<[u8; 32]>,
    duration_request: Option<f64>,
}

/// The headers the request log reads before the handler runs.
pub(crate) struct Parsed {
    pub(crate) context: RequestContext,
    pub(crate) correlation_id: Option<HeaderValue>,
    pub(crate) verbose_ai_logs: bool,
}

impl RequestContext {
    /// Reads the known headers in one pass, and keeps `path`. `salt` is mixed into the user
    /// id's hash.
    pub(crate) fn parse(headers: &HeaderMap, salt: Option<&str>, path: Option<&str>) -> Parsed {
        let mut ctx = Self::default();
        if let Some(path) = path {
            ctx.store_str(Slot::Path, path, MAX_PATH_CHARS);
        }
        let mut correlation_id = None;
        let mut verbose_ai_logs = false;
        for (name, value) in headers {
            let slot = match name.as_str() {
                "x-request-id" => {
                    if correlation_id.is_none() && is_usable_correlation_id(value) {
                        correlation_id = Some(value.clone());
                    }
                    continue;
                }
                "x-gitlab-enabled-instance-verbose-ai-logs" => {
                    verbose_ai_logs = value
                        .to_str()
                        .is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
                    continue;
                }
                "x-gitlab-global-user-id" => {
                    if ctx.user_id_hash.is_none() {
                        ctx.user_id_hash = Some(hash_user_id(salt, value.as_bytes()));
                    }
                    continue;
                }
                "x-gitlab-rails-send-start" => {
                    ctx.duration_request = value
                        .to_str()
                        .ok()
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .and_then(since_epoch_secs);
                    continue;
                }
                "x-gitlab-client-type" => Slot::ClientType,
                "x-gitlab-client-version" => Slot::ClientVersion,
                "x-gitlab-instance-id" => Slot::InstanceId,
                "x-gitlab-realm" => Slot::Realm,
                "x-gitlab-version" => Slot::Version,
                "x-gitlab-host-name" => Slot::HostName,
                "x-gitlab-language-server-version" => Slot::LanguageServerVersion,
                "user-agent" => Slot::UserAgent,
                _ => continue,
            };
            ctx.store(slot, value);
        }
        Parsed {
            context: ctx,
            correlation_id,
            verbose_ai_logs,
        }
    }

    /// Keeps the first value of a header: visible ASCII, trimmed, at most 256 characters.
    fn store(&mut self, slot: Slot, value: &HeaderValue) {
        if let Ok(s) = value.to_str() {
            self.store_str(slot, s.trim(), MAX_HEADER_CHARS);
        }
    }

    fn store_str(&mut self, slot: Slot, s: &str, max_chars: usize) {
        let s = crate::redact::cap(s, max_chars).0;
        let range = &mut self.ranges[slot as usize];
        if s.is_empty() || range.is_some() {
            return;
        }
        if self.text.capacity() == 0 {
            self.text.reserve(256);
        }
        let start = self.text.len();
        self.text.push_str(s);
        // At most 8 values of at most 256 characters and a path of 512: the offsets fit in u16.
        if let (Ok(a), Ok(b)) = (u16::try_from(start), u16::try_from(self.text.len())) {
            *range = Some((a, b));
        }
    }

    fn get(&self, slot: Slot) -> Option<&str> {
        let (a, b) = self.ranges[slot as usize]?;
        self.text.get(usize::from(a)..usize::from(b))
    }

    /// The request's path (without the query), at most 512 characters.
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        self.get(Slot::Path)
    }

    /// `X-Gitlab-Client-Type` (e.g. `gitlab-language-server`).
    #[must_use]
    pub fn client_type(&self) -> Option<&str> {
        self.get(Slot::ClientType)
    }

    /// `X-Gitlab-Client-Version`.
    #[must_use]
    pub fn client_version(&self) -> Option<&str> {
        self.get(Slot::ClientVersion)
    }

    /// `X-Gitlab-Instance-Id`.
    #[must_use]
    pub fn gitlab_instance_id(&self) -> Option<&str> {
        self.get(Slot::InstanceId)
    }

    /// `X-Gitlab-Global-User-Id`, hashed: SHA-256 of `salt:id` (or `id` without a salt), the
    /// first 16 bytes as 32 hex digits.
    #[must_use]
    pub fn gitlab_global_user_id(&self) -> Option<&str> {
        self.user_id_hash
            .as_ref()
            .and_then(|h| std::str::from_utf8(h).ok())
    }

    /// `X-Gitlab-Realm`.
    #[must_use]
    pub fn gitlab_realm(&self) -> Option<&str> {
        self.get(Slot::Realm)
    }

    /// `X-Gitlab-Version`.
    #[must_use]
    pub fn gitlab_version(&self) -> Option<&str> {
        self.get(Slot::Version)
    }

    /// `X-Gitlab-Host-Name`.
    #[must_use]
    pub fn gitlab_host_name(&self) -> Option<&str> {
        self.get(Slot::HostName)
    }

    /// `X-Gitlab-Language-Server-Version`.
    #[must_use]
    pub fn language_server_version(&self) -> Option<&str> {
        self.get(Slot::LanguageServerVersion)
    }

    /// `User-Agent`.
    #[must_use]
    pub fn user_agent(&self) -> Option<&str> {
        self.get(Slot::UserAgent)
    }

    /// Seconds from GitLab sending the request (`X-Gitlab-Rails-Send-Start`) to its arrival.
    #[must_use]
    pub fn duration_request(&self) -> Option<f64> {
        self.duration_request
    }
}

fn is_usable_correlation_id(id: &HeaderValue) -> bool {
    let b = id.as_bytes();
    !b.is_empty() && b.len() <= MAX_CORRELATION_ID && b.iter().all(u8::is_ascii_graphic)
}

/// A new UUID v4 as a header value.
pub(crate) fn generate_correlation_id() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    // A hyphenated UUID is always a valid header value.
    HeaderValue::from_str(id).unwrap_or(HeaderValue::from_static("invalid-uuid"))
}

/// SHA-256 of `salt:user_id`, first 16 bytes as hex.
fn hash_user_id(salt: Option<&str>, user_id: &[u8]) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    if let Some(salt) = salt {
        h.update(salt.as_bytes());
        h.update(b":");
    }
    h.update(user_id);
    let digest = h.finalize();
    let mut out = [0u8; 32];
    for (i, b) in digest.iter().take(16).enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    out
}

fn since_epoch_secs(sent_at: f64) -> Option<f64> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    (sent_at.is_finite() && sent_at > 0.0).then_some(now - sent_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn user_id_is_hashed_with_the_salt() {
        let plain = hash_user_id(None, b"42");
        assert_eq!(&plain, b"73475cb40a568e8da8a045ced110137e"); // sha256("42")
        assert_ne!(hash_user_id(Some("pepper"), b"42"), plain);
    }

    #[test]
    fn reads_each_header_once_trimmed_and_capped() {
        let long = "v".repeat(300);
        let p = RequestContext::parse(
            &headers(&[
                ("x-gitlab-client-type", " vscode "),
                ("x-gitlab-client-type", "second"),
                ("x-gitlab-version", &long),
                ("x-gitlab-realm", ""),
                ("user-agent", "ua/1"),
                ("authorization", "Bearer secret"),
                ("x-request-id", "r-1"),
                ("x-gitlab-enabled-instance-verbose-ai-logs", "TRUE"),
            ]),
            None,
            Some(&format!("/v1/prompts/{}", "p".repeat(600))),
        );
        let c = &p.context;
        assert_eq!(c.client_type(), Some("vscode"));
        assert_eq!(c.gitlab_version().map(str::len), Some(256));
        assert_eq!(c.gitlab_realm(), None);
        assert_eq!(c.user_agent(), Some("ua/1"));
        assert_eq!(c.client_version(), None);
        assert_eq!(c.path().map(str::len), Some(512));
        assert!(!c.text.contains("secret"));
        assert_eq!(p.correlation_id.unwrap(), "r-1");
        assert!(p.verbose_ai_logs);
    }

    #[test]
    fn odd_correlation_ids_are_refused() {
        for bad in ["has space", &"x".repeat(200)] {
            let p = RequestContext::parse(&headers(&[("x-request-id", bad)]), None, None);
            assert!(p.correlation_id.is_none(), "{bad}");
        }
        let id = generate_correlation_id();
        assert_eq!(
            uuid::Uuid::parse_str(id.to_str().unwrap())
                .unwrap()
                .get_version_num(),
            4
        );
    }

    #[test]
    fn rails_send_start_gives_a_transfer_duration() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let sent = format!("{}", now - 2.0);
        let p = RequestContext::parse(
            &headers(&[("x-gitlab-rails-send-start", &sent)]),
            None,
            None,
        );
        let d = p.context.duration_request().unwrap();
        assert!((1.5..100.0).contains(&d), "{d}");
        let p = RequestContext::parse(
            &headers(&[("x-gitlab-rails-send-start", "soon")]),
            None,
            None,
        );
        assert_eq!(p.context.duration_request(), None);
    }
}
