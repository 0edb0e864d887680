//! SHA-256, the one digest of tokens and secrets: the key of the verified-token cache,
//! the stored form of refresh tokens and of client secrets. A fast hash is right for
//! these, unlike for passwords: each holds enough entropy that there is nothing to
//! brute-force.

use aws_lc_rs::digest::{SHA256, digest as aws_digest};

/// The SHA-256 of `data`.
pub fn digest(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_digest(&SHA256, data).as_ref());
    out
}

/// The SHA-256 of `data` in lowercase hex (64 characters).
pub fn hex(data: &[u8]) -> String {
    digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_fips_180_test_vector() {
        assert_eq!(hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(digest(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
