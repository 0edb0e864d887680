//! Authorization codes (RFC 6749 §4.1) with PKCE (RFC 7636, `S256` only, as RFC 9700
//! §2.1.1 recommends): 256 random bits, stored as SHA-256 only, single use, bound to the
//! client, the redirect URI and the code challenge, living [`CODE_TTL_SECS`]. A code
//! presented a second time is refused and the refresh-token family its first use started
//! is revoked (RFC 6749 §4.1.2): whoever holds it now may be an attacker.

use auth_common::service::db::QueryContext;
use auth_common::token::scope::ScopeSet;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::models::UserRow;
use crate::db::schema::authorization_codes::dsl;
use crate::db::{refresh_tokens, users};
use crate::domain::UserId;
use crate::error::{ApiError, OAuthError};
use crate::tokens::refresh::{self, RefreshToken};

/// How long a code lives (RFC 6749 §4.1.2 recommends at most 10 minutes; a browser
/// redirect takes a second).
pub const CODE_TTL_SECS: i64 = 60;

/// A PKCE code challenge: base64url of a SHA-256, 43 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// The challenge, if `method` is `S256` and `value` is one; `plain` is refused.
    pub fn parse(value: Option<&str>, method: Option<&str>) -> Result<Self, &'static str> {
        let value = value.ok_or("code_challenge is required (PKCE with S256)")?;
        match method {
            Some("S256") => {}
            Some("plain") => return Err("code_challenge_method plain is not allowed: use S256"),
            None => return Err("code_challenge_method is required and must be S256"),
            Some(_) => return Err("code_challenge_method must be S256"),
        }
        let decoded = URL_SAFE_NO_PAD.decode(value).map_err(|_| "code_challenge is not base64url")?;
        if value.len() != 43 || decoded.len() != 32 {
            return Err("code_challenge must be the base64url SHA-256 of the verifier (43 characters)");
        }
        Ok(Self(value.to_owned()))
    }

    /// The challenge as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` (RFC 7636 §4.1: 43–128 unreserved characters) hashes to it.
    pub fn verifies(&self, verifier: &str) -> bool {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        let digest = URL_SAFE_NO_PAD.encode(auth_common::token::sha256::digest(verifier.as_bytes()));
        #[allow(deprecated)]
        let same = aws_lc_rs::constant_time::verify_slices_are_equal(digest.as_bytes(), self.0.as_bytes()).is_ok();
        well_formed && same
    }
}

/// What a code was issued for.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub client_id: &'a str,
    pub user: UserId,
    pub redirect_uri: &'a str,
    pub scopes: &'a ScopeSet,
    pub challenge: &'a CodeChallenge,
    /// OpenID Connect: the client's nonce, for the ID token.
    pub nonce: Option<&'a str>,
    /// When the user proved who they are.
    pub auth_time: NaiveDateTime,
}

/// Stores a new code for `grant`; the code, for the redirect only.
pub fn issue(conn: &mut DbConnection, grant: &Grant<'_>, now: NaiveDateTime) -> Result<String, ApiError> {
    let code = RefreshToken::generate()?.into_string();
    diesel::insert_into(dsl::authorization_codes)
        .values((
            dsl::code_hash.eq(refresh::hash(&code)),
            dsl::client_id.eq(grant.client_id),
            dsl::user_id.eq(grant.user.get()),
            dsl::redirect_uri.eq(grant.redirect_uri),
            dsl::scope.eq(grant.scopes.to_string()),
            dsl::code_challenge.eq(&grant.challenge.0),
            dsl::nonce.eq(grant.nonce),
            dsl::auth_time.eq(grant.auth_time),
            dsl::issued_at.eq(now),
            dsl::expires_at.eq(now + chrono::Duration::seconds(CODE_TTL_SECS)),
        ))
        .execute(conn)
        .context("storing an authorization code")?;
    Ok(code)
}

/// What the token request presents with a code.
#[derive(Debug, Clone)]
pub struct Redemption<'a> {
    pub code: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub verifier: Option<&'a str>,
}

/// A redeemed code: whose it was, what it grants, and the refresh token of the new family.
#[derive(Debug)]
pub struct Redeemed {
    pub user: UserRow,
    pub scopes: ScopeSet,
    pub refresh_token: RefreshToken,
    /// The nonce the authorization request carried.
    pub nonce: Option<String>,
    /// When the user signed in.
    pub auth_time: NaiveDateTime,
}

type CodeRow = (
    (String, i64, String, String, String),
    (NaiveDateTime, Option<NaiveDateTime>, Option<String>, Option<String>, NaiveDateTime),
);

