//! The JWKS cache a resource server verifies tokens with.
//!
//! **Why a cache, and how it refreshes.** Verifying locally is the point of RS256: no call
//! to users-service per request. So the keys are fetched once and kept for the `max-age`
//! the JWKS response names (300 s when it names none), and a background task fetches them
//! again *before* that runs out: no request ever waits on a routine refresh.
//!
//! **Unknown `kid`s.** A token signed with a key we have not seen yet (a rotation)
//! triggers one refetch. Concurrent requests share that fetch (single-flight), and no
//! other such fetch starts within `min_refetch` of it, so a flood of tokens with random
//! `kid`s costs users-service at most one request per `min_refetch` beyond the scheduled
//! refreshes.
//!
//! **Outages.** A failed fetch keeps the keys we have: tokens signed with known keys keep
//! verifying while users-service is down. Only unknown `kid`s fail, closed.
//!
//! **Time.** The cooldown and the freshness read the cache's [`Clock`]; only the moment
//! the background task wakes up is left to tokio's timer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::token::key_source::{KeyMap, KeySource, keys_from_jwks};

/// Cache lifetime when the response names no `max-age`.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// A JWKS larger than this is refused (ours is about 500 bytes a key).
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why a fetch failed. The cached keys stay in use.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// Could not connect, timed out, or the answer was not 2xx.
    #[error("fetching the JWKS failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The body is not a JWKS, is too large, or holds no RS256 signing key.
    #[error("the JWKS is unusable: {0}")]
    Invalid(String),
    /// Skipped: the last fetch was less than `min_refetch` ago.
    #[error("a fetch happened less than the minimum interval ago")]
    CoolingDown,
}

/// The outcome of a fetch, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchResult {
    /// Keys loaded.
    Success,
    /// The fetch failed; cached keys kept.
    Failure,
}

/// Called after every fetch attempt (for metrics).
pub type FetchObserver = Arc<dyn Fn(FetchResult) + Send + Sync>;

struct Cached {
    keys: Arc<KeyMap>,
    /// How many fetches of any kind have started: waiters share a fetch that started after
    /// they began to wait.
    attempts: u64,
    /// When the last fetch caused by an unknown `kid` started: the cooldown counts from here,
    /// so scheduled refreshes never stand in the way of a key that just took over.
    last_on_demand: Option<Instant>,
    /// When the current keys go stale, per the response's `max-age`.
    fresh_until: Option<Instant>,
}

/// A cached JWKS; see the module docs.
pub struct JwksCache {
    http: reqwest::Client,
    url: String,
    min_refetch: Duration,
    cached: RwLock<Cached>,
    // Held for the duration of a fetch: the single flight. Readers of the keys never take it.
    fetching: Mutex<()>,
    observer: Option<FetchObserver>,
    /// Grows whenever a fetch changes the set of `kid`s (see [`KeySource::generation`]).
    generation: AtomicU64,
    clock: Clock,
}

impl JwksCache {
    /// A cache of the JWKS at `url`, fetched with `http` (whose timeouts bound each fetch);
    /// `clock` tells when the cooldown is over and the keys are stale.
    pub fn new(http: reqwest::Client, url: String, min_refetch: Duration, clock: Clock) -> Self {
        Self {
            http,
            url,
            min_refetch,
            cached: RwLock::new(Cached {
                keys: Arc::new(KeyMap::new()),
                attempts: 0,
                last_on_demand: None,
                fresh_until: None,
            }),
            fetching: Mutex::new(()),
            observer: None,
            generation: AtomicU64::new(0),
            clock,
        }
    }

