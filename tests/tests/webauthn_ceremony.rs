//! Real WebAuthn ceremonies without HTTP: the emulator's engine (`webauthn-rs`) against a
//! software passkey authenticator (1Password's `passkey`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use coset::cbor::Value as Cbor;
use passage_e2e::authenticator::SoftAuthenticator;
use passage_emulator::relying_party::{
    CeremonyError, LoginState, RelyingParty, StoredCredential, VerificationFailure,
};
use serde_json::Value;
use uuid::Uuid;

const ORIGIN: &str = "https://app.passage.test";
const RP_ID: &str = "app.passage.test";

fn rp() -> RelyingParty {
    let origin = url::Url::parse(ORIGIN).expect("origin");
    RelyingParty::new(RP_ID, &origin, "Passage Test").expect("relying party")
}

/// Register a new passkey for `user` on `authenticator`.
async fn register(
    rp: &RelyingParty,
    authenticator: &mut SoftAuthenticator,
    user: Uuid,
    existing: &[StoredCredential],
) -> StoredCredential {
    let (options, state) = rp
        .start_registration(user, "ada@example.com", "Ada", existing)
        .expect("start registration");
    let response = authenticator
        .register(&options)
        .await
        .expect("authenticator registers");
    let credential = rp
        .finish_registration(&response, &state)
        .expect("finish registration");
    assert_eq!(credential.id(), response["id"].as_str().expect("id"));
    credential
}

fn failure(err: &CeremonyError) -> &VerificationFailure {
    assert!(
        err.is_verification_failure(),
        "expected verification failure, got {err:?}"
    );
    assert!(!err.is_bad_input());
    err.verification_failure().expect("reason")
}

/// Decode, edit, re-encode a base64url field of `value` at `pointer`.
fn edit_b64(value: &mut Value, pointer: &str, edit: impl FnOnce(&mut Vec<u8>)) {
    let field = value.pointer_mut(pointer).expect("field present");
    let mut bytes = URL_SAFE_NO_PAD
        .decode(field.as_str().expect("string field"))
        .expect("base64url");
    edit(&mut bytes);
    *field = Value::from(URL_SAFE_NO_PAD.encode(bytes));
}

/// Edit the `authData` inside a registration response's CBOR attestation object.
fn edit_attested_auth_data(response: &mut Value, edit: impl FnOnce(&mut Vec<u8>)) {
    edit_b64(response, "/response/attestationObject", |bytes| {
        let mut object: Cbor = coset::cbor::from_reader(bytes.as_slice()).expect("cbor");
        let map = object.as_map_mut().expect("attestation object is a map");
        let auth_data = map
            .iter_mut()
            .find(|(k, _)| k.as_text() == Some("authData"))
            .and_then(|(_, v)| match v {
                Cbor::Bytes(b) => Some(b),
                _ => None,
            })
            .expect("authData bytes");
        edit(auth_data);
        bytes.clear();
        coset::cbor::into_writer(&object, &mut *bytes).expect("re-encode");
    });
}

#[tokio::test]
async fn register_then_login_updates_usage_and_counter() {
    let rp = rp();
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let user = Uuid::new_v4();
    let credential = register(&rp, &mut authenticator, user, &[]).await;
    assert_eq!(credential.user_uuid(), user);
    assert_eq!(credential.usage_count(), 0);
    assert_eq!(authenticator.credential_ids(), vec![credential.id()]);
    let mut credentials = vec![credential];

    for round in 1..=2u64 {
        let (options, state) = rp.start_login(&credentials).expect("start login");
        let allowed = options["publicKey"]["allowCredentials"]
            .as_array()
            .expect("allowCredentials");
        assert_eq!(allowed.len(), 1);
        assert_eq!(allowed[0]["id"], credentials[0].id().as_str());
        assert_eq!(options["publicKey"]["userVerification"], "required");

        let assertion = authenticator.login(&options).await.expect("assertion");
        let used = rp
            .finish_login(&assertion, &state, &mut credentials)
            .expect("login verifies");
        assert_eq!(used, credentials[0].id());
        assert_eq!(credentials[0].usage_count(), round);
        assert_eq!(u64::from(credentials[0].sign_count()), round);
    }
}

