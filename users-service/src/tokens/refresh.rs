//! Refresh tokens: opaque, single use, rotated on every use, stored only as hashes.
//!
//! Each login starts a *family*. Using a token spends it and adds its successor to the
//! family; the family as a whole lives `REFRESH_TOKEN_TTL_SECS` from the login (an
//! absolute lifetime: rotation does not extend it). Presenting a spent token means two
//! parties hold the same chain, one of them an attacker, so the whole family is revoked
//! and both must log in again (RFC 9700 §4.14.2).

use std::fmt;

use auth_common::service::db::QueryContext;
use auth_common::token::scope::ScopeSet;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use diesel::Connection;

use crate::db::models::{NewRefreshToken, RefreshTokenRow, UserRow};
use crate::db::{DbConnection, refresh_tokens, users};
use crate::domain::UserId;
use crate::error::{ApiError, OAuthError};

/// A refresh token as handed to the client: 256 random bits, base64url. Its `Debug` does
/// not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// A fresh token from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, ApiError> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The token, for the response only.
    pub fn into_string(self) -> String {
        self.0
    }

    fn hash(&self) -> String {
        hash(&self.0)
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

/// The stored form of a token: hex SHA-256. A fast hash is right here, unlike for
/// passwords: the token has 256 bits of entropy, so there is nothing to brute-force.
pub fn hash(token: &str) -> String {
    auth_common::token::sha256::hex(token.as_bytes())
}

/// Where a refresh ended.
#[derive(Debug)]
pub struct Rotated {
    /// The token's owner.
    pub user: UserRow,
    /// The scopes of the new access token.
    pub scopes: ScopeSet,
    /// The client the family is bound to.
    pub client_id: String,
    /// The successor token.
    pub refresh_token: RefreshToken,
}

/// Starts a family for a login.
pub fn start_family(
    conn: &mut DbConnection,
    user: UserId,
    client_id: &str,
    scopes: &ScopeSet,
    now: NaiveDateTime,
    ttl_secs: u64,
) -> Result<RefreshToken, ApiError> {
    start_family_named(conn, &new_family_id(), user, client_id, scopes, now, ttl_secs)
}

/// A new family's id, for a caller that must record it (an authorization code does, to
/// revoke the family if the code is presented again).
pub fn new_family_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Starts the family `family` (see [`start_family`]).
pub fn start_family_named(
    conn: &mut DbConnection,
    family: &str,
    user: UserId,
    client_id: &str,
    scopes: &ScopeSet,
    now: NaiveDateTime,
    ttl_secs: u64,
) -> Result<RefreshToken, ApiError> {
    let token = RefreshToken::generate()?;
    let ttl = chrono::Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 1000));
    refresh_tokens::insert(
        conn,
        &NewRefreshToken {
            token_hash: &token.hash(),
            family_id: family,
            user_id: user.get(),
            client_id,
            scope: &scopes.to_string(),
            issued_at: now,
            expires_at: now + ttl,
        },
    )
    .context("storing the first refresh token of a family")?;
    Ok(token)
}

/// What the refresh request asked for beyond the token itself.
#[derive(Debug, Clone, Default)]
pub struct RefreshRequest {
    /// The client that identified itself, if any; it must be the one the token is bound to.
    pub client_id: Option<String>,
    /// A narrower scope, if asked for; it may not exceed the family's.
    pub scope: Option<ScopeSet>,
    /// `REFRESH_TOKEN_IDLE_SECS`: a token unused this long after it was issued is refused
    /// (RFC 9700 §4.14.2), however long its family has left.
    pub max_idle_secs: u64,
}

