//! Passkey Flex end to end: the back end opens a transaction through the Management API, the front
//! end runs the Auth API's transaction ceremony with a software authenticator, and the nonce it gets
//! verifies through the Management API to the transaction's `external_id`, once. Every answer is
//! checked against its spec (the emulator records every answer).

use std::collections::BTreeSet;

use passage_auth_client::{types, SecretValue};
use passage_e2e::authenticator::SoftAuthenticator;
use passage_e2e::conformance::{Conformance, MANAGEMENT_PREFIX};
use passage_e2e::harness::TestEnv;
use passage_management_client::types as management;
use passage_management_client::{Error as ManagementError, UsersExt};
use serde_json::Value;

const ORIGIN: &str = "https://app.passage.test";

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("credential JSON fits the generated type")
}

fn failure(e: ManagementError) -> (Option<u16>, String) {
    (
        e.status().map(|s| s.as_u16()),
        e.code().map(|c| c.as_str().to_owned()).unwrap_or_default(),
    )
}

/// The back end: opens a registration for `external_id`.
async fn open_registration(env: &TestEnv, external_id: &str, display_name: &str) -> String {
    env.management
        .create_register_transaction()
        .app_id(&env.app_id)
        .body(
            management::CreateRegisterTransactionRequest::builder()
                .external_id(external_id)
                .passkey_display_name(display_name),
        )
        .send()
        .await
        .expect("create_register_transaction")
        .into_inner()
        .transaction_id
}

/// The back end: opens an authentication for `external_id`.
async fn open_authentication(env: &TestEnv, external_id: &str) -> Result<String, ManagementError> {
    env.management
        .create_authenticate_transaction()
        .app_id(&env.app_id)
        .body(management::CreateAuthenticateTransactionRequest::builder().external_id(external_id))
        .send()
        .await
        .map(|r| r.into_inner().transaction_id)
}

/// The back end: redeems a nonce.
async fn verify(env: &TestEnv, nonce: &SecretValue) -> Result<String, ManagementError> {
    env.management
        .authenticate_verify_nonce()
        .app_id(&env.app_id)
        .body(management::VerifyNonceRequest::builder().nonce(nonce.clone()))
        .send()
        .await
        .map(|r| r.into_inner().external_id)
}

/// The front end: registers a passkey in `authenticator` for the transaction; returns the nonce
/// and the WebAuthn options' `user` (the name the passkey is stored under).
async fn register(
    env: &TestEnv,
    authenticator: &mut SoftAuthenticator,
    transaction_id: &str,
) -> (SecretValue, Value) {
    let start = env
        .client
        .register_webauthn_start_with_transaction()
        .app_id(&env.app_id)
        .body(
            types::RegisterWebAuthnStartWithTransactionRequest::builder()
                .transaction_id(transaction_id.to_owned()),
        )
        .send()
        .await
        .expect("register/transactions/webauthn/start")
        .into_inner();
    let options = serde_json::to_value(&start.handshake.challenge).unwrap();
    let user = options["publicKey"]["user"].clone();
    let credential = authenticator.register(&options).await.expect("registers");
    let finished = env
        .client
        .register_webauthn_finish_with_transaction()
        .app_id(&env.app_id)
        .body(
            types::RegisterWebAuthnFinishWithTransactionRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(typed::<types::CredentialCreationResponse>(credential))
                .transaction_id(transaction_id.to_owned()),
        )
        .send()
        .await
        .expect("register/transactions/webauthn/finish");
    (finished.into_inner().nonce, user)
}

/// The front end: authenticates with `authenticator` for the transaction; returns the nonce.
async fn authenticate(
    env: &TestEnv,
    authenticator: &mut SoftAuthenticator,
    transaction_id: &str,
) -> SecretValue {
    let start = env
        .client
        .authenticate_webauthn_start_with_transaction()
        .app_id(&env.app_id)
        .body(
            types::AuthenticateWebAuthnStartWithTransactionRequest::builder()
                .transaction_id(Some(transaction_id.to_owned())),
        )
        .send()
        .await
        .expect("authenticate/transactions/webauthn/start")
        .into_inner();
    let options = serde_json::to_value(&start.handshake.challenge).unwrap();
    let assertion = authenticator.login(&options).await.expect("asserts");
    env.client
        .authenticate_webauthn_finish_with_transaction()
        .app_id(&env.app_id)
        .body(
            types::AuthenticateWebAuthnFinishWithTransactionRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(typed::<types::CredentialAssertionResponse>(assertion))
                .transaction_id(Some(transaction_id.to_owned())),
        )
        .send()
        .await
        .expect("authenticate/transactions/webauthn/finish")
        .into_inner()
        .nonce
}