#[tokio::test]
async fn login_state_survives_a_json_snapshot() {
    let rp = rp();
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let mut credentials = vec![register(&rp, &mut authenticator, Uuid::new_v4(), &[]).await];
    let (options, state) = rp.start_login(&credentials).expect("start");
    let snapshot = serde_json::to_value(&state).expect("snapshot");
    let restored: LoginState = serde_json::from_value(snapshot).expect("restore");
    let assertion = authenticator.login(&options).await.expect("assertion");
    rp.finish_login(&assertion, &restored, &mut credentials)
        .expect("restored state verifies");
    // Stored credentials snapshot too (the emulator persists them).
    let json = serde_json::to_string(&credentials).expect("serialise");
    let back: Vec<StoredCredential> = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back[0].id(), credentials[0].id());
    assert_eq!(back[0].usage_count(), 1);
}

#[tokio::test]
async fn any_port_on_the_origin_is_accepted() {
    let rp = rp();
    let mut authenticator = SoftAuthenticator::new("https://app.passage.test:8443");
    let mut credentials = vec![register(&rp, &mut authenticator, Uuid::new_v4(), &[]).await];
    let (options, state) = rp.start_login(&credentials).expect("start");
    let assertion = authenticator.login(&options).await.expect("assertion");
    rp.finish_login(&assertion, &state, &mut credentials)
        .expect("port is ignored");
}

#[tokio::test]
async fn padded_standard_base64_is_accepted() {
    use base64::engine::general_purpose::STANDARD;
    let rp = rp();
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let mut credentials = vec![register(&rp, &mut authenticator, Uuid::new_v4(), &[]).await];
    let (options, state) = rp.start_login(&credentials).expect("start");
    let mut assertion = authenticator.login(&options).await.expect("assertion");
    for pointer in [
        "/id",
        "/rawId",
        "/response/clientDataJSON",
        "/response/authenticatorData",
        "/response/signature",
    ] {
        let field = assertion.pointer_mut(pointer).expect("field");
        let bytes = URL_SAFE_NO_PAD
            .decode(field.as_str().expect("string"))
            .expect("b64url");
        *field = Value::from(STANDARD.encode(bytes));
    }
    assert!(assertion["rawId"]
        .as_str()
        .is_some_and(|id| id.ends_with('=')));
    rp.finish_login(&assertion, &state, &mut credentials)
        .expect("standard base64 accepted");
}

#[tokio::test]
async fn discoverable_login_identifies_the_user() {
    let rp = rp();
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let user = Uuid::new_v4();
    let mut credentials = vec![register(&rp, &mut authenticator, user, &[]).await];

    let (options, state) = rp.start_discoverable_login().expect("start");
    assert_eq!(
        options["publicKey"]["allowCredentials"],
        serde_json::json!([])
    );
    let assertion = authenticator.login(&options).await.expect("assertion");
    assert_eq!(
        assertion["response"]["userHandle"],
        URL_SAFE_NO_PAD.encode(user.as_bytes()).as_str()
    );

    let (who, credential_id) = rp.identify_discoverable(&assertion).expect("identify");
    assert_eq!(who, user);
    assert_eq!(credential_id, credentials[0].id());
    let used = rp
        .finish_discoverable_login(&assertion, state, &mut credentials)
        .expect("discoverable login verifies");
    assert_eq!(used, credentials[0].id());
    assert_eq!(credentials[0].usage_count(), 1);
}

#[tokio::test]
async fn discoverable_login_rejects_a_user_handle_that_does_not_own_the_credential() {
    let rp = rp();
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let mut alice_device = SoftAuthenticator::new(ORIGIN);
    let mut bob_device = SoftAuthenticator::new(ORIGIN);
    let alice_cred = register(&rp, &mut alice_device, alice, &[]).await;
    let bob_cred = register(&rp, &mut bob_device, bob, &[]).await;

    let (options, state) = rp.start_discoverable_login().expect("start");
    let mut assertion = bob_device.login(&options).await.expect("assertion");
    assertion["response"]["userHandle"] = Value::from(URL_SAFE_NO_PAD.encode(alice.as_bytes()));
    let (who, _) = rp.identify_discoverable(&assertion).expect("identify");
    assert_eq!(who, alice);

    // The emulator looks up the claimed user's credentials: Bob's key is not among them.
    let err = rp
        .finish_discoverable_login(&assertion, state.clone(), &mut [alice_cred.clone()])
        .expect_err("not Alice's credential");
    assert_eq!(failure(&err), &VerificationFailure::UnknownCredential);
    // Even given every credential, the owner check fails.
    let mut all = vec![alice_cred, bob_cred];
    let err = rp
        .finish_discoverable_login(&assertion, state, &mut all)
        .expect_err("owner mismatch");
    assert_eq!(failure(&err), &VerificationFailure::UserHandleMismatch);
    assert!(all.iter().all(|c| c.usage_count() == 0));
}

