//! The front end of a Passkey Flex transaction: the Auth API's transaction ceremonies
//! (`register/transactions/webauthn/*`, `authenticate/transactions/webauthn/*`) run with a
//! [`SoftAuthenticator`], ending with the nonce the back end verifies.

use passage_auth_client::{types, Client, SecretValue};
use serde_json::Value;

use crate::authenticator::SoftAuthenticator;

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("credential JSON fits the generated type")
}

/// Registers a passkey in `authenticator` for the transaction; returns the nonce and the WebAuthn
/// options' `user` (the name the passkey is stored under).
pub async fn register(
    client: &Client,
    app_id: &str,
    authenticator: &mut SoftAuthenticator,
    transaction_id: &str,
) -> (SecretValue, Value) {
    let start = client
        .register_webauthn_start_with_transaction()
        .app_id(app_id)
        .body(
            types::RegisterWebAuthnStartWithTransactionRequest::builder()
                .transaction_id(transaction_id.to_owned()),
        )
        .send()
        .await
        .expect("register/transactions/webauthn/start")
        .into_inner();
    let options = serde_json::to_value(&start.handshake.challenge).expect("options JSON");
    let user = options["publicKey"]["user"].clone();
    let credential = authenticator.register(&options).await.expect("registers");
    let finished = client
        .register_webauthn_finish_with_transaction()
        .app_id(app_id)
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

/// Authenticates with `authenticator` for the transaction; returns the nonce.
pub async fn authenticate(
    client: &Client,
    app_id: &str,
    authenticator: &mut SoftAuthenticator,
    transaction_id: &str,
) -> SecretValue {
    let start = client
        .authenticate_webauthn_start_with_transaction()
        .app_id(app_id)
        .body(
            types::AuthenticateWebAuthnStartWithTransactionRequest::builder()
                .transaction_id(Some(transaction_id.to_owned())),
        )
        .send()
        .await
        .expect("authenticate/transactions/webauthn/start")
        .into_inner();
    let options = serde_json::to_value(&start.handshake.challenge).expect("options JSON");
    let assertion = authenticator.login(&options).await.expect("asserts");
    client
        .authenticate_webauthn_finish_with_transaction()
        .app_id(app_id)
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
