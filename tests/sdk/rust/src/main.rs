//! `passage_flex` 1.0.2, unmodified, driven one step at a time.
//!
//! The SDK is built with `PassageFlex::new(PASSAGE_APP_ID, PASSAGE_API_KEY)` and calls
//! `https://api.passage.id`, as it always does; the environment (`HTTPS_PROXY`, `SSL_CERT_FILE`) is
//! what sends it to the emulator's intercepting proxy. Only the SDK's public API is used.
//!
//! Protocol (JSON lines): every line read on stdin is one step, e.g.
//! `{"step":"verify_nonce","nonce":"..."}`; every step answers one line on stdout,
//! `{"step":"verify_nonce","ok":true,"value":"<external id>"}` or
//! `{"step":"verify_nonce","ok":false,"error":{"kind":"InvalidNonce","message":"..."}}`, where `kind`
//! is the name of the SDK's `passage_flex::Error` variant. The first line, before any step, is
//! `{"step":"ready","ok":true,...}`. The program ends when stdin closes. A line that is no step is
//! answered with `kind` `BadStep` and ends the program with exit status 2.
//!
//! Steps: `create_register_transaction {external_id, passkey_display_name}` → the transaction id;
//! `create_authenticate_transaction {external_id}` → the transaction id; `verify_nonce {nonce}` →
//! the external id; `get_user {external_id}` → the SDK's `PassageUser`; `list_devices {external_id}`
//! → its `WebAuthnDevices` list; `revoke_device {external_id, device_id}` → `null`. Values are the
//! SDK's own types serialised with their serde derives, so what is printed is what the SDK decoded.
//! The nonce (a one-time secret) is never printed.

use std::io::{BufRead, Write};

use passage_flex::{Error, PassageFlex};
use serde::Deserialize;
use serde_json::{json, Value};

/// One step, as read from stdin.
#[derive(Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    CreateRegisterTransaction {
        external_id: String,
        passkey_display_name: String,
    },
    CreateAuthenticateTransaction {
        external_id: String,
    },
    VerifyNonce {
        nonce: String,
    },
    GetUser {
        external_id: String,
    },
    ListDevices {
        external_id: String,
    },
    RevokeDevice {
        external_id: String,
        device_id: String,
    },
}

impl Step {
    fn name(&self) -> &'static str {
        match self {
            Step::CreateRegisterTransaction { .. } => "create_register_transaction",
            Step::CreateAuthenticateTransaction { .. } => "create_authenticate_transaction",
            Step::VerifyNonce { .. } => "verify_nonce",
            Step::GetUser { .. } => "get_user",
            Step::ListDevices { .. } => "list_devices",
            Step::RevokeDevice { .. } => "revoke_device",
        }
    }
}

/// Runs `step` with the SDK; the JSON value of its result.
async fn run(flex: &PassageFlex, step: Step) -> Result<Value, Error> {
    Ok(match step {
        Step::CreateRegisterTransaction {
            external_id,
            passkey_display_name,
        } => json!(
            flex.auth
                .create_register_transaction(external_id, passkey_display_name)
                .await?
        ),
        Step::CreateAuthenticateTransaction { external_id } => {
            json!(
                flex.auth
                    .create_authenticate_transaction(external_id)
                    .await?
            )
        }
        Step::VerifyNonce { nonce } => json!(flex.auth.verify_nonce(nonce).await?),
        Step::GetUser { external_id } => json!(flex.user.get(external_id).await?),
        Step::ListDevices { external_id } => json!(flex.user.list_devices(external_id).await?),
        Step::RevokeDevice {
            external_id,
            device_id,
        } => {
            flex.user.revoke_device(external_id, device_id).await?;
            Value::Null
        }
    })
}

/// The `passage_flex::Error` variant's name and its message (with the source chain of transport
/// errors, e.g. why TLS failed).
fn describe(error: &Error) -> Value {
    let kind = match error {
        Error::Reqwest(_) => "Reqwest",
        Error::Serde(_) => "Serde",
        Error::Io(_) => "Io",
        Error::InvalidRequest(_) => "InvalidRequest",
        Error::InvalidAccessToken => "InvalidAccessToken",
        Error::InvalidNonce => "InvalidNonce",
        Error::OperationNotAllowed => "OperationNotAllowed",
        Error::DeviceNotFound => "DeviceNotFound",
        Error::UserNotFound => "UserNotFound",
        Error::UserHasNoPasskeys => "UserHasNoPasskeys",
        Error::InternalServerError => "InternalServerError",
        Error::Other(_) => "Other",
        Error::InvalidArgument(_) => "InvalidArgument",
    };
    let mut message = error.to_string();
    if let Error::Reqwest(e) = error {
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
    }
    json!({ "kind": kind, "message": message })
}

fn emit(out: &mut impl Write, line: &Value) {
    writeln!(out, "{line}").expect("stdout is writable");
    out.flush().expect("stdout is writable");
}

fn main() {
    let env = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set (see tests/sdk/rust)"))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // The SDK builds its HTTP client here, reading HTTPS_PROXY; OpenSSL reads SSL_CERT_FILE.
    let flex = PassageFlex::new(env("PASSAGE_APP_ID"), env("PASSAGE_API_KEY"));
    let mut out = std::io::stdout().lock();
    emit(
        &mut out,
        &json!({ "step": "ready", "ok": true, "value": { "sdk": "passage_flex" } }),
    );
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin is readable");
        if line.trim().is_empty() {
            continue;
        }
        let step: Step = match serde_json::from_str(&line) {
            Ok(step) => step,
            Err(e) => {
                let error = json!({ "kind": "BadStep", "message": e.to_string() });
                emit(
                    &mut out,
                    &json!({ "step": "bad_step", "ok": false, "error": error }),
                );
                std::process::exit(2);
            }
        };
        let name = step.name();
        let line = match runtime.block_on(run(&flex, step)) {
            Ok(value) => json!({ "step": name, "ok": true, "value": value }),
            Err(e) => json!({ "step": name, "ok": false, "error": describe(&e) }),
        };
        emit(&mut out, &line);
    }
}
