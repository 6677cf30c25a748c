//! Unit tests of the retry arithmetic; the wrapper's behaviour over HTTP is tested in `tests/`.

use super::*;
use duo_core::{GenerationParams, Prompt};

#[test]
fn defaults_are_the_documented_ones() {
    let c = ResilienceConfig::default();
    assert_eq!(c.connect_timeout, Duration::from_secs(5));
    assert_eq!(c.first_byte_timeout, Duration::from_secs(30));
    assert_eq!(c.idle_timeout, Duration::from_secs(30));
    assert_eq!(c.total_timeout, Duration::from_secs(120));
    assert_eq!(c.max_retries, 2);
    assert_eq!(c.base_backoff, Duration::from_millis(200));
    assert_eq!(c.max_backoff, Duration::from_secs(5));
    assert_eq!(c.max_retry_after, Duration::from_secs(10));
}

#[test]
fn the_request_timeout_lowers_the_total_and_zero_turns_limits_off() {
    let c = ResilienceConfig::default();
    let mut request = ModelRequest::new(Prompt::Text("x".into()));
    assert_eq!(c.total_for(&request), Some(Duration::from_secs(120)));
    request.params = GenerationParams {
        timeout: Some(Duration::from_secs(60)),
        reasoning_effort: None,
        ..GenerationParams::default()
    };
    assert_eq!(c.total_for(&request), Some(Duration::from_secs(60)));
    let off = ResilienceConfig {
        total_timeout: Duration::ZERO,
        ..ResilienceConfig::default()
    };
    assert_eq!(off.total_for(&request), Some(Duration::from_secs(60)));
    request.params.timeout = None;
    assert_eq!(off.total_for(&request), None);
}

#[test]
fn backoff_grows_with_jitter_and_stops_after_max_retries() {
    let c = ResilienceConfig {
        base_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(300),
        max_retries: 3,
        ..ResilienceConfig::default()
    };
    let waits: Vec<Duration> = c.backoff().build().collect();
    assert_eq!(waits.len(), 3);
    assert!(
        waits[0] >= Duration::from_millis(100) && waits[0] < Duration::from_millis(200),
        "{waits:?}"
    );
    assert!(waits[1] >= Duration::from_millis(200), "{waits:?}");
    assert!(
        waits.iter().all(|w| *w <= Duration::from_millis(600)),
        "{waits:?}"
    );
}

struct Named;

#[async_trait]
impl LanguageModel for Named {
    fn provider(&self) -> &str {
        "p"
    }
    fn model(&self) -> &str {
        "m"
    }
    fn upstream(&self) -> &str {
        "u"
    }
    async fn generate_stream(&self, _: &ModelRequest) -> Result<EventStream, Error> {
        Err(Error::Config("unused".into()))
    }
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_its_cap_and_the_deadline() {
    let r = Resilient::new(Named, ResilienceConfig::default());
    let limited = |secs| Error::RateLimited {
        upstream: "u".into(),
        retry_after: Some(Duration::from_secs(secs)),
        message: "slow down".into(),
    };
    let backoff = Some(Duration::from_millis(300));
    assert_eq!(
        r.next_wait(&limited(2), backoff, None),
        Some(Duration::from_secs(2))
    );
    assert_eq!(r.next_wait(&limited(0), backoff, None), backoff);
    assert_eq!(r.next_wait(&limited(11), backoff, None), None);
    assert_eq!(
        r.next_wait(&limited(1), None, None),
        None,
        "retries exhausted"
    );
    let soon = Instant::now() + Duration::from_secs(1);
    assert_eq!(
        r.next_wait(&limited(2), backoff, Some(soon)),
        None,
        "past the deadline"
    );
    assert_eq!(r.upstream(), "u");
}
