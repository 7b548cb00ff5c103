//! JWT signing: the apps' RSA signing keys (and their JWKS entries), RS256 auth tokens, and their
//! verification.
//!
//! RSA runs on aws-lc-rs (the same library rustls uses): keys are generated with it, each key is
//! parsed once into an [`RsaKeyPair`] that every later signature reuses, and tokens are signed by
//! a [`Signer`] that can be taken out of the state so that the signature is computed after the state
//! lock is released ([`PendingToken`]). Signatures are checked with aws-lc-rs too, and the fake
//! identity provider's HS256 tokens are made and checked here with its HMAC: the emulator never
//! goes through `jsonwebtoken`'s process-wide crypto provider, which a crate that depends on the
//! emulator may have set up differently (or not at all, with two backends enabled).
//!
//! Architecture invariant: imports only the base layer; knows nothing of apps, users or HTTP.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair, RSA_PKCS1_SHA256};
use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One RSA signing key of an app, as kept in memory and in the state file.
#[derive(Clone, Serialize, Deserialize)]
pub struct SigningKey {
    /// Key id, put in token headers and the JWKS.
    pub kid: String,
    /// DER of the private key (PKCS#8; PKCS#1 is accepted from older state files), base64.
    private_der_b64: String,
    /// Modulus, base64url.
    pub n: String,
    /// Public exponent, base64url.
    pub e: String,
    /// Emulator time when the key was retired by a rotation.
    pub retired_at: Option<i64>,
    /// The parsed key, built on first use and shared by every clone.
    #[serde(skip)]
    parsed: OnceLock<Signer>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

static DEFAULT_KEY: OnceLock<SigningKey> = OnceLock::new();

impl SigningKey {
    /// The process-wide default key (generated once per process).
    pub fn default_key() -> anyhow::Result<Self> {
        if let Some(key) = DEFAULT_KEY.get() {
            return Ok(key.clone());
        }
        let generated = Self::generate()?;
        Ok(DEFAULT_KEY.get_or_init(|| generated).clone())
    }

    /// A freshly generated 2048-bit key.
    pub fn generate() -> anyhow::Result<Self> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
            .map_err(|_| anyhow::anyhow!("RSA key encoding failed"))?;
        Self::from_pair(STANDARD.encode(der.as_ref()), pair)
    }

    fn from_pair(private_der_b64: String, pair: RsaKeyPair) -> anyhow::Result<Self> {
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let digest = Sha256::digest(n.as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..12]);
        let key = Self {
            parsed: OnceLock::new(),
            kid,
            private_der_b64,
            n,
            e,
            retired_at: None,
        };
        let _ = key.parsed.set(Signer::new(&key.kid, pair));
        Ok(key)
    }

    /// Base64 of the PEM public key (`App.rsa_public_key`, PKCS#1 `RSA PUBLIC KEY`).
    pub fn public_pem_b64(&self) -> String {
        let Ok(signer) = self.signer() else {
            return String::new();
        };
        let body = STANDARD.encode(signer.public_key_der());
        let mut pem = String::from("-----BEGIN RSA PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END RSA PUBLIC KEY-----\n");
        STANDARD.encode(pem.as_bytes())
    }

    /// The signer of this key (the DER is parsed on the first call only).
    pub fn signer(&self) -> anyhow::Result<Signer> {
        if let Some(signer) = self.parsed.get() {
            return Ok(signer.clone());
        }
        let der = STANDARD.decode(&self.private_der_b64)?;
        let pair = RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .map_err(|e| anyhow::anyhow!("stored RSA key is invalid: {e}"))?;
        Ok(self
            .parsed
            .get_or_init(|| Signer::new(&self.kid, pair))
            .clone())
    }

    /// Whether `signature` is this key's RS256 signature of `message`.
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let (Ok(n), Ok(e)) = (
            URL_SAFE_NO_PAD.decode(&self.n),
            URL_SAFE_NO_PAD.decode(&self.e),
        ) else {
            return false;
        };
        RsaPublicKeyComponents { n, e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            .is_ok()
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

/// A parsed RS256 signing key with its encoded JWT header; cheap to clone, usable without the state
/// lock.
#[derive(Clone)]
pub struct Signer {
    key: Arc<RsaKeyPair>,
    kid: Arc<str>,
    /// base64url of `{"typ":"JWT","alg":"RS256","kid":...}`.
    header_b64: Arc<str>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Signer {
    fn new(kid: &str, key: RsaKeyPair) -> Self {
        let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": kid});
        Self {
            key: Arc::new(key),
            kid: kid.into(),
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()).into(),
        }
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }

    /// Signs `claims` into a compact RS256 JWT.
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let payload = serde_json::to_vec(claims)?;
        let mut jwt = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 350);
        jwt.push_str(&self.header_b64);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jwt);
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                jwt.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut jwt);
        Ok(jwt)
    }
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

/// An auth token as its signing key id and claims (kept to sign the same token again: RS256
/// signatures are deterministic).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssuedToken {
    /// Key that signed it.
    pub kid: String,
    /// Its claims.
    pub claims: Claims,
}

/// Signs an auth token with `key`.
pub fn sign(key: &SigningKey, claims: &Claims) -> anyhow::Result<String> {
    key.signer()?.sign(claims)
}

/// An auth token whose claims were decided under the state lock and whose signature is computed
/// after the lock is released ([`PendingToken::sign`]). RS256 (PKCS#1 v1.5) is deterministic, so
/// signing the same pending token twice gives the same token.
#[derive(Debug, Clone)]
pub struct PendingToken {
    signer: Signer,
    /// The claims to sign.
    pub claims: Claims,
}

