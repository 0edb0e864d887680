//! The `id_token_hint` of OpenID Connect RP-Initiated Logout (§2, §4): an ID token this
//! server issued to a client, naming the user the client believes is signed in. A valid
//! hint is what lets the end-session endpoint sign the user out without asking, and what
//! names the client whose post-logout URIs apply.
//!
//! Checked: our signature with a published key, our `iss`, the ID token's `typ` (an access
//! token, `at+jwt`, is not a hint), a registered client as `aud`, a user as `sub`. Not
//! checked: `exp`, as the specification asks (an RP's ID token has usually expired by the
//! time its user signs out), and the nonce, which belongs to the sign-in.

use auth_common::token::key_source::KeySource;
use auth_common::token::verifier::MAX_TOKEN_BYTES;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::domain::UserId;
use crate::keys::KeyRing;
use crate::tokens::clients::ClientRegistry;

/// A hint that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    /// The user it was issued about.
    pub user: UserId,
    /// The client it was issued to (`aud`).
    pub client_id: String,
}

/// Why a hint was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintRefused {
    /// Signed by a key no longer published (retired since): it cannot be checked, so it
    /// counts as no hint at all and the user is asked.
    KeyRetired,
    /// Not an ID token of ours: the request is refused, saying why.
    Invalid(&'static str),
}

#[derive(Deserialize)]
struct HintClaims {
    sub: String,
    aud: String,
}

/// Checks `token` against the keys of `keys`, the issuer `issuer` and the clients.
pub async fn check(
    token: &str,
    keys: &KeyRing,
    issuer: &str,
    clients: &ClientRegistry,
) -> Result<IdTokenHint, HintRefused> {
    const NOT_OURS: HintRefused = HintRefused::Invalid("id_token_hint is not an ID token issued here");
    if token.len() > MAX_TOKEN_BYTES {
        return Err(NOT_OURS);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| NOT_OURS)?;
    if header.typ.as_deref() != Some("JWT") || header.alg != Algorithm::RS256 {
        return Err(NOT_OURS);
    }
    let kid = header.kid.ok_or(NOT_OURS)?;
    let key = keys.key(&kid).await.ok_or(HintRefused::KeyRetired)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["iss", "aud", "sub"]);
    validation.set_issuer(&[issuer]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<HintClaims>(token, &key, &validation).map_err(|_| NOT_OURS)?.claims;
    let user = UserId::parse(&claims.sub).ok_or(NOT_OURS)?;
    clients
        .app(&claims.aud)
        .ok_or(HintRefused::Invalid("id_token_hint was issued to a client that is no longer registered"))?;
    Ok(IdTokenHint { user, client_id: claims.aud })
}
