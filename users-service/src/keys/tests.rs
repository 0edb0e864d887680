use chrono::Duration;

use super::*;

fn base() -> DateTime<Utc> {
    DateTime::from_timestamp(1_000_000, 0).unwrap()
}

fn stored(state: KeyState, activates: Option<i64>, retires: Option<i64>, created: i64) -> StoredKey {
    let key = SigningKey::generate().unwrap();
    StoredKey {
        record: KeyRecord {
            kid: key.kid().to_owned(),
            state,
            created_at: base() + Duration::seconds(created),
            activates_at: activates.map(|s| base() + Duration::seconds(s)),
            retires_at: retires.map(|s| base() + Duration::seconds(s)),
        },
        key,
    }
}

#[test]
fn a_pending_key_signs_once_its_time_has_come_and_the_old_key_stays_published() {
    let old = stored(KeyState::Active, Some(0), Some(500), 0);
    let new = stored(KeyState::Pending, Some(100), None, 50);
    let keys = [old.clone(), new.clone()];
    let records = [old.record.clone(), new.record.clone()];
    let before = KeySet::at(&keys, base() + Duration::seconds(99)).unwrap();
    assert_eq!(before.signer.kid(), old.key.kid());
    assert_eq!(before.jwks.keys.len(), 2, "the pending key is published before it signs");
    assert_eq!(effective_state(&records, &new.record, base() + Duration::seconds(99)), KeyState::Pending);
    let after = KeySet::at(&keys, base() + Duration::seconds(100)).unwrap();
    assert_eq!(after.signer.kid(), new.key.kid());
    assert_eq!(after.jwks.keys.len(), 2, "the old key stays until it retires");
    assert_eq!(effective_state(&records, &old.record, base() + Duration::seconds(100)), KeyState::Retiring);
    let later = KeySet::at(&keys, base() + Duration::seconds(500)).unwrap();
    assert_eq!(later.jwks.keys.len(), 1);
    assert_eq!(effective_state(&records, &old.record, base() + Duration::seconds(500)), KeyState::Retired);
}

#[test]
fn a_set_with_no_possible_signer_is_refused() {
    let pending = stored(KeyState::Pending, Some(100), None, 0);
    assert!(KeySet::at(&[pending], base()).is_err());
}

#[test]
fn the_next_transition_is_the_earliest_future_time() {
    let keys = [stored(KeyState::Active, Some(0), Some(500), 0), stored(KeyState::Pending, Some(100), None, 50)];
    assert_eq!(next_transition(&keys, base() + Duration::seconds(10)), Some(base() + Duration::seconds(100)));
    assert_eq!(next_transition(&keys, base() + Duration::seconds(100)), Some(base() + Duration::seconds(500)));
    assert_eq!(next_transition(&keys, base() + Duration::seconds(500)), None);
}
