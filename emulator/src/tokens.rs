//! Signing keys, RS256 auth tokens (JWTs), the JWKS, and opaque refresh-token secrets.

use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One RSA signing key of an app, as stored (and snapshotted).
#[derive(Clone, Serialize, Deserialize)]
pub struct SigningKey {
    /// Key id, put in token headers and the JWKS.
    pub kid: String,
    /// PKCS#1 DER of the private key, base64.
    private_der_b64: String,
    /// Modulus, base64url.
    pub n: String,
    /// Public exponent, base64url.
    pub e: String,
    /// Emulator time when the key was retired by a rotation.
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

static DEFAULT_KEY: OnceLock<RsaPrivateKey> = OnceLock::new();

impl SigningKey {
    /// The process-wide default key (generated once; generation is slow in debug builds).
    pub fn default_key() -> anyhow::Result<Self> {
        let key = match DEFAULT_KEY.get() {
            Some(k) => k,
            None => {
                let generated = generate()?;
                DEFAULT_KEY.get_or_init(|| generated)
            }
        };
        Self::from_private(key)
    }

    /// A freshly generated 2048-bit key.
    pub fn generate() -> anyhow::Result<Self> {
        Self::from_private(&generate()?)
    }

    fn from_private(key: &RsaPrivateKey) -> anyhow::Result<Self> {
        let der = key.to_pkcs1_der()?;
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let digest = Sha256::digest(n.as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..12]);
        Ok(Self {
            kid,
            private_der_b64: STANDARD.encode(der.as_bytes()),
            n,
            e,
            retired_at: None,
        })
    }

    /// Base64 of the PEM public key (`App.rsa_public_key`).
    pub fn public_pem_b64(&self) -> String {
        let pem = self
            .private()
            .ok()
            .and_then(|k| {
                k.to_public_key()
                    .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
                    .ok()
            })
            .unwrap_or_default();
        STANDARD.encode(pem.as_bytes())
    }

    fn private(&self) -> anyhow::Result<RsaPrivateKey> {
        let der = STANDARD.decode(&self.private_der_b64)?;
        Ok(RsaPrivateKey::from_pkcs1_der(&der)?)
    }

    fn encoding_key(&self) -> anyhow::Result<EncodingKey> {
        let der = STANDARD.decode(&self.private_der_b64)?;
        Ok(EncodingKey::from_rsa_der(&der))
    }

    fn decoding_key(&self) -> anyhow::Result<DecodingKey> {
        Ok(DecodingKey::from_rsa_components(&self.n, &self.e)?)
    }

    /// The key as a JWK (`kty`, `alg`, `use`, `kid`, `n`, `e`).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": self.n,
            "e": self.e,
        })
    }

    /// Whether the key is still published at emulator time `now`.
    pub fn is_published(&self, now: i64, grace_seconds: i64) -> bool {
        match self.retired_at {
            None => true,
            Some(at) => now < at.saturating_add(grace_seconds),
        }
    }
}

fn generate() -> anyhow::Result<RsaPrivateKey> {
    let mut rng = rand::thread_rng();
    Ok(RsaPrivateKey::new(&mut rng, 2048)?)
}

/// Claims of an auth token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer: `<base_url>/apps/{app_id}`.
    pub iss: String,
    /// User id.
    pub sub: String,
    /// `[auth_origin, app_id]`.
    pub aud: Vec<String>,
    /// Issued at (emulator time).
    pub iat: i64,
    /// Not before (`iat - 5`).
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// A unique id, so that two tokens issued in the same second differ.
    #[serde(default)]
    pub jti: String,
}

/// Signs an auth token with `key`.
pub fn sign(key: &SigningKey, claims: &Claims) -> anyhow::Result<String> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.typ = Some("JWT".to_owned());
    Ok(jsonwebtoken::encode(&header, claims, &key.encoding_key()?)?)
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a JWT, or no `kid` known to the app.
    #[error("token is malformed or signed by an unknown key")]
    UnknownKey,
    /// Signature, issuer or audience mismatch.
    #[error("token signature, issuer or audience is invalid")]
    Invalid,
    /// `exp` has passed.
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token is not valid yet")]
    NotYetValid,
}

/// Verifies an auth token against the app's published keys, issuer, audience and the emulator clock.
pub fn verify(
    token: &str,
    keys: &[SigningKey],
    issuer: &str,
    app_id: &str,
    now: i64,
    grace_seconds: i64,
) -> Result<Claims, VerifyError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::UnknownKey)?;
    if header.alg != Algorithm::RS256 {
        return Err(VerifyError::Invalid);
    }
    let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
    let key = keys
        .iter()
        .find(|k| k.kid == kid && k.is_published(now, grace_seconds))
        .ok_or(VerifyError::UnknownKey)?;
    let decoding = key.decoding_key().map_err(|_| VerifyError::Invalid)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_audience(&[app_id]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    let data = jsonwebtoken::decode::<Claims>(token, &decoding, &validation)
        .map_err(|_| VerifyError::Invalid)?;
    let claims = data.claims;
    if claims.exp <= now {
        return Err(VerifyError::Expired);
    }
    if claims.nbf > now {
        return Err(VerifyError::NotYetValid);
    }
    Ok(claims)
}

/// A random URL-safe secret with `bytes` bytes of entropy.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A random id with a readable prefix.
pub fn random_id(prefix: &str) -> String {
    let mut buf = [0u8; 9];
    rand::thread_rng().fill_bytes(&mut buf);
    format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(buf).replace(['-', '_'], "x")
    )
}

/// A six-digit one-time passcode.
pub fn random_otp() -> String {
    use rand::Rng;
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// SHA-256 hex digest, used to store refresh tokens without keeping them in clear.
pub fn digest_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The PKCE S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
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

    fn claims(now: i64) -> Claims {
        Claims {
            jti: "test-jti".into(),
            iss: "http://x/v1/apps/a".into(),
            sub: "u1".into(),
            aud: vec!["https://o".into(), "a".into()],
            iat: now,
            nbf: now - 5,
            exp: now + 60,
        }
    }

    #[test]
    fn sign_and_verify_roundtrip() {
        let key = SigningKey::default_key().unwrap();
        let now = 1_700_000_000;
        let token = sign(&key, &claims(now)).unwrap();
        let keys = vec![key];
        let got = verify(&token, &keys, "http://x/v1/apps/a", "a", now, 0).unwrap();
        assert_eq!(got, claims(now));
        assert_eq!(
            verify(&token, &keys, "http://x/v1/apps/a", "a", now + 60, 0),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            verify(&token, &keys, "http://x/v1/apps/b", "a", now, 0),
            Err(VerifyError::Invalid)
        );
        assert_eq!(
            verify(&token, &keys, "http://x/v1/apps/a", "b", now, 0),
            Err(VerifyError::Invalid)
        );
        assert_eq!(
            verify("garbage", &keys, "i", "a", now, 0),
            Err(VerifyError::UnknownKey)
        );
    }

    #[test]
    fn retired_key_published_during_grace() {
        let mut key = SigningKey::default_key().unwrap();
        key.retired_at = Some(100);
        assert!(key.is_published(150, 100));
        assert!(!key.is_published(200, 100));
    }

    #[test]
    fn pkce_matches_rfc7636_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
