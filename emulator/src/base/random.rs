//! Random values: ids with a readable prefix, URL-safe secrets and six-digit passcodes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

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