#[tokio::test]
async fn a_flex_registration_and_authentication_run_end_to_end() {
    let env = TestEnv::start().await;
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let external_id = "customer-0042";

    // Registration: a new Flex user, their passkey stored under the name the back end gave.
    let transaction = open_registration(&env, external_id, "ada@customer.example").await;
    let (nonce, user) = register(&env, &mut authenticator, &transaction).await;
    assert_eq!(user["name"], "ada@customer.example");
    assert_eq!(user["displayName"], "ada@customer.example");
    assert_eq!(
        verify(&env, &nonce).await.expect("the nonce verifies"),
        external_id
    );
    assert_eq!(
        failure(verify(&env, &nonce).await.unwrap_err()),
        (Some(401), "invalid_nonce".into()),
        "a nonce verifies once"
    );
    // The back end finds the user by their external id, with the passkey.
    let user = env
        .management
        .find_user_by_identifier(&env.app_id, external_id)
        .await
        .expect("find")
        .expect("the Flex user");
    assert_eq!(user.external_id, external_id);
    assert_eq!((user.email.as_str(), user.phone.as_str()), ("", ""));
    assert_eq!(user.status.as_str(), "active");
    assert_eq!(user.webauthn_devices.len(), 1);
    assert_eq!(
        authenticator.credential_ids(),
        vec![user.webauthn_devices[0].cred_id.clone()]
    );

    // Authentication with that passkey.
    let transaction = open_authentication(&env, external_id)
        .await
        .expect("create_authenticate_transaction");
    let nonce = authenticate(&env, &mut authenticator, &transaction).await;
    assert_eq!(
        verify(&env, &nonce).await.expect("the nonce verifies"),
        external_id
    );
    assert_eq!(
        failure(verify(&env, &nonce).await.unwrap_err()),
        (Some(401), "invalid_nonce".into())
    );
    // A transaction runs one ceremony.
    let replay = env
        .client
        .authenticate_webauthn_start_with_transaction()
        .app_id(&env.app_id)
        .body(
            types::AuthenticateWebAuthnStartWithTransactionRequest::builder()
                .transaction_id(Some(transaction.clone())),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(replay.status().map(|s| s.as_u16()), Some(404));
    let devices = env
        .management
        .list_user_devices()
        .app_id(&env.app_id)
        .user_id(&user.id)
        .send()
        .await
        .expect("list_user_devices")
        .into_inner()
        .devices;
    assert_eq!(
        devices[0].usage_count, 1,
        "the authentication used the passkey"
    );
    env.assert_conformant();
}

#[tokio::test]
async fn a_known_external_id_adds_a_passkey_and_the_back_end_rules_apply() {
    let env = TestEnv::start().await;
    let external_id = "customer-7";
    // No user yet, or no passkey yet: no authentication.
    assert_eq!(
        failure(open_authentication(&env, external_id).await.unwrap_err()),
        (Some(404), "user_not_found".into())
    );
    let first = open_registration(&env, external_id, "Bo").await;
    assert_eq!(
        failure(open_authentication(&env, external_id).await.unwrap_err()),
        (Some(409), "user_has_no_passkeys".into())
    );
    let mut phone = SoftAuthenticator::new(ORIGIN);
    let (nonce, _) = register(&env, &mut phone, &first).await;
    assert_eq!(verify(&env, &nonce).await.unwrap(), external_id);
    // A second registration for the same external id adds a passkey to the same user.
    let second = open_registration(&env, external_id, "Bo (laptop)").await;
    let mut laptop = SoftAuthenticator::new(ORIGIN);
    let (nonce, _) = register(&env, &mut laptop, &second).await;
    assert_eq!(verify(&env, &nonce).await.unwrap(), external_id);
    let user = env
        .management
        .find_user_by_identifier(&env.app_id, external_id)
        .await
        .unwrap()
        .expect("the Flex user");
    assert_eq!(user.webauthn_devices.len(), 2);
    // Either passkey authenticates.
    for authenticator in [&mut phone, &mut laptop] {
        let transaction = open_authentication(&env, external_id).await.unwrap();
        let nonce = authenticate(&env, authenticator, &transaction).await;
        assert_eq!(verify(&env, &nonce).await.unwrap(), external_id);
    }
    // Deleting a device through the back end takes it out of the next ceremony.
    let removed = &user.webauthn_devices[0];
    env.management
        .delete_user_device()
        .app_id(&env.app_id)
        .user_id(&user.id)
        .device_id(&removed.id)
        .send()
        .await
        .expect("delete_user_device");
    let remaining = env
        .management
        .list_user_devices()
        .app_id(&env.app_id)
        .user_id(&user.id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .devices;
    assert_eq!(remaining.len(), 1);
    assert_ne!(remaining[0].id, removed.id);
    // A deactivated user gets no transaction.
    env.management
        .deactivate_user()
        .app_id(&env.app_id)
        .user_id(&user.id)
        .send()
        .await
        .expect("deactivate_user");
    assert_eq!(
        failure(open_authentication(&env, external_id).await.unwrap_err()),
        (Some(403), "cannot_create_transaction".into())
    );
    // Unknown nonces are refused.
    assert_eq!(
        failure(
            verify(&env, &SecretValue::new("never-issued"))
                .await
                .unwrap_err()
        ),
        (Some(401), "invalid_nonce".into())
    );
    env.assert_conformant();
}

/// Every operation of the Management spec is served, each answer conforming: one pass over all of
/// them (a Flex user supplies the passkey for the device operations), then the operations in the
/// emulator's request log are compared with the spec's.
#[tokio::test]
async fn every_management_operation_is_served_and_conforms() {
    let env = TestEnv::start().await;
    let app = env.app_id.clone();
    let m = &env.management;
    m.get_app().app_id(&app).send().await.expect("get_app");
    let user = m
        .create_user()
        .app_id(&app)
        .body(management::CreateUserRequest::builder().email(Some("all@example.com".to_owned())))
        .send()
        .await
        .expect("create_user")
        .into_inner()
        .user;
    m.list_paginated_users()
        .app_id(&app)
        .send()
        .await
        .expect("list_paginated_users");
    m.get_user()
        .app_id(&app)
        .user_id(&user.id)
        .send()
        .await
        .expect("get_user");
    m.update_user()
        .app_id(&app)
        .user_id(&user.id)
        .body(management::UpdateUserRequest::builder().phone(Some("+15550009999".to_owned())))
        .send()
        .await
        .expect("update_user");
    m.deactivate_user()
        .app_id(&app)
        .user_id(&user.id)
        .send()
        .await
        .expect("deactivate_user");
    m.activate_user()
        .app_id(&app)
        .user_id(&user.id)
        .send()
        .await
        .expect("activate_user");
    m.create_magic_link()
        .app_id(&app)
        .body(
            management::CreateMagicLinkRequest::builder().email(Some("all@example.com".to_owned())),
        )
        .send()
        .await
        .expect("create_magic_link");
    m.revoke_user_refresh_tokens()
        .app_id(&app)
        .user_id(&user.id)
        .send()
        .await
        .expect("revoke_user_refresh_tokens");

    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let transaction = open_registration(&env, "all-flex", "All").await;
    let (nonce, _) = register(&env, &mut authenticator, &transaction).await;
    verify(&env, &nonce)
        .await
        .expect("authenticate_verify_nonce");
    open_authentication(&env, "all-flex")
        .await
        .expect("create_authenticate_transaction");
    let flex = m
        .find_user_by_identifier(&app, "all-flex")
        .await
        .unwrap()
        .expect("the Flex user");
    let devices = m
        .list_user_devices()
        .app_id(&app)
        .user_id(&flex.id)
        .send()
        .await
        .expect("list_user_devices")
        .into_inner()
        .devices;
    m.delete_user_device()
        .app_id(&app)
        .user_id(&flex.id)
        .device_id(&devices[0].id)
        .send()
        .await
        .expect("delete_user_device");
    m.delete_user()
        .app_id(&app)
        .user_id(&user.id)
        .send()
        .await
        .expect("delete_user");

    let specs = Conformance::shared();
    let spec = specs.management();
    let recorded = env.emulator.requests();
    let seen: BTreeSet<&str> = recorded
        .iter()
        .filter(|r| r.path.starts_with(MANAGEMENT_PREFIX))
        .filter_map(|r| spec.operation_for(&r.method, &r.path))
        .collect();
    let all: BTreeSet<&str> = spec.operation_ids().into_iter().collect();
    assert_eq!(all.len(), 15, "the Management spec's operations");
    assert_eq!(seen, all, "every operation was served");
    env.assert_conformant();
}
