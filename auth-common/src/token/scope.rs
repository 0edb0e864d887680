//! Scopes (RFC 6749 §3.3) as parsed values, and which service each one is for.
//!
//! Our scopes read `resource:action` (`posts:write`); the resource names the service the
//! scope belongs to (`posts` → `posts-service`), which is how a service-account token gets
//! an audience that lists only the services its scopes reach. The OpenID Connect scopes
//! ([`OIDC_SCOPES`]: `openid`, `profile`, `email`) are single words, for users-service,
//! whose `/userinfo` they open.

use std::collections::BTreeSet;
use std::fmt;

/// The scopes every registered user gets.
pub const USER_SCOPES: &str = "posts:read posts:write users:read";

/// The OpenID Connect scopes users-service knows (OpenID Connect Core §5.4), which every
/// user may grant a client that is allowed them.
pub const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// One scope token: `resource:action`, each part 1–32 of `[a-z0-9_-]`, or one of
/// [`OIDC_SCOPES`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

/// Why a scope string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope {0:?}: scopes look like `posts:read`, separated by single spaces")]
pub struct ScopeError(String);

impl Scope {
    /// Parses one scope token.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        let valid_part = |p: &str| {
            (1..=32).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        match raw.split_once(':') {
            Some((resource, action)) if valid_part(resource) && valid_part(action) => Ok(Self(raw.to_owned())),
            None if OIDC_SCOPES.contains(&raw) => Ok(Self(raw.to_owned())),
            // Never echo more than a short prefix of what a client sent.
            _ => Err(ScopeError(raw.chars().take(40).collect())),
        }
    }

    /// The scope as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The audience (service name) this scope is for: `posts:read` → `posts-service`; the
    /// OpenID Connect scopes → `users-service`, which answers `/userinfo`.
    pub fn audience(&self) -> String {
        match self.0.split_once(':') {
            Some((resource, _)) => format!("{resource}-service"),
            None => "users-service".to_owned(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scopes, parsed from and printed as a space-separated string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a space-separated list; an empty string is the empty set.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        if raw.is_empty() {
            return Ok(Self::default());
        }
        raw.split(' ').map(Scope::parse).collect::<Result<BTreeSet<_>, _>>().map(Self)
    }

    /// Whether the set holds `scope` exactly (scopes are case-sensitive).
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The audiences these scopes reach, sorted and without repeats.
    pub fn audiences(&self) -> Vec<String> {
        self.0.iter().map(Scope::audience).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// The scopes, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_a_space_separated_list_in_order() {
        let set = ScopeSet::parse("users:read posts:read").unwrap();
        assert_eq!(set.to_string(), "posts:read users:read");
        assert!(set.contains("posts:read"));
    }

    #[test]
    fn refuses_malformed_scopes() {
        for (case, raw) in [
            ("no colon", "admin"),
            ("an OpenID scope in capitals", "OpenID"),
            ("upper case", "POSTS:WRITE"),
            ("double space", "posts:read  users:read"),
            ("trailing space", "posts:read "),
            ("empty action", "posts:"),
            ("two colons", "posts:write:x"),
            ("quote", "posts:\"x"),
        ] {
            assert!(ScopeSet::parse(raw).is_err(), "case {case}: {raw:?} should be refused");
        }
    }

    #[test]
    fn lookalike_scopes_do_not_match() {
        let set = ScopeSet::parse("posts:writex").unwrap();
        assert!(!set.contains("posts:write"));
    }

    #[test]
    fn audiences_follow_the_scope_resource() {
        let set = ScopeSet::parse("users:read posts:read posts:write").unwrap();
        assert_eq!(set.audiences(), vec!["posts-service", "users-service"]);
    }

    #[test]
    fn the_openid_scopes_are_words_for_users_service() {
        let set = ScopeSet::parse("openid profile email posts:read").unwrap();
        assert_eq!(set.audiences(), vec!["posts-service", "users-service"]);
        assert!(set.contains("openid"));
    }

    #[test]
    fn subset_is_checked_scope_by_scope() {
        let all = ScopeSet::parse(USER_SCOPES).unwrap();
        assert!(ScopeSet::parse("posts:read").unwrap().is_subset(&all));
        assert!(!ScopeSet::parse("posts:read admin:all").unwrap().is_subset(&all));
    }
}