impl PendingToken {
    /// Claims to be signed by `key`.
    pub fn new(key: &SigningKey, claims: Claims) -> anyhow::Result<Self> {
        Ok(Self {
            signer: key.signer()?,
            claims,
        })
    }

    /// The key id and claims, to sign the same token again later.
    pub fn issued(&self) -> IssuedToken {
        IssuedToken {
            kid: self.signer.kid.to_string(),
            claims: self.claims.clone(),
        }
    }

    /// Computes the signature.
    pub fn sign(&self) -> anyhow::Result<String> {
        self.signer.sign(&self.claims)
    }
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

/// A compact JWS split into its parts: the signed text, the header, the payload and the signature.
struct Compact<'a> {
    signed: &'a str,
    header: serde_json::Value,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    fn parse(token: &'a str) -> Option<Self> {
        let (signed, signature) = token.rsplit_once('.')?;
        let (header, payload) = signed.split_once('.')?;
        Some(Self {
            signed,
            header: serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?,
            payload: URL_SAFE_NO_PAD.decode(payload).ok()?,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    fn header_field(&self, name: &str) -> Option<&str> {
        self.header.get(name)?.as_str()
    }
}

/// Signs `claims` into a compact HS256 JWT under `secret` (HMAC-SHA256 of aws-lc-rs).
pub fn sign_hs256<T: Serialize>(secret: &[u8], claims: &T) -> anyhow::Result<String> {
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"HS256"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
    let signed = format!("{header}.{payload}");
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, signed.as_bytes());
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag)))
}

/// The claims of an HS256 JWT whose signature under `secret` is valid (the claims themselves are
/// the caller's to check); `None` for anything else.
pub fn verify_hs256<T: DeserializeOwned>(token: &str, secret: &[u8]) -> Option<T> {
    let jws = Compact::parse(token)?;
    if jws.header_field("alg") != Some("HS256") {
        return None;
    }
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    aws_lc_rs::hmac::verify(&key, jws.signed.as_bytes(), &jws.signature).ok()?;
    serde_json::from_slice(&jws.payload).ok()
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
    let jws = Compact::parse(token).ok_or(VerifyError::UnknownKey)?;
    if jws.header_field("alg") != Some("RS256") {
        return Err(VerifyError::Invalid);
    }
    let kid = jws.header_field("kid").ok_or(VerifyError::UnknownKey)?;
    let key = keys
        .iter()
        .find(|k| k.kid == kid && k.is_published(now, grace_seconds))
        .ok_or(VerifyError::UnknownKey)?;
    if !key.verifies(jws.signed.as_bytes(), &jws.signature) {
        return Err(VerifyError::Invalid);
    }
    let claims: Claims = serde_json::from_slice(&jws.payload).map_err(|_| VerifyError::Invalid)?;
    if claims.iss != issuer || !claims.aud.iter().any(|aud| aud == app_id) {
        return Err(VerifyError::Invalid);
    }
    if claims.exp <= now {
        return Err(VerifyError::Expired);
    }
    if claims.nbf > now {
        return Err(VerifyError::NotYetValid);
    }
    Ok(claims)
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
    fn key_is_parsed_once_and_signatures_are_deterministic() {
        let key = SigningKey::generate().unwrap();
        let copy = key.clone();
        assert!(Arc::ptr_eq(
            &key.signer().unwrap().key,
            &copy.signer().unwrap().key
        ));
        // A key read back from its stored form (no parsed key yet) signs identically.
        let stored: SigningKey =
            serde_json::from_value(serde_json::to_value(&key).unwrap()).unwrap();
        assert!(stored.parsed.get().is_none());
        let pending = PendingToken::new(&key, claims(1_700_000_000)).unwrap();
        assert_eq!(
            pending.sign().unwrap(),
            sign(&stored, &claims(1_700_000_000)).unwrap()
        );
    }

    #[test]
    fn a_tampered_token_or_another_algorithm_is_refused() {
        let key = SigningKey::default_key().unwrap();
        let now = 1_700_000_000;
        let token = sign(&key, &claims(now)).unwrap();
        let keys = vec![key];
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let (header, _) = signed.split_once('.').unwrap();
        let mut other = claims(now);
        other.sub = "someone-else".into();
        let forged = format!(
            "{header}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap())
        );
        assert_eq!(
            verify(&forged, &keys, "http://x/v1/apps/a", "a", now, 0),
            Err(VerifyError::Invalid)
        );
        let hs256 = sign_hs256(b"secret", &claims(now)).unwrap();
        assert_eq!(
            verify(&hs256, &keys, "http://x/v1/apps/a", "a", now, 0),
            Err(VerifyError::Invalid)
        );
        let back: Claims = verify_hs256(&hs256, b"secret").unwrap();
        assert_eq!(back, claims(now));
        assert!(verify_hs256::<Claims>(&hs256, b"other").is_none());
        assert!(verify_hs256::<Claims>(&token, b"secret").is_none());
    }

    /// A peer library (jsonwebtoken, a dev-dependency with its aws-lc-rs backend) reads our tokens.
    #[test]
    fn public_pem_verifies_the_tokens() {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation};
        // Named explicitly: never the process-wide default chosen from crate features.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let key = SigningKey::default_key().unwrap();
        let pem = STANDARD.decode(key.public_pem_b64()).unwrap();
        let decoding = DecodingKey::from_rsa_pem(&pem).unwrap();
        let token = sign(&key, &claims(1_700_000_000)).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.set_audience(&["a"]);
        let data = jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims, claims(1_700_000_000));
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
    }

    #[test]
    fn retired_key_published_during_grace() {
        let mut key = SigningKey::default_key().unwrap();
        key.retired_at = Some(100);
        assert!(key.is_published(150, 100));
        assert!(!key.is_published(200, 100));
    }
}
