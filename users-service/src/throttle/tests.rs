use std::sync::Arc;

use actix_web::ResponseError;
use auth_common::clock::TestClock;
use auth_common::testing::TestDatabase;
use chrono::{DateTime, TimeDelta};
use diesel::RunQueryDsl;

use super::Credential::{Client, Login};
use super::*;
use crate::db::credential_failures;

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

/// One replica's view of the shared database: its guards, its pool, the shared clock.
struct Replica {
    guards: Guards,
    pool: DbPool,
    clock: Clock,
}

impl Replica {
    fn on(db: &TestDatabase, clock: &TestClock) -> Self {
        Self { guards: Guards::default(), pool: crate::db::connect(&db.url, 2).unwrap(), clock: clock.clock() }
    }

    async fn check(&self, kind: Credential, name: &str, client: IpAddr) -> Result<Attempt, Refusal> {
        self.guards.check(&self.pool, &self.clock, kind, name, client).await.map_err(|e| match e {
            ApiError::TooManyRequests(refusal) => refusal,
            other => panic!("not a refusal: {other:?}"),
        })
    }

    /// A check that must pass, then a failure.
    async fn fail(&self, kind: Credential, name: &str, client: IpAddr) {
        let attempt = self.check(kind, name, client).await.expect("not locked yet");
        self.guards.failed(&self.pool, &self.clock, attempt).await;
    }

    async fn succeed(&self, kind: Credential, name: &str, client: IpAddr) {
        let attempt = self.check(kind, name, client).await.expect("not locked");
        self.guards.succeeded(&self.pool, attempt).await;
    }

    async fn rows(&self) -> i64 {
        let mut conn = self.pool.get().unwrap();
        credential_failures::count(&mut conn).unwrap()
    }
}

/// A database of its own, and a clock on a whole second (PostgreSQL keeps microseconds
/// only), so lockouts read back exactly.
fn setup() -> (TestDatabase, TestClock, Replica) {
    let start = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
    let (db, clock) = (TestDatabase::create("throttle"), TestClock::at(start));
    let replica = Replica::on(&db, &clock);
    (db, clock, replica)
}

#[tokio::test]
async fn an_account_is_locked_from_one_address_only_and_a_success_clears_it() {
    let (_db, _clock, us) = setup();
    for _ in 1..PER_NAME.free_failures {
        us.fail(Login, "Alice", HOME).await;
    }
    us.succeed(Login, "alice", HOME).await;
    for _ in 0..PER_NAME.free_failures {
        us.fail(Login, "ALICE", HOME).await;
    }
    let refusal = us.check(Login, "alice", HOME).await.unwrap_err();
    assert_eq!(refusal, Refusal::Account(PER_NAME.base_lockout), "case variants count as one");
    assert!(us.check(Login, "alice", ELSEWHERE).await.is_ok());
    assert!(us.check(Login, "bob", HOME).await.is_ok());
}

#[tokio::test]
async fn further_failures_double_the_lockout_and_an_old_count_starts_again() {
    let (_db, clock, us) = setup();
    for _ in 0..PER_NAME.free_failures {
        us.fail(Login, "alice", HOME).await;
    }
    assert_eq!(us.check(Login, "alice", HOME).await.unwrap_err(), Refusal::Account(Duration::from_secs(30)));
    clock.advance(Duration::from_secs(10));
    assert_eq!(us.check(Login, "alice", HOME).await.unwrap_err(), Refusal::Account(Duration::from_secs(20)));

    clock.advance(Duration::from_secs(20));
    us.fail(Login, "alice", HOME).await;
    assert_eq!(us.check(Login, "alice", HOME).await.unwrap_err(), Refusal::Account(Duration::from_secs(60)), "doubled");

    // Past the window and the lock: the next failure counts as the first.
    clock.advance(PER_NAME.window);
    us.fail(Login, "alice", HOME).await;
    for _ in 2..PER_NAME.free_failures {
        us.fail(Login, "alice", HOME).await;
    }
    assert!(us.check(Login, "alice", HOME).await.is_ok(), "four failures since the reset");
}

#[tokio::test]
async fn spraying_many_names_from_one_address_locks_the_address() {
    let (_db, _clock, us) = setup();
    for i in 0..PER_ADDRESS.free_failures {
        // A login of the attacker's own does not clear the address's count.
        us.succeed(Login, "mallory", HOME).await;
        us.fail(Login, &format!("user{i}"), HOME).await;
    }
    let refusal = us.check(Login, "someone-new", HOME).await.unwrap_err();
    assert_eq!(refusal, Refusal::Address(PER_ADDRESS.base_lockout));
    assert!(us.check(Client, "posts-service", HOME).await.is_err(), "the address is locked for every credential");
    assert!(us.check(Login, "someone-new", ELSEWHERE).await.is_ok());
}

#[tokio::test]
async fn a_success_clears_the_name_not_the_address_and_writes_only_when_there_was_a_count() {
    let (_db, _clock, us) = setup();
    us.succeed(Login, "alice", HOME).await;
    assert_eq!(us.rows().await, 0, "a login with no failures before it writes nothing");

    us.fail(Login, "alice", HOME).await;
    assert_eq!(us.rows().await, 2, "the name's counter and the address's");
    us.succeed(Login, "alice", HOME).await;
    assert_eq!(us.rows().await, 1, "the address's counter stays");
}

#[tokio::test]
async fn client_secret_failures_lock_that_client_from_that_address() {
    let (_db, _clock, us) = setup();
    for _ in 0..PER_NAME.free_failures {
        us.fail(Client, "posts-service", HOME).await;
    }
    assert!(matches!(us.check(Client, "posts-service", HOME).await, Err(Refusal::Client(_))));
    assert!(us.check(Client, "posts-service", ELSEWHERE).await.is_ok());
    assert!(us.check(Login, "posts-service", HOME).await.is_ok(), "a client lockout is not a user lockout");
}

