use crate::error::ApiError;

/// A plausible email address: one `@`, a non-empty local part, a dotted domain, no spaces
/// or control characters, 254 characters at most (RFC 5321). Deliverability is not our
/// business; catching typos like a missing `@` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::Validation("email must be an address like name@example.com".to_owned());
        if raw.len() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = raw.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plausible_addresses() {
        assert!(Email::parse("alice@example.com").is_ok());
        assert!(Email::parse("a.b+tag@mail.example.org").is_ok());
    }

    #[test]
    fn refuses_implausible_addresses() {
        for raw in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a@b@example.com",
            "a b@example.com",
            "alice@.com",
            "alice@example..com",
            "a\0@example.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
