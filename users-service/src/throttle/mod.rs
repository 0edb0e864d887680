//! Throttling of credential guessing, per client address.
//!
//! - A username (at `/auth/login`) or a client id (at `/oauth/token` and `/oauth/revoke`)
//!   with repeated failures from one address is locked out for a while, from that address
//!   only: nobody can lock someone else out of their account from elsewhere, and a success
//!   clears the count.
//! - An address with many failures across names (password spraying, or probing which
//!   usernames are taken) is locked out whatever the name. A success does not clear this
//!   count, so an attacker cannot interleave logins of their own.
//! - `/oauth/revoke` is rate-limited per address (RFC 7009 §5): it answers 200 for any
//!   token, so it would otherwise be a free oracle for guessing refresh tokens.
//!
//! The address is the TCP peer, or behind our gateway the entry it appended to
//! `X-Forwarded-For` (`TRUST_FORWARDED_FOR`).
//!
//! **Shared by every replica.** The failure counts live in the database
//! (`credential_failures`, see `failures`), so N replicas give an attacker the guesses of
//! one, not N times as many. A check is one read (the address's row and the name's
//! together); only a failure writes, as one atomic increment per counter, so two replicas
//! counting at once lose nothing; a success deletes the name's row only if the check saw
//! one, so an ordinary login costs no write. Times come from the service's [`Clock`].
//! Counters whose window and lockout have passed are swept every minute by
//! `crate::sweeper` (on each replica; the deletes are idempotent). The revocation rate
//! limit is the exception: it stays in memory, per process (governor), so with N replicas
//! an address gets N times 30 revocations a minute; the gateway's per-address limit on
//! `/oauth/revoke` comes before it.
//!
//! **When the database is down, fail closed.** A check that cannot read the counters
//! refuses the attempt with 503 `unavailable` (the answer the service gives whenever its
//! database is unreachable), before any password or secret is compared: an outage never
//! means unlimited guessing. A failure that cannot be recorded (the check read the
//! counters a moment before) is logged as an error and the request still gets its 401:
//! the credential was wrong, and a 503 would tell the guesser the same. A success whose
//! stale counter cannot be deleted is logged and still succeeds; the counter lapses with
//! its window.

mod failures;
mod sweeper;

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::HttpRequest;
use auth_common::clock::Clock;
use auth_common::service::db::{DbError, DbPool, QueryContext, QueryError, blocking};
use diesel::Connection;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{ApiError, ApiResult};
pub use failures::Policy;
use failures::{Found, Key};
pub use sweeper::sweep;

/// One name from one address: five tries, then 30 s, doubling up to 15 minutes.
const PER_NAME: Policy =
    Policy { free_failures: 5, base_lockout: Duration::from_secs(30), window: Duration::from_secs(15 * 60) };

/// One address, across names: twenty failures, then a minute, doubling up to 15 minutes.
const PER_ADDRESS: Policy =
    Policy { free_failures: 20, base_lockout: Duration::from_secs(60), window: Duration::from_secs(15 * 60) };

/// The scopes of `credential_failures`, and their policies.
const LOGIN_SCOPE: &str = "login";
const CLIENT_SCOPE: &str = "client";
const ADDRESS_SCOPE: &str = "address";
const SCOPES: [(&str, Policy); 3] = [(LOGIN_SCOPE, PER_NAME), (CLIENT_SCOPE, PER_NAME), (ADDRESS_SCOPE, PER_ADDRESS)];

/// Revocation requests per address: a burst of 30, then one every 2 s (30 a minute).
const REVOCATIONS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(30).unwrap();

/// Addresses the revocation limiter keeps before it forgets the ones not seen lately.
const REVOCATION_ADDRESSES_KEPT: usize = 100_000;

/// What a name identifies: a user at `/auth/login`, or an OAuth client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Login,
    Client,
}