#[tokio::test]
async fn registrations_under_taken_names_count_against_the_address() {
    let (_db, _clock, us) = setup();
    for _ in 0..PER_ADDRESS.free_failures {
        assert!(us.guards.check_address(&us.pool, &us.clock, HOME).await.is_ok());
        us.guards.address_failed(&us.pool, &us.clock, HOME).await;
    }
    let refused = us.guards.check_address(&us.pool, &us.clock, HOME).await;
    assert!(matches!(refused, Err(ApiError::TooManyRequests(Refusal::Address(_)))));
}

#[tokio::test]
async fn two_replicas_on_one_database_count_into_one_lockout() {
    let (db, clock, first) = setup();
    let second = Replica::on(&db, &clock);
    for i in 0..PER_NAME.free_failures {
        let replica = if i % 2 == 0 { &first } else { &second };
        replica.fail(Login, "alice", HOME).await;
    }
    for (name, replica) in [("first", &first), ("second", &second)] {
        assert!(matches!(replica.check(Login, "alice", HOME).await, Err(Refusal::Account(_))), "{name}");
    }
}

#[tokio::test]
async fn failures_recorded_at_once_on_two_replicas_are_all_counted() {
    let (db, clock, first) = setup();
    let second = Replica::on(&db, &clock);
    let (first, second) = (Arc::new(first), Arc::new(second));
    // All checks first, then every failure at once: none may overwrite another's count.
    let mut attempts = Vec::new();
    for i in 0..PER_ADDRESS.free_failures {
        let replica = if i % 2 == 0 { first.clone() } else { second.clone() };
        let attempt = replica.check(Login, &format!("user{i}"), HOME).await.unwrap();
        attempts.push((replica, attempt));
    }
    let failing = attempts.into_iter().map(|(replica, attempt)| {
        tokio::spawn(async move { replica.guards.failed(&replica.pool, &replica.clock, attempt).await })
    });
    for task in failing.collect::<Vec<_>>() {
        task.await.unwrap();
    }
    assert!(matches!(first.check(Login, "someone-new", HOME).await, Err(Refusal::Address(_))), "20 failures counted");
}

#[tokio::test]
async fn the_sweep_deletes_counters_whose_window_and_lock_have_passed() {
    let (_db, clock, us) = setup();
    us.fail(Login, "alice", HOME).await;
    us.fail(Client, "reports", HOME).await;
    let start = clock.now().naive_utc();
    {
        // A counter locked past its window (as a late failure can leave one).
        let mut conn = us.pool.get().unwrap();
        credential_failures::record_failure(&mut conn, LOGIN_SCOPE, "192.0.2.9 carol", start, start).unwrap();
        credential_failures::lock_until(&mut conn, LOGIN_SCOPE, "192.0.2.9 carol", start + TimeDelta::minutes(20))
            .unwrap();
    }
    clock.advance(Duration::from_secs(14 * 60));
    us.fail(Login, "bob", ELSEWHERE).await;
    assert_eq!(sweep(&us.pool, &us.clock).await.unwrap(), 0, "every window still open");

    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(sweep(&us.pool, &us.clock).await.unwrap(), 3, "alice's, reports' and the address's");
    assert_eq!(us.rows().await, 3, "bob's two counters and carol's lock remain");

    clock.advance(Duration::from_secs(5 * 60));
    assert_eq!(sweep(&us.pool, &us.clock).await.unwrap(), 1, "carol's lock is over");
    clock.advance(PER_NAME.window);
    assert_eq!(sweep(&us.pool, &us.clock).await.unwrap(), 2);
    assert_eq!(us.rows().await, 0);
}

#[tokio::test]
async fn when_the_counts_cannot_be_read_the_attempt_is_refused_with_503() {
    let (_db, _clock, us) = setup();
    let attempt = us.check(Login, "alice", HOME).await.unwrap();
    {
        let mut conn = us.pool.get().unwrap();
        diesel::sql_query("DROP TABLE credential_failures").execute(&mut **conn).unwrap();
    }
    // Recording cannot fail the request: it is logged.
    us.guards.failed(&us.pool, &us.clock, attempt).await;
    let refused = us.guards.check(&us.pool, &us.clock, Login, "alice", HOME).await.unwrap_err();
    assert_eq!(refused.status_code().as_u16(), 503, "{refused:?}");
    let refused = us.guards.check_address(&us.pool, &us.clock, HOME).await.unwrap_err();
    assert_eq!(refused.status_code().as_u16(), 503, "{refused:?}");
}

#[test]
fn revocations_are_rate_limited_per_address() {
    let guards = Guards::default();
    let allowed = (0..100).take_while(|_| guards.check_revocation(HOME).is_ok()).count();
    let burst = REVOCATIONS_PER_MINUTE.get() as usize;
    assert!((burst..=burst + 1).contains(&allowed), "the burst, then refused: {allowed}");
    let refusal = guards.check_revocation(HOME).unwrap_err();
    assert!(matches!(refusal, Refusal::Rate(wait) if wait >= Duration::from_secs(1)));
    assert_eq!(guards.check_revocation(ELSEWHERE), Ok(()));
}

#[test]
fn names_are_counted_case_folded_and_cut_short() {
    assert_eq!(name_key("Alice"), "alice");
    assert_eq!(name_key(&"x".repeat(10_000)).len(), 64);
    assert_eq!(named_key(Login, "Alice", HOME).subject, "192.0.2.1 alice");
}