/// Spends `presented` and returns its successor, or why not. A refusal never spends the
/// token, except that presenting a spent token revokes its whole family.
///
/// `has_secret` says whether a client id names a client with a secret: when no client
/// identified itself (`request.client_id` is `None`), only a token of a client without one
/// (the first-party login, a registered public app) may be refreshed; a confidential
/// client's token needs that client's authentication (RFC 6749 §6, RFC 9700 §4.14.2), and
/// the request is `invalid_client`, the token left unspent.
pub fn rotate(
    conn: &mut DbConnection,
    presented: &str,
    request: &RefreshRequest,
    now: NaiveDateTime,
    has_secret: impl Fn(&str) -> bool,
) -> Result<Rotated, ApiError> {
    let presented_hash = hash(presented);
    let Some(row) = refresh_tokens::find_by_hash(conn, &presented_hash).context("loading a refresh token by hash")?
    else {
        return Err(OAuthError::InvalidGrant("the refresh token is invalid").into());
    };
    if request.client_id.is_none() && has_secret(&row.client_id) {
        return Err(OAuthError::InvalidClient.into());
    }
    check_usable(&row, request, now)?;
    if row.used_at.is_some() {
        return Err(revoke_on_reuse(conn, &row, now));
    }
    // After the reuse check: a spent token is a theft signal however long it lay idle.
    let idle_limit = chrono::Duration::seconds(i64::try_from(request.max_idle_secs).unwrap_or(i64::MAX / 1000));
    if now - row.issued_at >= idle_limit {
        return Err(OAuthError::InvalidGrant("the refresh token went unused for too long; log in again").into());
    }
    let scopes = granted_scopes(&row, request)?;
    let successor = RefreshToken::generate()?;
    let outcome = conn
        .transaction(|conn| {
            // The conditional UPDATE comes first: it takes the write lock before anything else
            // is read, so of two concurrent uses exactly one spends the token.
            if !refresh_tokens::spend(conn, &presented_hash, now)? {
                return Ok(None);
            }
            refresh_tokens::insert(
                conn,
                &NewRefreshToken {
                    token_hash: &successor.hash(),
                    family_id: &row.family_id,
                    user_id: row.user_id,
                    client_id: &row.client_id,
                    scope: &row.scope,
                    issued_at: now,
                    expires_at: row.expires_at,
                },
            )?;
            users::find_by_id(conn, UserId::new(row.user_id))
        })
        .context("spending a refresh token and storing its successor");
    match outcome {
        Ok(Some(user)) => Ok(Rotated { user, scopes, client_id: row.client_id, refresh_token: successor }),
        // Spent by a concurrent request a moment ago: that is reuse too.
        Ok(None) => Err(revoke_on_reuse(conn, &row, now)),
        Err(e) => Err(e.into()),
    }
}

fn check_usable(row: &RefreshTokenRow, request: &RefreshRequest, now: NaiveDateTime) -> Result<(), ApiError> {
    if row.revoked_at.is_some() {
        return Err(OAuthError::InvalidGrant("the refresh token has been revoked; log in again").into());
    }
    if row.expires_at <= now {
        return Err(OAuthError::InvalidGrant("the refresh token has expired; log in again").into());
    }
    if request.client_id.as_deref().is_some_and(|client| client != row.client_id) {
        return Err(OAuthError::InvalidGrant("the refresh token was issued to another client").into());
    }
    Ok(())
}

fn granted_scopes(row: &RefreshTokenRow, request: &RefreshRequest) -> Result<ScopeSet, ApiError> {
    let family = ScopeSet::parse(&row.scope).map_err(|e| anyhow::anyhow!("stored scope is invalid: {e}"))?;
    match &request.scope {
        None => Ok(family),
        Some(asked) if asked.is_subset(&family) && !asked.is_empty() => Ok(asked.clone()),
        Some(_) => {
            Err(OAuthError::InvalidScope("a refresh can only keep or narrow the scope originally granted").into())
        }
    }
}

fn revoke_on_reuse(conn: &mut DbConnection, row: &RefreshTokenRow, now: NaiveDateTime) -> ApiError {
    match refresh_tokens::revoke_family(conn, &row.family_id, now).context("revoking a reused refresh-token family") {
        Ok(revoked) => {
            log::warn!(
                "refresh token reuse detected for user {} (family {}): revoked {revoked} token(s)",
                row.user_id,
                row.family_id
            );
            OAuthError::InvalidGrant("the refresh token has already been used; log in again").into()
        }
        Err(e) => e.into(),
    }
}

/// Revokes the family of `presented` (RFC 7009). Unknown tokens are ignored: the answer
/// must not tell whether a token exists. With `client_id`, only that client's tokens;
/// without, only tokens of clients with no secret (`has_secret` says which have one).
pub fn revoke(
    conn: &mut DbConnection,
    presented: &str,
    client_id: Option<&str>,
    now: NaiveDateTime,
    has_secret: impl Fn(&str) -> bool,
) -> Result<(), ApiError> {
    if let Some(row) =
        refresh_tokens::find_by_hash(conn, &hash(presented)).context("loading a refresh token to revoke")?
        && client_id.map_or(!has_secret(&row.client_id), |client| client == row.client_id)
    {
        refresh_tokens::revoke_family(conn, &row.family_id, now).context("revoking a refresh-token family")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_base64url_and_distinct() {
        let tokens: std::collections::HashSet<String> =
            (0..1000).map(|_| RefreshToken::generate().unwrap().into_string()).collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens.iter().all(|t| t.len() == 43 && !t.contains('.')));
    }

    #[test]
    fn the_stored_hash_is_hex_sha256() {
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
