use std::fmt;

use crate::error::ApiError;

/// A password of 8 to 128 characters (any Unicode; NIST SP 800-63B). Never truncated,
/// never case-folded, never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the length of a new password.
    pub fn parse(raw: String) -> Result<Self, ApiError> {
        let chars = raw.chars().count();
        if (8..=128).contains(&chars) {
            Ok(Self(raw))
        } else {
            Err(ApiError::Validation("password must be 8 to 128 characters".to_owned()))
        }
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
    fn debug_output_redacts_the_password() {
        assert!(!format!("{:?}", Password::parse("hunter2hunter2".to_owned()).unwrap()).contains("hunter2"));
    }
}