/// What is throttled, and why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failed logins for this account from this address.
    Account(Duration),
    /// Too many failed client authentications for this client from this address.
    Client(Duration),
    /// Too many failures from this address, whatever the name.
    Address(Duration),
    /// Too many requests from this address.
    Rate(Duration),
}

impl Refusal {
    /// How long the client should wait.
    pub fn retry_after(self) -> Duration {
        match self {
            Self::Account(d) | Self::Client(d) | Self::Address(d) | Self::Rate(d) => d,
        }
    }

    /// `Retry-After` in whole seconds, rounded up: a client that waits exactly that long
    /// must not be refused again.
    pub fn retry_after_secs(self) -> u64 {
        u64::try_from(self.retry_after().as_millis().div_ceil(1000).max(1)).unwrap_or(u64::MAX)
    }
}

/// Why the failure counters could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    /// No connection in time.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] QueryError),
}

impl From<CounterError> for ApiError {
    /// Both are a database that cannot be used: 503, never an unthrottled attempt.
    fn from(e: CounterError) -> Self {
        match e {
            CounterError::Db(e) => Self::Unavailable(e),
            CounterError::Query(e) => Self::CountersUnavailable(e),
        }
    }
}

/// A check that passed: what counting its outcome needs.
#[derive(Debug)]
#[must_use = "count the outcome with `failed` or `succeeded`"]
pub struct Attempt {
    kind: Credential,
    client: IpAddr,
    address: Key,
    named: Key,
    /// Whether the name had failures counted when checked: only then does a success
    /// write (to delete them).
    named_seen: bool,
}

/// The revocation rate limit of one process; the failure counts are in the database.
pub struct Guards {
    revocations: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for Guards {
    fn default() -> Self {
        Self { revocations: RateLimiter::keyed(Quota::per_minute(REVOCATIONS_PER_MINUTE)) }
    }
}

impl Guards {
    /// Before checking a password or a client secret: is this name, or this address,
    /// locked out? 429 if so, 503 if the counters cannot be read.
    pub async fn check(
        &self,
        pool: &DbPool,
        clock: &Clock,
        kind: Credential,
        name: &str,
        client: IpAddr,
    ) -> ApiResult<Attempt> {
        let (address, named) = (address_key(client), named_key(kind, name, client));
        let (at_address, at_name) = {
            let (address, named, now) = (address.clone(), named.clone(), clock.now().naive_utc());
            blocking(pool, move |conn| -> Result<_, CounterError> {
                let found = failures::read(conn, &[&address, &named], now).context("reading credential failures")?;
                Ok((found[0], found[1]))
            })
            .await?
        };
        refuse_if_locked(at_address, Refusal::Address)?;
        refuse_if_locked(
            at_name,
            match kind {
                Credential::Login => Refusal::Account,
                Credential::Client => Refusal::Client,
            },
        )?;
        Ok(Attempt { kind, client, address, named, named_seen: at_name != Found::Nothing })
    }

    /// A wrong password or secret, or an unknown or malformed name: counted for the name
    /// and the address. A failure to record it is logged (see the module docs).
    pub async fn failed(&self, pool: &DbPool, clock: &Clock, attempt: Attempt) {
        let Attempt { kind, client, address, named, .. } = attempt;
        let now = clock.now().naive_utc();
        let recorded = blocking(pool, move |conn| -> Result<_, CounterError> {
            let lockouts = conn.transaction(|conn| {
                Ok::<_, diesel::result::Error>((
                    failures::record_failure(conn, &address, now)?,
                    failures::record_failure(conn, &named, now)?,
                ))
            });
            Ok((lockouts.context("recording a credential failure")?, address))
        })
        .await;
        match recorded {
            Ok(((at_address, at_name), address)) => {
                log_address_lockout(at_address, &address);
                if let Some(lockout) = at_name {
                    let what = match kind {
                        Credential::Login => "login",
                        Credential::Client => "client authentication",
                    };
                    log::warn!("{what} locked for {}s after repeated failures from {client}", lockout.as_secs());
                }
            }
            Err(e) => log_unrecorded(e),
        }
    }

