use std::fmt;
use std::sync::LazyLock;

use crate::error::ApiError;

/// A password of 8 to 128 characters (any Unicode; NIST SP 800-63B), not one of the most
/// common passwords. Never truncated, never case-folded, never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the length of a new password.
    pub fn parse(raw: String) -> Result<Self, ApiError> {
        let chars = raw.chars().count();
        if !(8..=128).contains(&chars) {
            return Err(ApiError::Validation("password must be 8 to 128 characters".to_owned()));
        }
        if is_common(&raw) {
            return Err(ApiError::Validation(
                "that password is among the most commonly used ones, which attackers try first; choose another"
                    .to_owned(),
            ));
        }
        Ok(Self(raw))
    }

    /// A password presented at login. Not held to the length rule (a rule change must not
    /// lock anyone out), but capped so an oversize one never reaches the hash function.
    pub fn presented(raw: String) -> Option<Self> {
        (raw.len() <= 1024).then_some(Self(raw))
    }

    /// The secret itself, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Whether `password`, case aside, is on the common-password list (ASVS 5.0 6.2.4). No
/// composition rules beyond this and the length (NIST SP 800-63B §3.1.1.2).
fn is_common(password: &str) -> bool {
    static LIST: LazyLock<Vec<&'static str>> =
        LazyLock::new(|| include_str!("common_passwords.txt").lines().filter(|line| !line.starts_with('#')).collect());
    LIST.binary_search(&password.to_lowercase().as_str()).is_ok()
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(Password::parse("🔑".repeat(8)).is_ok());
        assert!(Password::parse("🔑".repeat(128)).is_ok());
        assert!(Password::parse("🔑".repeat(129)).is_err());
        assert!(Password::parse("short77".to_owned()).is_err());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in ["password1234", "Password123", "QWERTY123", "iloveyou", "11111111", "passw0rd"] {
            assert!(Password::parse(common.to_owned()).is_err(), "{common} was accepted");
        }
        for fine in ["correct horse battery", "Winter in Reykjavik 2026", "q8Zr2LxV0pKs"] {
            assert!(Password::parse(fine.to_owned()).is_ok(), "{fine} was refused");
        }
    }

    #[test]
    fn the_list_is_sorted_so_binary_search_finds_every_entry() {
        let list: Vec<&str> = include_str!("common_passwords.txt").lines().filter(|l| !l.starts_with('#')).collect();
        assert!(list.len() > 5000);
        assert!(list.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn debug_output_redacts_the_password() {
        assert!(!format!("{:?}", Password::parse("hunter2hunter2".to_owned()).unwrap()).contains("hunter2"));
    }
}
