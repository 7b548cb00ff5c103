//! Digests of secrets (so that they are not kept in clear), the PKCE challenge, keyed digests
//! (HMAC-SHA256) for low-entropy secrets and for deriving a rotated refresh token's successor, and
//! constant-time comparison.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// SHA-256 hex digest, used to store high-entropy secrets (refresh tokens, magic-link secrets,
/// authorization codes, nonces) without keeping them in clear. Not for low-entropy secrets such as
/// six-digit passcodes: a million guesses reverse it; use a [`DigestKey`] for those.
pub fn digest_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The PKCE S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The key of a keyed digest (HMAC-SHA256). Its bytes never appear in `Debug`.
#[derive(Clone)]
pub struct DigestKey(aws_lc_rs::hmac::Key);

impl DigestKey {
    /// A key of the bytes of `secret`.
    pub fn from_secret(secret: &str) -> Self {
        Self(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            secret.as_bytes(),
        ))
    }

    /// A new random 256-bit key.
    pub fn random() -> Self {
        Self::from_secret(&crate::base::random::random_secret(32))
    }

    /// HMAC-SHA256 of `secret` under this key, hex.
    pub fn digest_hex(&self, secret: &str) -> String {
        hex(aws_lc_rs::hmac::sign(&self.0, secret.as_bytes()).as_ref())
    }

    /// HMAC-SHA256 of `secret` under this key, base64url without padding.
    pub fn digest_b64(&self, secret: &str) -> String {
        URL_SAFE_NO_PAD.encode(aws_lc_rs::hmac::sign(&self.0, secret.as_bytes()))
    }
}

impl std::fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestKey(..)")
    }
}

/// The refresh token that rotating `presented` issues: HMAC-SHA256 under the app's `key`, so that the
/// reuse grace window can hand the same successor out again without the emulator storing it.
pub fn successor_secret(key: &str, presented: &str) -> String {
    DigestKey::from_secret(key).digest_b64(presented)
}

/// Constant-time string comparison for secrets.
pub fn secret_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc7636_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn keyed_digest_is_rfc4231_hmac_sha256_and_depends_on_the_key() {
        // RFC 4231, test case 2.
        let key = DigestKey::from_secret("Jefe");
        assert_eq!(
            key.digest_hex("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let (a, b) = (DigestKey::random(), DigestKey::random());
        assert_ne!(a.digest_hex("123456"), b.digest_hex("123456"));
        assert_ne!(a.digest_hex("123456"), digest_hex("123456"));
        assert_eq!(format!("{a:?}"), "DigestKey(..)");
    }
}
