use super::Credential::{Client, Login};
use super::*;

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

#[test]
fn an_account_is_locked_from_one_address_only_and_a_success_clears_it() {
    let guards = Guards::default();
    for _ in 1..PER_NAME.free_failures {
        guards.failed(Login, "Alice", HOME);
    }
    guards.succeeded(Login, "alice", HOME);
    for _ in 0..PER_NAME.free_failures {
        guards.failed(Login, "ALICE", HOME);
    }
    assert!(matches!(guards.check(Login, "alice", HOME), Err(Refusal::Account(_))), "case variants count as one");
    assert_eq!(guards.check(Login, "alice", ELSEWHERE), Ok(()));
    assert_eq!(guards.check(Login, "bob", HOME), Ok(()));
}

#[test]
fn spraying_many_names_from_one_address_locks_the_address() {
    let guards = Guards::default();
    for i in 0..PER_ADDRESS.free_failures {
        assert!(guards.check(Login, &format!("user{i}"), HOME).is_ok(), "attempt {i}");
        guards.failed(Login, &format!("user{i}"), HOME);
        // A login of the attacker's own does not clear the address's count.
        guards.succeeded(Login, "mallory", HOME);
    }
    let refusal = guards.check(Login, "someone-new", HOME).unwrap_err();
    assert_eq!(refusal, Refusal::Address(refusal.retry_after()));
    assert!(refusal.retry_after() > Duration::from_secs(50));
    assert!(guards.check(Client, "posts-service", HOME).is_err(), "the address is locked for every credential");
    assert_eq!(guards.check(Login, "someone-new", ELSEWHERE), Ok(()));
}

#[test]
fn client_secret_failures_lock_that_client_from_that_address() {
    let guards = Guards::default();
    for _ in 0..PER_NAME.free_failures {
        guards.failed(Client, "posts-service", HOME);
    }
    assert!(matches!(guards.check(Client, "posts-service", HOME), Err(Refusal::Client(_))));
    assert_eq!(guards.check(Client, "posts-service", ELSEWHERE), Ok(()));
    assert_eq!(guards.check(Login, "posts-service", HOME), Ok(()), "a client lockout is not a user lockout");
}

#[test]
fn registrations_under_taken_names_count_against_the_address() {
    let guards = Guards::default();
    for _ in 0..PER_ADDRESS.free_failures {
        assert_eq!(guards.check_address(HOME), Ok(()));
        guards.address_failed(HOME);
    }
    assert!(matches!(guards.check_address(HOME), Err(Refusal::Address(_))));
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
}