/// Spends the code and starts a refresh-token family, or says why not (`invalid_grant`,
/// one description per reason; never whether the code exists for another client).
pub fn redeem(
    conn: &mut DbConnection,
    presented: &Redemption<'_>,
    now: NaiveDateTime,
    refresh_ttl_secs: u64,
) -> Result<Redeemed, ApiError> {
    let hash = refresh::hash(presented.code);
    let row: Option<CodeRow> = dsl::authorization_codes
        .filter(dsl::code_hash.eq(&hash))
        .select((
            (dsl::client_id, dsl::user_id, dsl::redirect_uri, dsl::scope, dsl::code_challenge),
            (dsl::expires_at, dsl::used_at, dsl::family_id, dsl::nonce, dsl::auth_time),
        ))
        .first(conn)
        .optional()
        .context("loading an authorization code")?;
    let invalid = |why| ApiError::from(OAuthError::InvalidGrant(why));
    let Some((
        (client_id, user_id, redirect_uri, scope, challenge),
        (expires_at, used_at, family_id, nonce, auth_time),
    )) = row
    else {
        return Err(invalid("the authorization code is invalid"));
    };
    if client_id != presented.client_id {
        return Err(invalid("the authorization code is invalid"));
    }
    if used_at.is_some() {
        if let Some(family) = family_id {
            let revoked =
                refresh_tokens::revoke_family(conn, &family, now).context("revoking a reused code's tokens")?;
            log::warn!("authorization code reused (client {client_id}, user {user_id}): revoked {revoked} token(s)");
        }
        return Err(invalid("the authorization code has already been used"));
    }
    if expires_at <= now {
        return Err(invalid("the authorization code has expired"));
    }
    if presented.redirect_uri != Some(redirect_uri.as_str()) {
        return Err(invalid("redirect_uri must be the one the code was issued for"));
    }
    let verifier = presented.verifier.ok_or(OAuthError::InvalidRequest("code_verifier is required"))?;
    if !CodeChallenge(challenge).verifies(verifier) {
        return Err(invalid("code_verifier does not match the code_challenge"));
    }
    let scopes = ScopeSet::parse(&scope).map_err(|e| anyhow::anyhow!("stored scope is invalid: {e}"))?;
    let family = refresh::new_family_id();
    let outcome = conn
        .transaction(|tx| {
            // The conditional UPDATE first: of two concurrent redemptions exactly one spends it.
            let spent = diesel::update(
                dsl::authorization_codes.filter(dsl::code_hash.eq(&hash)).filter(dsl::used_at.is_null()),
            )
            .set((dsl::used_at.eq(now), dsl::family_id.eq(&family)))
            .execute(tx)?;
            if spent != 1 {
                return Ok(None);
            }
            users::find_by_id(tx, UserId::new(user_id)).map(Some)
        })
        .context("spending an authorization code");
    let user = match outcome? {
        Some(Some(user)) => user,
        Some(None) => return Err(invalid("the account the code was issued for no longer exists")),
        None => return Err(invalid("the authorization code has already been used")),
    };
    let refresh_token =
        refresh::start_family_named(conn, &family, UserId::new(user.id), &client_id, &scopes, now, refresh_ttl_secs)?;
    Ok(Redeemed { user, scopes, refresh_token, nonce, auth_time })
}

/// Deletes codes that expired over an hour ago (kept that long so a late replay is still
/// recognised as reuse). Returns how many.
pub fn sweep(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(dsl::authorization_codes.filter(dsl::expires_at.lt(now - chrono::Duration::hours(1)))).execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_7636_example_verifies_and_nothing_else_does() {
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        assert!(challenge.verifies(VERIFIER));
        assert!(!challenge.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"));
        assert!(!challenge.verifies(CHALLENGE));
        assert!(!challenge.verifies(""));
    }

    #[test]
    fn only_s256_challenges_parse() {
        assert!(CodeChallenge::parse(Some(CHALLENGE), Some("plain")).unwrap_err().contains("plain"));
        assert!(CodeChallenge::parse(Some(CHALLENGE), None).is_err());
        assert!(CodeChallenge::parse(None, Some("S256")).is_err());
        assert!(CodeChallenge::parse(Some("short"), Some("S256")).is_err());
        assert!(CodeChallenge::parse(Some(VERIFIER), Some("S256")).is_ok(), "43 base64url characters of 32 bytes");
    }

    #[test]
    fn codes_are_swept_an_hour_after_they_expire_not_before() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::connect(dir.path().join("codes.db").to_str().unwrap(), 1).unwrap();
        let conn = &mut pool.get().unwrap();
        let now = chrono::Utc::now().naive_utc();
        let user = users::insert(
            conn,
            &crate::db::models::NewUser {
                username: "alice",
                email: "a@example.com",
                password_hash: "x",
                created_at: now,
            },
        )
        .unwrap();
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        let scopes = ScopeSet::parse("posts:read").unwrap();
        let grant = Grant {
            client_id: "app",
            user: UserId::new(user.id),
            redirect_uri: "http://localhost/cb",
            scopes: &scopes,
            challenge: &challenge,
            nonce: None,
            auth_time: now,
        };
        issue(conn, &grant, now).unwrap();
        assert_eq!(sweep(conn, now + chrono::Duration::minutes(30)).unwrap(), 0, "a replay is still recognised");
        assert_eq!(sweep(conn, now + chrono::Duration::minutes(62)).unwrap(), 1);
    }
}
