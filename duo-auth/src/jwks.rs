//! [`OidcKeys`]: the cache of the OIDC issuers' signing keys (the GitLab instance, optionally the
//! customer portal). A request never waits behind a fetch it does not need.
//!
//! **The key set** is an immutable snapshot (`Arc<KeySet>`) swapped in whole after each
//! successful fetch; readers clone the `Arc` and never block on a fetch.
//!
//! **A token whose `kid` is in the snapshot** is verified at once with it, even when the TTL
//! has expired (stale-while-revalidate): an expired set only starts a refresh in the
//! background. A hanging or down issuer therefore never delays tokens it has signed with a key
//! the gateway already holds.
//!
//! **A token whose `kid` is not in the snapshot** (or any token before the first fetch) needs a
//! fetch: it joins the one running, or starts one, and waits for it. At most one fetch runs at a
//! time (a spawned task; callers share its completion through a `Shared` future), so concurrent
//! requests cost one fetch and at most one fetch timeout, together.
//!
//! **Rate limits**, both `min_refresh` long (`jwks_min_refresh_interval_s`), each with its own
//! clock so neither spends the other's budget:
//! - refreshes for an unknown `kid` while the set is fresh: at most one per interval (a flood of
//!   forged `kid`s cannot hammer the issuer). The first fetch and TTL refreshes do not count, so
//!   a key the issuer publishes right after the gateway's first fetch is accepted on first use;
//! - after a failed fetch, the first fetch and TTL refreshes wait one interval before retrying.
//!
//! A failed fetch keeps the last good keys. The fetch itself (timeouts, size cap) is
//! [`super::jwks_fetch`].

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};
use jsonwebtoken::Validation;

use super::jwk::OidcKey;
use super::jwks_fetch::Fetcher;

/// A snapshot of the merged key sets of all issuers.
#[derive(Default)]
pub(crate) struct KeySet {
    /// Bumped on every successful fetch.
    generation: u64,
    /// When the keys were fetched; `None` before the first successful fetch.
    fetched_at: Option<Instant>,
    /// The usable keys.
    pub(crate) keys: Vec<OidcKey>,
}

impl KeySet {
    fn is_fresh(&self, ttl: Duration) -> bool {
        self.fetched_at.is_some_and(|t| t.elapsed() < ttl)
    }

    /// Whether a token with this `kid` can be verified now (any key for a token without one).
    fn knows(&self, kid: Option<&str>) -> bool {
        match kid {
            Some(kid) => self.keys.iter().any(|k| k.kid.as_deref() == Some(kid)),
            None => !self.keys.is_empty(),
        }
    }

    /// The keys a token with this `kid` may be verified with (all keys when it has none).
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a OidcKey> {
        self.keys
            .iter()
            .filter(move |k| kid.is_none() || k.kid.as_deref() == kid)
    }
}

/// Why a fetch is wanted (logged, and it picks the rate limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    FirstUse,
    CacheExpired,
    UnknownKid,
}

/// The running fetch: its shared completion, and a handle to tell whether it has ended.
struct Running {
    done: Shared<BoxFuture<'static, ()>>,
    task: tokio::task::AbortHandle,
}

/// The fetch bookkeeping, behind a mutex never held across an `.await`.
#[derive(Default)]
struct RefreshState {
    running: Option<Running>,
    /// When the last unknown-`kid` refresh started (its own budget).
    last_kid_refresh: Option<Instant>,
    /// When the last fetch failed; cleared by a success.
    last_failure: Option<Instant>,
}

/// Settings of [`OidcKeys`].
pub(crate) struct OidcSettings {
    /// How long a fetched set counts as fresh.
    pub(crate) ttl: Duration,
    /// Least time between unknown-`kid` refreshes, and between retries after a failure.
    pub(crate) min_refresh: Duration,
    /// Bound of one issuer's fetch.
    pub(crate) fetch_timeout: Duration,
    /// Template for each key's validation.
    pub(crate) base_validation: Validation,
}

/// The OIDC key source: issuers, HTTP client and the cache. Needs a Tokio runtime to fetch.
pub(crate) struct OidcKeys {
    inner: Arc<Inner>,
}

struct Inner {
    fetcher: Fetcher,
    ttl: Duration,
    min_refresh: Duration,
    current: RwLock<Arc<KeySet>>,
    state: Mutex<RefreshState>,
}

