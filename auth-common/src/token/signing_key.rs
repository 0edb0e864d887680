//! RSA signing keys: generated, stored as PKCS#8 PEM, named by their RFC 7638 thumbprint.
//!
//! Keys are generated with aws-lc-rs, never with the `rsa` crate, whose private-key
//! operations leak timing (RUSTSEC-2023-0071).

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::token::claims::ACCESS_TOKEN_TYPE;

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM is not an RSA private key in PKCS#8.
    #[error("not an RSA private key in PKCS#8 PEM: {0}")]
    Invalid(String),
    /// The key is smaller than 2048 bits (RFC 7518 §3.3).
    #[error("RSA keys must be at least 2048 bits, this one has {0}")]
    TooSmall(usize),
    /// The crypto library failed.
    #[error("cryptographic failure: {0}")]
    Crypto(String),
}

/// A private RSA key ready to sign RS256 tokens, with its public forms.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    /// Parsed once: jsonwebtoken would parse the DER again for every signature (about a
    /// fifth of the cost of one), so RS256 signs through this instead.
    pair: Arc<KeyPair>,
    encoding: EncodingKey,
    jwk: Jwk,
    public_pem: String,
    private_pem: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("private_pem", &"[redacted]").finish()
    }
}

impl SigningKey {
    /// A fresh 2048-bit key.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let der = pair.as_der().map_err(|e| KeyError::Crypto(e.to_string()))?;
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
        Self::from_pkcs8_pem(&pem)
    }

    /// Reads a PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub fn from_pkcs8_pem(private_pem: &str) -> Result<Self, KeyError> {
        crate::token::install_crypto_provider();
        let parsed = pem::parse(private_pem).map_err(|e| KeyError::Invalid(e.to_string()))?;
        if parsed.tag() != "PRIVATE KEY" {
            return Err(KeyError::Invalid(format!("PEM label is {:?}", parsed.tag())));
        }
        let pair = KeyPair::from_pkcs8(parsed.contents()).map_err(|e| KeyError::Invalid(e.to_string()))?;
        let bits = pair.public_modulus_len() * 8;
        if bits < 2048 {
            return Err(KeyError::TooSmall(bits));
        }
        let spki = pair.public_key().as_der().map_err(|e| KeyError::Crypto(e.to_string()))?;
        let public_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec()));
        let encoding =
            EncodingKey::from_rsa_pem(private_pem.as_bytes()).map_err(|e| KeyError::Invalid(e.to_string()))?;
        let mut jwk =
            Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| KeyError::Crypto(e.to_string()))?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self { kid, pair: Arc::new(pair), encoding, jwk, public_pem, private_pem: private_pem.to_owned() })
    }

    /// The RFC 7638 SHA-256 thumbprint, used as `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (`kty`, `use`, `alg`, `kid`, `n`, `e`; nothing private).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The public key as SPKI PEM (`BEGIN PUBLIC KEY`).
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The private key as PKCS#8 PEM, for writing to the key store only.
    pub fn private_pem(&self) -> &str {
        &self.private_pem
    }

    /// The access-token header this key signs with: RS256, `typ: at+jwt`, its `kid`.
    pub fn access_token_header(&self) -> Header {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.kid.clone());
        header
    }

    /// Signs `claims` as an access token.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        self.sign_with_header(&self.access_token_header(), claims)
    }

    /// Signs `claims` under any header: tests use this to forge tokens.
    ///
    /// RS256 is the JWS of RFC 7515 §5.1 with the pre-parsed key: the same bytes
    /// jsonwebtoken would produce (PKCS#1 v1.5 signatures are deterministic).
    pub fn sign_with_header<T: Serialize>(&self, header: &Header, claims: &T) -> Result<String, KeyError> {
        if header.alg != Algorithm::RS256 {
            return jsonwebtoken::encode(header, claims, &self.encoding).map_err(|e| KeyError::Crypto(e.to_string()));
        }
        let header = serde_json::to_vec(header).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let claims = serde_json::to_vec(claims).map_err(|e| KeyError::Crypto(e.to_string()))?;
        self.sign_rs256(&header, &claims)
    }

    /// The RS256 JWS (compact form) of a header and claims given as their JSON bytes, which
    /// may say anything: `sign_with_header` serializes into it, and tests forge headers
    /// jsonwebtoken's `Header` cannot express.
    pub fn sign_rs256(&self, header_json: &[u8], claims_json: &[u8]) -> Result<String, KeyError> {
        let header = URL_SAFE_NO_PAD.encode(header_json);
        let claims = URL_SAFE_NO_PAD.encode(claims_json);
        let mut message = String::with_capacity(header.len() + claims.len() + 400);
        message.push_str(&header);
        message.push('.');
        message.push_str(&claims);
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), message.as_bytes(), &mut signature)
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        message.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut message);
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::AlgorithmParameters;

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint_of_the_public_key() {
        let key = crate::testing::test_key();
        let AlgorithmParameters::RSA(rsa) = &key.jwk().algorithm else { panic!("not an RSA JWK") };
        let canonical = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, rsa.e, rsa.n);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        assert_eq!(key.kid(), URL_SAFE_NO_PAD.encode(digest.as_ref()));
    }

    #[test]
    fn a_key_survives_a_round_trip_through_its_pem() {
        let key = crate::testing::test_key();
        let again = SigningKey::from_pkcs8_pem(key.private_pem()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(again.public_pem(), key.public_pem());
    }

    #[test]
    fn the_jwk_holds_only_public_members() {
        let value = serde_json::to_value(crate::testing::test_key().jwk()).unwrap();
        let mut members: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
        members.sort();
        assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    }

    #[test]
    fn debug_output_redacts_the_private_key() {
        let shown = format!("{:?}", crate::testing::test_key());
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    }

    #[test]
    fn rs256_signatures_are_byte_for_byte_what_jsonwebtoken_makes() {
        let key = crate::testing::test_key();
        let claims = crate::testing::user_claims("http://issuer.test");
        let ours = key.sign(&claims).unwrap();
        let theirs = jsonwebtoken::encode(&key.access_token_header(), &claims, &key.encoding).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(SigningKey::from_pkcs8_pem("not a pem").is_err());
        let public_only = crate::testing::test_key().public_pem().to_owned();
        assert!(SigningKey::from_pkcs8_pem(&public_only).is_err());
    }
}
