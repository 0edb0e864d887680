use std::fmt;

use crate::error::ApiError;

/// A username: 3–32 of `[a-z0-9_.-]`. Input is lower-cased first, so `Alice` and `alice`
/// are the same user, and the database's UNIQUE constraint is case-insensitive for free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses and normalises a username.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let name = raw.to_ascii_lowercase();
        let length_ok = (3..=32).contains(&name.len());
        let chars_ok = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if length_ok && chars_ok {
            Ok(Self(name))
        } else {
            Err(ApiError::Validation("username must be 3 to 32 characters of a-z, 0-9, `_`, `.` or `-`".to_owned()))
        }
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names_and_lowercases_them() {
        assert_eq!(Username::parse("Alice_01").unwrap().as_str(), "alice_01");
        assert!(Username::parse("a.b-c").is_ok());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn refuses_invalid_names() {
        for (case, raw) in [
            ("empty", ""),
            ("too short", "ab"),
            ("too long", &"a".repeat(33)),
            ("space", "al ice"),
            ("NUL byte", "ali\0ce"),
            ("newline", "alice\n"),
            ("non-ASCII", "álice"),
            ("slash", "al/ice"),
        ] {
            assert!(Username::parse(raw).is_err(), "case {case} was accepted");
        }
    }
}
