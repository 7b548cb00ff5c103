// Shared by the property test (`tests/decode_props.rs`) and the fuzz target
// (`fuzz/fuzz_targets/decode_responses.rs`): decode bytes as every response
// body type of the spec, and as the crate's error conversion would see them.

use passage_auth_client::types;

/// Decodes `bytes` as every response body type. Returns how many decoded.
/// Must never panic, whatever the bytes.
pub fn decode_every_response(bytes: &[u8]) -> usize {
    macro_rules! try_all {
        ($($ty:ty),* $(,)?) => {{
            let mut decoded = 0;
            $(
                if let Ok(value) = serde_json::from_slice::<$ty>(bytes) {
                    decoded += 1;
                    // What decodes must encode again, and decode to the same value.
                    let again = serde_json::to_vec(&value).expect("a decoded value encodes");
                    let back: $ty = serde_json::from_slice(&again).expect("an encoded value decodes");
                    assert_eq!(format!("{back:?}"), format!("{value:?}"), "round trip of {}", stringify!($ty));
                }
            )*
            decoded
        }};
    }
    try_all!(
        types::ApiError,
        types::AddDeviceStartResponse,
        types::AuthResponse,
        types::AuthenticateWebAuthnStartWithTransactionResponse,
        types::CreateUserResponse,
        types::CurrentUserDevice,
        types::CurrentUserDevices,
        types::CurrentUserResponse,
        types::GetAppResponse,
        types::JwkResponse,
        types::LoginMagicLinkResponse,
        types::LoginWebAuthnStartResponse,
        types::MagicLinkResponse,
        types::Nonce,
        types::OneTimePasscodeResponse,
        types::OpenIdConfiguration,
        types::RegisterMagicLinkResponse,
        types::RegisterWebAuthnStartResponse,
        types::RegisterWebAuthnStartWithTransactionResponse,
        types::SocialConnectionsResponse,
        types::UserMetadataResponse,
        types::UserResponse,
    )
}

/// The crate's redacted view of a body: never panics, never longer than its cap.
pub fn redact_body(bytes: &[u8]) -> String {
    let shown =
        passage_auth_client::error::RedactedBody::from_bytes(&bytes::Bytes::copy_from_slice(bytes));
    let text = shown.to_string();
    assert!(
        shown.as_str().len() <= 512 + '…'.len_utf8(),
        "redacted view is capped"
    );
    text
}