#[tokio::test]
async fn tampered_signature_is_a_verification_failure() {
    let rp = rp();
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let mut credentials = vec![register(&rp, &mut authenticator, Uuid::new_v4(), &[]).await];
    let (options, state) = rp.start_login(&credentials).expect("start");
    let assertion = authenticator.login(&options).await.expect("assertion");

    let mut bad_signature = assertion.clone();
    edit_b64(&mut bad_signature, "/response/signature", |sig| {
        let last = sig.len() - 1;
        sig[last] ^= 0x01;
    });
    let err = rp
        .finish_login(&bad_signature, &state, &mut credentials)
        .expect_err("bad signature");
    assert_eq!(failure(&err), &VerificationFailure::SignatureInvalid);

    // Raising the signed counter in authenticatorData also breaks the signature.
    let mut bad_auth_data = assertion.clone();
    edit_b64(&mut bad_auth_data, "/response/authenticatorData", |data| {
        data[36] = data[36].wrapping_add(7);
    });
    let err = rp
        .finish_login(&bad_auth_data, &state, &mut credentials)
        .expect_err("bad auth data");
    assert_eq!(failure(&err), &VerificationFailure::SignatureInvalid);
    assert_eq!(credentials[0].usage_count(), 0);

    // The untouched assertion still verifies.
    rp.finish_login(&assertion, &state, &mut credentials)
        .expect("genuine assertion");
}

#[tokio::test]
async fn wrong_origin_is_a_verification_failure() {
    // RP id `passage.test` lets a sibling subdomain's page reach the authenticator; the RP
    // must still reject its origin.
    let origin = url::Url::parse(ORIGIN).expect("origin");
    let rp = RelyingParty::new("passage.test", &origin, "Passage Test").expect("rp");
    let (options, state) = rp
        .start_registration(Uuid::new_v4(), "ada", "Ada", &[])
        .expect("start");
    let mut phished = SoftAuthenticator::new("https://evil.passage.test");
    let response = phished
        .register(&options)
        .await
        .expect("client accepts rp id");
    let err = rp
        .finish_registration(&response, &state)
        .expect_err("wrong origin at registration");
    assert_eq!(failure(&err), &VerificationFailure::OriginMismatch);

    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let mut credentials = vec![register(&rp, &mut authenticator, Uuid::new_v4(), &[]).await];
    authenticator.set_origin("https://evil.passage.test");
    let (options, state) = rp.start_login(&credentials).expect("start");
    let assertion = authenticator.login(&options).await.expect("assertion");
    let err = rp
        .finish_login(&assertion, &state, &mut credentials)
        .expect_err("wrong origin at login");
    assert_eq!(failure(&err), &VerificationFailure::OriginMismatch);
}

#[tokio::test]
async fn replayed_responses_are_verification_failures() {
    let rp = rp();
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let user = Uuid::new_v4();

    // A registration response replayed into a newer registration.
    let (options, first_state) = rp
        .start_registration(user, "ada", "Ada", &[])
        .expect("start");
    let response = authenticator.register(&options).await.expect("register");
    let (_, second_state) = rp
        .start_registration(user, "ada", "Ada", &[])
        .expect("start again");
    let err = rp
        .finish_registration(&response, &second_state)
        .expect_err("old challenge");
    assert_eq!(failure(&err), &VerificationFailure::ChallengeMismatch);
    let mut credentials = vec![rp
        .finish_registration(&response, &first_state)
        .expect("original state verifies")];

    // A login assertion replayed into a newer login.
    let (options, first_login) = rp.start_login(&credentials).expect("start");
    let assertion = authenticator.login(&options).await.expect("assertion");
    let (_, second_login) = rp.start_login(&credentials).expect("start again");
    let err = rp
        .finish_login(&assertion, &second_login, &mut credentials)
        .expect_err("old challenge");
    assert_eq!(failure(&err), &VerificationFailure::ChallengeMismatch);

    // The genuine pair verifies once; replaying it (same state) is caught by the counter.
    rp.finish_login(&assertion, &first_login, &mut credentials)
        .expect("first use");
    let err = rp
        .finish_login(&assertion, &first_login, &mut credentials)
        .expect_err("replay");
    assert_eq!(failure(&err), &VerificationFailure::CounterNotIncreased);
    assert_eq!(credentials[0].usage_count(), 1);

    // A registration response is not an assertion, and vice versa.
    let (_, login) = rp.start_login(&credentials).expect("start");
    let err = rp
        .finish_login(&response, &login, &mut credentials)
        .expect_err("attestation as assertion");
    assert!(err.is_bad_input(), "{err:?}");
}

