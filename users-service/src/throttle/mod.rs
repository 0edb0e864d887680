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
//! `X-Forwarded-For` (`TRUST_FORWARDED_FOR`). State is in memory, per process: with several
//! replicas each counts on its own, and the gateway's per-address rate limits come first.

mod failures;

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub use failures::{FailureThrottle, Policy};

/// One name from one address: five tries, then 30 s, doubling up to 15 minutes.
const PER_NAME: Policy = Policy {
    free_failures: 5,
    base_lockout: Duration::from_secs(30),
    window: Duration::from_secs(15 * 60),
    max_entries: 100_000,
};

/// One address, across names: twenty failures, then a minute, doubling up to 15 minutes.
const PER_ADDRESS: Policy = Policy {
    free_failures: 20,
    base_lockout: Duration::from_secs(60),
    window: Duration::from_secs(15 * 60),
    max_entries: 100_000,
};

/// Revocation requests per address: a burst of 30, then one every 2 s (30 a minute).
const REVOCATIONS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(30).unwrap();

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
}

/// The failure counts and rate limits of one users-service process.
pub struct Guards {
    accounts: FailureThrottle<(String, IpAddr)>,
    clients: FailureThrottle<(String, IpAddr)>,
    addresses: FailureThrottle<IpAddr>,
    revocations: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for Guards {
    fn default() -> Self {
        Self {
            accounts: FailureThrottle::new(PER_NAME),
            clients: FailureThrottle::new(PER_NAME),
            addresses: FailureThrottle::new(PER_ADDRESS),
            revocations: RateLimiter::keyed(Quota::per_minute(REVOCATIONS_PER_MINUTE)),
        }
    }
}

impl Guards {
    /// Before checking a password or a client secret: is this name, or this address,
    /// locked out?
    pub fn check(&self, kind: Credential, name: &str, client: IpAddr) -> Result<(), Refusal> {
        self.check_address(client)?;
        let refusal = match kind {
            Credential::Login => Refusal::Account,
            Credential::Client => Refusal::Client,
        };
        self.named(kind).check(&(name_key(name), client)).map_err(refusal)
    }

    /// A wrong password or secret, or an unknown or malformed name.
    pub fn failed(&self, kind: Credential, name: &str, client: IpAddr) {
        self.address_failed(client);
        if let Some(lockout) = self.named(kind).record_failure((name_key(name), client)) {
            let what = match kind {
                Credential::Login => "login",
                Credential::Client => "client authentication",
            };
            log::warn!("{what} locked for {}s after repeated failures from {client}", lockout.as_secs());
        }
    }

    /// A success clears the name's count, not the address's.
    pub fn succeeded(&self, kind: Credential, name: &str, client: IpAddr) {
        self.named(kind).record_success(&(name_key(name), client));
    }

    fn named(&self, kind: Credential) -> &FailureThrottle<(String, IpAddr)> {
        match kind {
            Credential::Login => &self.accounts,
            Credential::Client => &self.clients,
        }
    }

    /// Before a registration: an address probing for taken names is locked out.
    pub fn check_address(&self, client: IpAddr) -> Result<(), Refusal> {
        self.addresses.check(&client).map_err(Refusal::Address)
    }

    /// A failure that is not tied to one name: a registration under a taken name.
    pub fn address_failed(&self, client: IpAddr) {
        if let Some(lockout) = self.addresses.record_failure(client) {
            log::warn!("{client} locked for {}s after repeated failures across names", lockout.as_secs());
        }
    }

    /// One revocation request from `client`.
    pub fn check_revocation(&self, client: IpAddr) -> Result<(), Refusal> {
        self.revocations.check_key(&client).map_err(|not_until| {
            Refusal::Rate(not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_secs(1)))
        })?;
        // Keep governor's map to the addresses seen recently.
        if self.revocations.len() > PER_ADDRESS.max_entries {
            self.revocations.retain_recent();
        }
        Ok(())
    }
}

/// The name as counted: lower-cased and cut to 64 characters, so case variants count as one
/// and a long junk name cannot grow the map's keys.
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
