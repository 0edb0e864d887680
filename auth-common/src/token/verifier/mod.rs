//! Access-token verification: RS256 only, every claim checked, nothing taken from the token
//! itself to decide how to verify it.
//!
//! jsonwebtoken checks the signature, the claims' shape and that the required claims are
//! present. The time checks (`exp`, `nbf`, `iat`, the longest lifetime) read the
//! verifier's [`Clock`] rather than the system clock jsonwebtoken would read, so they are
//! made here, as are `iss` and `aud` (after the time checks, in the order jsonwebtoken
//! makes them, so a token with several faults is refused for the same reason it always
//! was), `typ`, `crit` and the rest the crate never looks at.

mod verified_cache;

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};

use crate::clock::Clock;
use crate::token::claims::{ACCESS_TOKEN_TYPE, AccessClaims};
use crate::token::key_source::KeySource;
use crate::token::reject_reason::RejectReason;
use crate::token::scope::ScopeSet;
use verified_cache::VerifiedCache;

/// Tokens longer than this are refused before any parsing: ours are under 1 KiB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// `kid`s longer than this are refused without a key lookup (ours are 43 characters).
const MAX_KID_BYTES: usize = 128;

/// What a verifier accepts.
#[derive(Debug, Clone)]
pub struct VerifierSettings {
    /// The only accepted `iss`, byte for byte.
    pub issuer: String,
    /// This service's name; a token is accepted only if its `aud` holds it.
    pub audience: String,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: u64,
    /// How many verified tokens to remember (`JWT_CACHE_ENTRIES`; 0 turns the cache off).
    pub cache_entries: usize,
    /// The longest lifetime accepted (`JWT_MAX_LIFETIME_SECS`): `exp − iat` may not exceed
    /// it. A token minted with a far `exp` (a leaked key, a misconfigured
    /// issuer) is refused rather than trusted for days (Envoy's lifetime constraint).
    pub max_lifetime_secs: u64,
}

/// A token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// Its claims.
    pub claims: AccessClaims,
    /// Its `scope` claim, parsed.
    pub scopes: ScopeSet,
}

/// Verifies access tokens against a [`KeySource`].
pub struct Verifier {
    settings: VerifierSettings,
    validation: Validation,
    keys: Arc<dyn KeySource>,
    cache: VerifiedCache,
    clock: Clock,
    /// `settings.leeway_secs` and `settings.max_lifetime_secs` as the claims count time,
    /// converted once.
    leeway: i64,
    max_lifetime: i64,
}

impl Verifier {
    /// A verifier for `settings` that trusts the keys of `keys` and tells the time by `clock`.
    pub fn new(settings: VerifierSettings, keys: Arc<dyn KeySource>, clock: Clock) -> Self {
        crate::token::install_crypto_provider();
        let mut validation = Validation::new(Algorithm::RS256);
        // Present and well-typed; their values are checked in `check_time` and
        // `check_issuer_and_audience`, against our clock.
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let cache = VerifiedCache::new(settings.cache_entries);
        let leeway = i64::try_from(settings.leeway_secs).unwrap_or(0);
        let max_lifetime = i64::try_from(settings.max_lifetime_secs).unwrap_or(i64::MAX);
        Self { settings, validation, keys, cache, clock, leeway, max_lifetime }
    }

    /// The settings this verifier enforces.
    pub fn settings(&self) -> &VerifierSettings {
        &self.settings
    }