#[tokio::test]
async fn excluded_credentials_cannot_register_again() {
    let rp = rp();
    let user = Uuid::new_v4();
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let first = register(&rp, &mut authenticator, user, &[]).await;

    let (options, state) = rp
        .start_registration(user, "ada", "Ada", std::slice::from_ref(&first))
        .expect("start");
    let excluded = options["publicKey"]["excludeCredentials"]
        .as_array()
        .expect("excludeCredentials");
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0]["id"], first.id().as_str());

    // The authenticator holding the excluded credential refuses.
    let err = authenticator
        .register(&options)
        .await
        .expect_err("authenticator refuses");
    assert!(err.is_credential_excluded(), "{err}");
    assert_eq!(authenticator.credential_count(), 1);

    // Another device may add a second passkey.
    let mut second_device = SoftAuthenticator::new(ORIGIN);
    let response = second_device
        .register(&options)
        .await
        .expect("other device");
    let second = rp
        .finish_registration(&response, &state)
        .expect("second passkey");
    assert_ne!(second.id(), first.id());

    // An authenticator that ignored excludeCredentials is still rejected by the RP.
    let (options, state) = rp
        .start_registration(user, "ada", "Ada", std::slice::from_ref(&first))
        .expect("start");
    let mut stripped = options.clone();
    stripped["publicKey"]
        .as_object_mut()
        .expect("publicKey")
        .remove("excludeCredentials");
    let mut rogue = SoftAuthenticator::new(ORIGIN);
    let mut response = rogue.register(&stripped).await.expect("rogue registers");
    let old_id = first.raw_id().to_vec();
    edit_attested_auth_data(&mut response, |auth_data| {
        // rpIdHash(32) flags(1) counter(4) aaguid(16) idLen(2) id(idLen) ...
        let len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
        assert_eq!(len, old_id.len(), "same credential id length");
        auth_data[55..55 + len].copy_from_slice(&old_id);
    });
    // Attested id excluded, rawId still the new one: rejected too.
    let err = rp
        .finish_registration(&response, &state)
        .expect_err("attested id is excluded");
    failure(&err);
    response["id"] = Value::from(first.id());
    response["rawId"] = Value::from(first.id());
    let err = rp
        .finish_registration(&response, &state)
        .expect_err("RP enforces exclusion");
    assert_eq!(failure(&err), &VerificationFailure::CredentialExcluded);
}

#[tokio::test]
async fn user_verification_is_required() {
    let rp = rp();
    let (options, state) = rp
        .start_registration(Uuid::new_v4(), "ada", "Ada", &[])
        .expect("start");
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let mut response = authenticator.register(&options).await.expect("register");
    // `none` attestation is unsigned, so clearing the UV flag (0x04) is undetectable except by
    // the policy check.
    edit_attested_auth_data(&mut response, |auth_data| auth_data[32] &= !0x04);
    let err = rp
        .finish_registration(&response, &state)
        .expect_err("UV required");
    assert_eq!(failure(&err), &VerificationFailure::UserNotVerified);
}

#[tokio::test]
async fn authenticator_without_a_matching_credential_refuses_login() {
    let rp = rp();
    let mut owner = SoftAuthenticator::new(ORIGIN);
    let credentials = vec![register(&rp, &mut owner, Uuid::new_v4(), &[]).await];
    let (options, _) = rp.start_login(&credentials).expect("start");
    let mut stranger = SoftAuthenticator::new(ORIGIN);
    let err = stranger.login(&options).await.expect_err("no credential");
    assert!(err.is_credential_not_found(), "{err}");

    // Credentials are bound to their RP id.
    let other_origin = url::Url::parse("https://other.example").expect("origin");
    let other_rp = RelyingParty::new("other.example", &other_origin, "Other").expect("rp");
    let (options, _) = other_rp.start_discoverable_login().expect("start");
    owner.set_origin("https://other.example");
    let err = owner.login(&options).await.expect_err("wrong RP id");
    assert!(err.is_credential_not_found(), "{err}");
}