    /// A success clears the name's count (if the check saw one), not the address's.
    pub async fn succeeded(&self, pool: &DbPool, attempt: Attempt) {
        if !attempt.named_seen {
            return;
        }
        let named = attempt.named;
        let cleared = blocking(pool, move |conn| -> Result<_, CounterError> {
            Ok(failures::clear(conn, &named).context("clearing credential failures after a success")?)
        })
        .await;
        if let Err(e) = cleared {
            log::error!("the failure count of a successful credential was not cleared: {:#}", anyhow::Error::from(e));
        }
    }

    /// Before a registration: an address probing for taken names is locked out.
    pub async fn check_address(&self, pool: &DbPool, clock: &Clock, client: IpAddr) -> ApiResult<()> {
        let (address, now) = (address_key(client), clock.now().naive_utc());
        let found = blocking(pool, move |conn| -> Result<_, CounterError> {
            Ok(failures::read(conn, &[&address], now).context("reading an address's credential failures")?[0])
        })
        .await?;
        refuse_if_locked(found, Refusal::Address)
    }

    /// A failure that is not tied to one name: a registration under a taken name.
    pub async fn address_failed(&self, pool: &DbPool, clock: &Clock, client: IpAddr) {
        let (address, now) = (address_key(client), clock.now().naive_utc());
        let recorded = blocking(pool, move |conn| -> Result<_, CounterError> {
            let lockout = failures::record_failure(conn, &address, now).context("recording an address failure")?;
            Ok((lockout, address))
        })
        .await;
        match recorded {
            Ok((lockout, address)) => log_address_lockout(lockout, &address),
            Err(e) => log_unrecorded(e),
        }
    }

    /// One revocation request from `client`.
    pub fn check_revocation(&self, client: IpAddr) -> Result<(), Refusal> {
        self.revocations.check_key(&client).map_err(|not_until| {
            Refusal::Rate(not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_secs(1)))
        })?;
        // Keep governor's map to the addresses seen recently.
        if self.revocations.len() > REVOCATION_ADDRESSES_KEPT {
            self.revocations.retain_recent();
        }
        Ok(())
    }
}

fn refuse_if_locked(found: Found, refusal: fn(Duration) -> Refusal) -> ApiResult<()> {
    match found {
        Found::Locked(left) => Err(ApiError::TooManyRequests(refusal(left))),
        Found::Nothing | Found::Counting => Ok(()),
    }
}

fn log_address_lockout(lockout: Option<Duration>, address: &Key) {
    if let Some(lockout) = lockout {
        log::warn!("{} locked for {}s after repeated failures across names", address.subject, lockout.as_secs());
    }
}

fn log_unrecorded(e: CounterError) {
    log::error!("a credential failure was not counted: {:#}", anyhow::Error::from(e));
}

fn address_key(client: IpAddr) -> Key {
    Key { scope: ADDRESS_SCOPE, subject: client.to_string(), policy: PER_ADDRESS }
}

/// The counter of `name` from `client`: the address first (it never holds a space), then
/// the name as counted.
fn named_key(kind: Credential, name: &str, client: IpAddr) -> Key {
    let scope = match kind {
        Credential::Login => LOGIN_SCOPE,
        Credential::Client => CLIENT_SCOPE,
    };
    Key { scope, subject: format!("{client} {}", name_key(name)), policy: PER_NAME }
}

/// The name as counted: lower-cased and cut to 64 characters, so case variants count as one
/// and a long junk name cannot grow the table's keys.
fn name_key(raw: &str) -> String {
    raw.trim().chars().take(64).collect::<String>().to_lowercase()
}

/// The address failures are counted against: the TCP peer, or, behind a gateway we run
/// (`TRUST_FORWARDED_FOR`), the last `X-Forwarded-For` entry, which that gateway appended.
pub fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> IpAddr {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get_all("x-forwarded-for").last())
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse().ok());
    forwarded.or_else(|| req.peer_addr().map(|a| a.ip())).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests;