impl OidcKeys {
    /// A key source for `issuers`; nothing is fetched until the first token needs a key.
    pub(crate) fn new(
        issuers: Vec<(&'static str, String)>,
        http: duo_providers::HttpClient,
        s: OidcSettings,
    ) -> Self {
        let fetcher = Fetcher {
            issuers,
            http,
            timeout: s.fetch_timeout,
            base_validation: s.base_validation,
        };
        Self {
            inner: Arc::new(Inner {
                fetcher,
                ttl: s.ttl,
                min_refresh: s.min_refresh,
                current: RwLock::new(Arc::new(KeySet::default())),
                state: Mutex::new(RefreshState::default()),
            }),
        }
    }

    /// The issuer base URLs, for logs.
    pub(crate) fn issuer_urls(&self) -> Vec<&str> {
        self.inner.fetcher.issuer_urls()
    }

    /// A key set to verify a token with this `kid`.
    ///
    /// Known `kid`: the cached set at once (a refresh starts in the background if it expired).
    /// Unknown `kid`: after the running or a new fetch, unless rate-limited. `None` when no keys
    /// at all are available; a returned set may still lack the `kid`.
    pub(crate) async fn key_set_for(&self, kid: Option<&str>) -> Option<Arc<KeySet>> {
        let seen = self.inner.snapshot();
        if seen.knows(kid) {
            if !seen.is_fresh(self.inner.ttl) {
                // Stale but usable: answer now; the refresh (if allowed) runs on its own.
                drop(Inner::join_or_start(&self.inner, seen.generation));
            }
            return Some(seen);
        }
        if let Some(done) = Inner::join_or_start(&self.inner, seen.generation) {
            done.await;
        }
        let current = self.inner.snapshot();
        (!current.keys.is_empty()).then_some(current)
    }
}

impl Drop for OidcKeys {
    fn drop(&mut self) {
        if let Some(running) = &self.inner.lock_state().running {
            running.task.abort();
        }
    }
}

impl Inner {
    fn snapshot(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn store(&self, set: Arc<KeySet>) {
        match self.current.write() {
            Ok(mut guard) => *guard = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, RefreshState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The completion of the running fetch, or of one started now; `None` when no fetch is
    /// useful (a newer set than generation `seen` exists) or allowed (rate-limited).
    fn join_or_start(this: &Arc<Self>, seen: u64) -> Option<Shared<BoxFuture<'static, ()>>> {
        let mut state = this.lock_state();
        if let Some(running) = &state.running
            && !running.task.is_finished()
        {
            return Some(running.done.clone());
        }
        let current = this.snapshot();
        if current.generation != seen {
            return None; // a fetch ended since the caller looked: its result is the answer
        }
        let reason = if current.fetched_at.is_none() {
            Reason::FirstUse
        } else if !current.is_fresh(this.ttl) {
            Reason::CacheExpired
        } else {
            Reason::UnknownKid
        };
        let recent = |t: Option<Instant>| t.is_some_and(|t| t.elapsed() < this.min_refresh);
        let limited = match reason {
            Reason::FirstUse | Reason::CacheExpired => recent(state.last_failure),
            Reason::UnknownKid => recent(state.last_kid_refresh),
        };
        if limited {
            tracing::debug!(?reason, "JWKS refresh skipped: rate-limited");
            return None;
        }
        if reason == Reason::UnknownKid {
            state.last_kid_refresh = Some(Instant::now());
        }
        let task = tokio::spawn(Self::refresh(Arc::clone(this), reason));
        let abort = task.abort_handle();
        let done = task.map(|_| ()).boxed().shared();
        state.running = Some(Running {
            done: done.clone(),
            task: abort,
        });
        Some(done)
    }

    /// One fetch of every issuer; stores the new set, or keeps the old one on failure.
    async fn refresh(self: Arc<Self>, reason: Reason) {
        let started = Instant::now();
        let keys = self.fetcher.fetch_all().await;
        let mut state = self.lock_state();
        if keys.is_empty() {
            state.last_failure = Some(Instant::now());
            tracing::warn!(
                issuers = ?self.fetcher.issuer_urls(),
                ?reason,
                "No keys found in JWKS; is the OIDC provider up?"
            );
            return;
        }
        state.last_failure = None;
        let kids: Vec<&str> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        tracing::info!(?reason, ?kids, took = ?started.elapsed(), "JWKS refreshed");
        let generation = self.snapshot().generation + 1;
        self.store(Arc::new(KeySet {
            generation,
            fetched_at: Some(Instant::now()),
            keys,
        }));
    }
}