    /// Verifies `token` and returns its claims, or why it was refused.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, RejectReason> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(RejectReason::Malformed);
        }
        // With the cache off (`JWT_CACHE_ENTRIES=0`), not even the digest is computed.
        let digest = self.cache.is_enabled().then(|| VerifiedCache::digest(token));
        let generation = self.keys.generation();
        // One reading: the cache, every time check and the cache entry judge one instant.
        let now = self.clock.unix_now();
        if let Some(digest) = &digest
            && let Some(hit) = self.cache.get(digest, generation, now)
            && self.keys.key(&hit.kid).await.is_some()
        {
            return Ok(hit.verified);
        }
        let verified = self.verify_uncached(token, now).await?;
        if let (Some(digest), Some(kid)) = (digest, &verified.kid) {
            self.cache.insert(digest, &verified.token, kid, generation, self.leeway, now);
        }
        Ok(verified.token)
    }

    /// Every check, with the RSA signature verification.
    async fn verify_uncached(&self, token: &str, now: i64) -> Result<Uncached, RejectReason> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| RejectReason::Malformed)?;
        check_header(&header)?;
        let kid = header.kid.as_deref().ok_or(RejectReason::UnknownKid)?;
        if kid.is_empty() || kid.len() > MAX_KID_BYTES {
            return Err(RejectReason::UnknownKid);
        }
        let key = self.keys.key(kid).await.ok_or(RejectReason::UnknownKid)?;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key, &self.validation)
            .map_err(|e| reason_for(e.kind()))?
            .claims;
        self.check_time(&claims, now)?;
        self.check_issuer_and_audience(&claims)?;
        self.check_claims(&claims, now)?;
        let scopes = ScopeSet::parse(&claims.scope).map_err(|_| RejectReason::Malformed)?;
        Ok(Uncached { token: VerifiedToken { claims, scopes }, kid: header.kid })
    }

    /// `exp` and `nbf` at `now`, with jsonwebtoken's leeway semantics: expired once
    /// `exp < now − leeway`, not yet valid while `nbf > now + leeway`.
    fn check_time(&self, claims: &AccessClaims, now: i64) -> Result<(), RejectReason> {
        if claims.exp < now.saturating_sub(self.leeway) {
            return Err(RejectReason::Expired);
        }
        if claims.nbf > now.saturating_add(self.leeway) {
            return Err(RejectReason::NotYetValid);
        }
        Ok(())
    }

    /// `iss` byte for byte; `aud` must hold this service (a lone string counts as a
    /// one-element array).
    fn check_issuer_and_audience(&self, claims: &AccessClaims) -> Result<(), RejectReason> {
        if claims.iss != self.settings.issuer {
            return Err(RejectReason::WrongIssuer);
        }
        if !claims.aud.contains(&self.settings.audience) {
            return Err(RejectReason::WrongAudience);
        }
        Ok(())
    }

    /// The checks jsonwebtoken has no setting for.
    fn check_claims(&self, claims: &AccessClaims, now: i64) -> Result<(), RejectReason> {
        if claims.sub.is_empty() || claims.jti.is_empty() || claims.client_id.is_empty() {
            return Err(RejectReason::Malformed);
        }
        if claims.iat > now.saturating_add(self.leeway) {
            return Err(RejectReason::NotYetValid);
        }
        // With `iat` no later than now + leeway, this also bounds `exp − now`.
        if claims.exp.saturating_sub(claims.iat) > self.max_lifetime {
            return Err(RejectReason::LifetimeTooLong);
        }
        Ok(())
    }
}

/// A fresh verification and the `kid` it used.
struct Uncached {
    token: VerifiedToken,
    kid: Option<String>,
}

/// Header checks, before any key is looked up.
fn check_header(header: &Header) -> Result<(), RejectReason> {
    if header.alg != Algorithm::RS256 {
        return Err(RejectReason::BadSignature);
    }
    // RFC 9068 §4: only at+jwt; media types compare case-insensitively (RFC 7515 §4.1.9).
    let typ_ok = header.typ.as_deref().is_some_and(|typ| {
        typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || typ.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(RejectReason::WrongType);
    }
    // We understand no critical extension (RFC 7515 §4.1.11), and never take key material
    // or key locations from the token itself (RFC 8725 §3.10): refuse them outright.
    if header.crit.is_some()
        || header.jku.is_some()
        || header.jwk.is_some()
        || header.x5u.is_some()
        || header.x5c.is_some()
    {
        return Err(RejectReason::Malformed);
    }
    Ok(())
}

/// What jsonwebtoken can still refuse: it checks no time, issuer or audience here (the
/// verifier does, in `check_time` and `check_issuer_and_audience`), so its refusals are a
/// bad signature or a token that does not parse.
fn reason_for(kind: &ErrorKind) -> RejectReason {
    match kind {
        ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm | ErrorKind::InvalidKeyFormat => {
            RejectReason::BadSignature
        }
        _ => RejectReason::Malformed,
    }
}

#[cfg(test)]
mod tests;
