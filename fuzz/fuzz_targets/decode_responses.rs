//! Fuzz target: every response body type and the redacted body view, fed
//! arbitrary bytes. The decoders are shared with the property test
//! `clients/auth/tests/decode_props.rs`, which runs a bounded number of cases in CI.
#![no_main]

#[path = "../../clients/auth/tests/common/decoders.rs"]
mod decoders;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    decoders::decode_every_response(data);
    decoders::redact_body(data);
});
