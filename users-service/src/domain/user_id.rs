//! User ids: one, as a path names it, or a batch, as `GET /users?ids=` lists them.

use crate::error::ApiError;

/// A user id: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(i64);

impl UserId {
    /// Wraps an id that came from the database or a verified token.
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    /// Parses a decimal id; anything else is not an id we could have issued.
    pub fn parse(raw: &str) -> Option<Self> {
        auth_common::service::positive_id::parse(raw).map(Self)
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// The `ids` of a batch lookup: 1 to 100 distinct ids, comma-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIds(Vec<UserId>);

impl UserIds {
    /// The most ids one request may ask for.
    pub const MAX: usize = 100;

    /// Parses `1,2,3`; repeats are dropped.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut ids = Vec::new();
        for part in raw.split(',') {
            let id = UserId::parse(part.trim()).ok_or_else(|| {
                ApiError::BadRequest("ids must be a comma-separated list of positive integers".to_owned())
            })?;
            if !ids.contains(&id) {
                ids.push(id);
            }
            if ids.len() > Self::MAX {
                return Err(ApiError::BadRequest(format!("ask for at most {} ids at once", Self::MAX)));
            }
        }
        Ok(Self(ids))
    }

    /// The ids as numbers.
    pub fn values(&self) -> Vec<i64> {
        self.0.iter().map(|id| id.get()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_drops_repeats() {
        assert_eq!(UserIds::parse("3,1,3").unwrap().values(), vec![3, 1]);
        assert_eq!(UserIds::parse(" 7 ").unwrap().values(), vec![7]);
    }

    #[test]
    fn refuses_bad_lists() {
        let too_many = (1..=101).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        for (case, raw) in [
            ("empty", ""),
            ("letters", "a,b"),
            ("zero", "0"),
            ("negative", "-1"),
            ("plus sign", "+1"),
            ("trailing comma", "1,"),
            ("overflow", "99999999999999999999"),
            ("101 ids", too_many.as_str()),
        ] {
            assert!(UserIds::parse(raw).is_err(), "case {case} was accepted");
        }
        let hundred = (1..=100).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(UserIds::parse(&hundred).unwrap().values().len(), 100);
    }
}
