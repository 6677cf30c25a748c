//! [`VerifiedTokens`]: tokens whose signature and claims were verified, remembered for a while,
//! so that a token a GitLab instance sends again costs a map lookup instead of an RS256
//! verification (~50 µs, the largest part of an authenticated request's cost in the gateway).
//!
//! - Only successful verifications are remembered; a token that fails is verified (and fails)
//!   every time.
//! - The key is the **whole token**, compared exactly: no hash a crafted token could collide
//!   with.
//! - An entry lives until the token's `exp`, or [`TTL`] after it was verified, whichever comes
//!   first: a key its issuer withdraws (JWKS rotation) stops being trusted within [`TTL`].
//! - Headers are checked against the claims on every request, hit or miss (they vary per
//!   request: the user id).
//! - At most [`CAPACITY`] tokens are kept; when full, expired entries go first, then the one
//!   verified longest ago.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::claims::TokenClaims;

/// Longest time a verified token is trusted without verifying it again.
pub(crate) const TTL: Duration = Duration::from_secs(300);

/// Most tokens remembered (a few KiB each at most).
pub(crate) const CAPACITY: usize = 4096;

/// A verified token's claims and whether the gateway issued it.
pub(crate) type Verified = (Arc<TokenClaims>, bool);

struct Entry {
    verified: Verified,
    verified_at: Instant,
    valid_until: Instant,
}

/// The cache; see the [module docs](self).
#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified and is still within its lifetime.
    pub(crate) fn get(&self, token: &str) -> Option<Verified> {
        self.get_at(token, Instant::now())
    }

    /// Remembers a verified `token` (one without `exp` is trusted for [`TTL`]).
    pub(crate) fn insert(&self, token: &str, verified: Verified) {
        let exp = verified.0.exp;
        self.insert_at(token, verified, exp, Instant::now(), SystemTime::now());
    }

    fn get_at(&self, token: &str, now: Instant) -> Option<Verified> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(token)?;
        (now < entry.valid_until).then(|| (Arc::clone(&entry.verified.0), entry.verified.1))
    }

    fn insert_at(
        &self,
        token: &str,
        verified: Verified,
        exp: Option<f64>,
        now: Instant,
        wall: SystemTime,
    ) {
        let mut valid_until = now + TTL;
        if let Some(exp) = exp {
            let now_unix = wall
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let left = Duration::try_from_secs_f64(exp - now_unix).unwrap_or(Duration::ZERO);
            valid_until = valid_until.min(now + left);
        }
        if valid_until <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(token) {
            entries.retain(|_, e| e.valid_until > now);
            if entries.len() >= CAPACITY
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.verified_at)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            token.into(),
            Entry {
                verified,
                verified_at: now,
                valid_until,
            },
        );
    }

    /// How many tokens are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str) -> Verified {
        let mut claims = TokenClaims::default();
        claims.sub = Some(sub.into());
        (Arc::new(claims), false)
    }

    #[test]
    fn a_token_is_trusted_until_its_exp_or_the_ttl_whichever_is_first() {
        let cache = VerifiedTokens::default();
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_000_000);
        // exp in 60 s: trusted 60 s
        cache.insert_at("a.b.c", claims("one"), Some(1_000_060.0), now, wall);
        let hit = cache
            .get_at("a.b.c", now + Duration::from_secs(59))
            .unwrap();
        assert_eq!(hit.0.sub.as_deref(), Some("one"));
        assert!(
            cache
                .get_at("a.b.c", now + Duration::from_secs(60))
                .is_none()
        );
        // exp in an hour: trusted the TTL only
        cache.insert_at("d.e.f", claims("two"), Some(1_003_600.0), now, wall);
        assert!(
            cache
                .get_at("d.e.f", now + TTL - Duration::from_secs(1))
                .is_some()
        );
        assert!(cache.get_at("d.e.f", now + TTL).is_none());
        // already expired: not remembered
        cache.insert_at("g.h.i", claims("three"), Some(999_999.0), now, wall);
        assert!(cache.get_at("g.h.i", now).is_none());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn only_the_exact_token_hits() {
        let cache = VerifiedTokens::default();
        cache.insert("header.payload.signature", claims("one"));
        assert!(cache.get("header.payload.signature").is_some());
        assert!(cache.get("header.payload.signaturX").is_none());
        assert!(cache.get("header.payload.signature ").is_none());
    }

    #[test]
    fn a_full_cache_drops_expired_entries_then_the_oldest() {
        let cache = VerifiedTokens::default();
        let now = Instant::now();
        let wall = SystemTime::now();
        for i in 0..CAPACITY {
            let at = now + Duration::from_millis(u64::try_from(i).unwrap());
            cache.insert_at(&format!("t{i}"), claims("x"), None, at, wall);
        }
        assert_eq!(cache.len(), CAPACITY);
        let later = now + Duration::from_secs(1);
        cache.insert_at("new", claims("y"), None, later, wall);
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.get_at("t0", later).is_none(), "the oldest went");
        assert!(cache.get_at("t1", later).is_some());
        assert!(cache.get_at("new", later).is_some());
        // past every entry's TTL: a full cache drops them all at the next insert
        let much_later = now + TTL + Duration::from_secs(10);
        cache.insert_at("newer", claims("z"), None, much_later, wall);
        assert_eq!(cache.len(), 1);
    }
}
