//! Property tests: every response decoder and the body redaction, fed
//! arbitrary bytes and arbitrary JSON, never panic; what decodes round-trips.
//! The same functions are the fuzz targets under `fuzz/` (run longer there).

mod common {
    pub mod decoders;
}

use common::decoders::{decode_every_response, redact_body};
use proptest::prelude::*;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z_\"\\\\]{0,12}".prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "active",
            "",
            "pending",
            "passkey",
            "invalid_request",
            "unknown_code"
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "user",
                    "id",
                    "email",
                    "status",
                    "code",
                    "error",
                    "auth_result",
                    "auth_token",
                    "redirect_url",
                    "otp_id",
                    "magic_link",
                    "keys",
                    "kid",
                    "devices",
                    "device",
                    "user_metadata",
                    "webauthn_types",
                    "handshake",
                    "challenge",
                    "publicKey",
                    "nonce",
                ])
                .prop_map(str::to_string),
                inner,
                0..6,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_every_response(&bytes);
        redact_body(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_and_round_trips(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        decode_every_response(&bytes);
        let shown = redact_body(&bytes);
        prop_assert!(!shown.contains("eyJhbGciOiJSUzI1NiJ9"));
    }
}

#[test]
fn known_good_bodies_decode() {
    let auth = br#"{"auth_result":{"auth_token":"t","redirect_url":"/"}}"#;
    assert!(decode_every_response(auth) >= 1);
    let user = br#"{"user":null}"#;
    assert!(decode_every_response(user) >= 1);
    let error = br#"{"code":"brand_new_code","error":"x"}"#;
    assert!(decode_every_response(error) >= 1);
}