    /// Calls `observer` after every fetch attempt.
    pub fn with_observer(mut self, observer: FetchObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Whether any keys are loaded (for readiness).
    pub fn is_loaded(&self) -> bool {
        !self.snapshot().keys.is_empty()
    }

    /// The number of keys loaded.
    pub fn key_count(&self) -> usize {
        self.snapshot().keys.len()
    }

    fn snapshot(&self) -> CachedView {
        match self.cached.read() {
            Ok(c) => CachedView::of(&c),
            Err(p) => CachedView::of(&p.into_inner()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Cached)) {
        match self.cached.write() {
            Ok(mut c) => f(&mut c),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// An on-demand fetch (an unknown `kid` arrived): fetches now unless another on-demand
    /// fetch started within `min_refetch`; concurrent callers share one fetch. Returns the
    /// number of keys loaded.
    pub async fn refresh(&self) -> Result<usize, JwksError> {
        let attempts_before = self.snapshot().attempts;
        let _flight = self.fetching.lock().await;
        let view = self.snapshot();
        // Someone fetched while we waited for the lock: share their result.
        if view.attempts > attempts_before {
            return if view.keys.is_empty() { Err(JwksError::CoolingDown) } else { Ok(view.keys.len()) };
        }
        let now = self.clock.instant();
        if view.last_on_demand.is_some_and(|t| now.saturating_duration_since(t) < self.min_refetch) {
            return Err(JwksError::CoolingDown);
        }
        self.update(|c| c.last_on_demand = Some(now));
        self.fetch_now().await
    }

    /// Fetches regardless of the cooldown (the scheduled refresh). Callers hold the flight.
    async fn fetch_now(&self) -> Result<usize, JwksError> {
        let started = self.clock.instant();
        self.update(|c| c.attempts += 1);
        let result = self.fetch().await;
        match &result {
            Ok((keys, max_age)) => {
                let keys = Arc::new(keys.clone());
                let mut changed = false;
                self.update(|c| {
                    changed = c.keys.len() != keys.len() || keys.keys().any(|kid| !c.keys.contains_key(kid));
                    c.keys = keys;
                    c.fresh_until = Some(started + *max_age);
                });
                if changed {
                    self.generation.fetch_add(1, Ordering::SeqCst);
                }
                log::debug!("JWKS loaded: {} key(s), fresh for {}s", self.key_count(), max_age.as_secs());
            }
            Err(e) => {
                log::warn!("JWKS fetch from {} failed, keeping {} cached key(s): {e}", self.url, self.key_count())
            }
        }
        if let Some(observer) = &self.observer {
            observer(if result.is_ok() { FetchResult::Success } else { FetchResult::Failure });
        }
        result.map(|(keys, _)| keys.len())
    }

    async fn fetch(&self) -> Result<(KeyMap, Duration), JwksError> {
        let response = self.http.get(&self.url).send().await?.error_for_status()?;
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(DEFAULT_MAX_AGE);
        if response.content_length().is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
            return Err(JwksError::Invalid("larger than 256 KiB".into()));
        }
        let body = response.bytes().await?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(JwksError::Invalid("larger than 256 KiB".into()));
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| JwksError::Invalid(e.to_string()))?;
        let keys = keys_from_jwks(&set);
        if keys.is_empty() {
            return Err(JwksError::Invalid("no RS256 signing key".into()));
        }
        Ok((keys, max_age))
    }

    /// Keeps the cache fresh until the returned task is aborted: the first fetch retried
    /// with backoff (1 s doubling to 30 s) until it succeeds, then a refresh at half of each
    /// `max-age`, retried the same way on failure; and a refresh at once whenever `wake`
    /// is notified (posts-service wires it to `SIGHUP`).
    ///
    /// Why half: users-service publishes a new key `max-age` before it signs with it. A
    /// refresh every half `max-age` sees the key with time to spare, even when the key
    /// reached the JWKS a moment after one of our fetches.
    pub fn spawn_refresher(self: &Arc<Self>, wake: Arc<tokio::sync::Notify>) -> tokio::task::JoinHandle<()> {
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                let outcome = {
                    let _flight = cache.fetching.lock().await;
                    cache.fetch_now().await
                };
                let wait = match outcome {
                    Ok(_) => {
                        backoff = Duration::from_secs(1);
                        let max_age = cache
                            .snapshot()
                            .fresh_until
                            .map(|t| t.saturating_duration_since(cache.clock.instant()))
                            .unwrap_or(DEFAULT_MAX_AGE);
                        (max_age / 2).max(Duration::from_millis(500))
                    }
                    Err(_) => {
                        let wait = backoff;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        wait
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = wake.notified() => log::info!("refreshing the JWKS on request"),
                }
            }
        })
    }
}

struct CachedView {
    keys: Arc<KeyMap>,
    attempts: u64,
    last_on_demand: Option<Instant>,
    fresh_until: Option<Instant>,
}

impl CachedView {
    fn of(c: &Cached) -> Self {
        Self {
            keys: c.keys.clone(),
            attempts: c.attempts,
            last_on_demand: c.last_on_demand,
            fresh_until: c.fresh_until,
        }
    }
}

impl KeySource for JwksCache {
    fn key<'a>(&'a self, kid: &'a str) -> BoxFuture<'a, Option<Arc<DecodingKey>>> {
        Box::pin(async move {
            if let Some(key) = self.snapshot().keys.get(kid) {
                return Some(key.clone());
            }
            // An unknown kid: maybe a key published since our last fetch.
            let _ = self.refresh().await;
            self.snapshot().keys.get(kid).cloned()
        })
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// The `max-age` of a `Cache-Control` value, clamped to one second to one day.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').map(str::trim).find_map(|directive| {
        let (name, value) = directive.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        let secs: u64 = value.trim().trim_matches('"').parse().ok()?;
        Some(Duration::from_secs(secs.clamp(1, 86_400)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(max_age("MAX-AGE=\"5\""), Some(Duration::from_secs(5)));
        assert_eq!(max_age("max-age=0"), Some(Duration::from_secs(1)));
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
