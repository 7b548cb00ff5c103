//! Random values: ids with a readable prefix, URL-safe secrets, UUIDs and six-digit passcodes.

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

/// A random (version 4) UUID from the thread's generator: `Uuid::new_v4` asks the operating
/// system for every one (a system call per token issued).
pub fn random_uuid() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A six-digit one-time passcode.
pub fn random_otp() -> String {
    use rand::Rng;
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_of_the_rfc_variant_and_differ() {
        let (a, b) = (random_uuid(), random_uuid());
        for id in [a, b] {
            assert_eq!(id.get_version(), Some(uuid::Version::Random), "{id}");
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
        assert_ne!(a, b);
    }
}
