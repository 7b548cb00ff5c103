//! The Management client never shows the app's API key (nor a nonce it sent, nor a magic-link
//! secret it received), whatever the server answers: every operation of the Management spec meets
//! a set of hostile answers (errors that quote the request back, an HTML error page echoing it, a
//! 2xx that does not decode, an undeclared status, a redirect whose `Location` carries the key, a
//! body cut short, a connection closed after the request), and every form the outcome can be
//! printed in (the error's `Debug` and `Display`, its source chain, `{:#}` of an `anyhow` error,
//! the value's `Debug`, the client's `Debug`, everything logged at TRACE) is searched for the key,
//! raw and percent-encoded, and for every 12-byte piece of it.
//!
//! Every operation is driven (the table comes from the generated crate and must be covered), and
//! the hostile server must have read the key in every case but the one that closes before reading:
//! a case that sent nothing could not leak.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::Duration;

use passage_e2e::capture::capture;
use passage_e2e::hostile::{Answer, HostileServer, ECHO_REQUEST};
use passage_management_client::operations::OPERATIONS;
use passage_management_client::{types, Client, ClientBuilder, Error, RetryPolicy, SecretValue};

const APP: &str = "app_leaks";
const USER: &str = "usr_leaks";
const DEVICE: &str = "dev_leaks";

/// The API key: letters and digits, as console keys are (long enough to be found by pieces).
fn api_key(n: usize) -> String {
    format!("pk_live_{n:04}QvZt7Lr2Xw9Kc4Hn8Bm3Jd6Fs1Gp5Ty0Ue")
}

/// A nonce the Flex verify call sends.
const NONCE: &str = "nonce_9f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// A magic-link secret a hostile 201 answers with.
const LINK_SECRET: &str = "mls_4Tq8Wz2Yx6Vb0Nc3Md7Ke1Lf5Jg9Hh";

/// The hostile answers every operation meets; some quote `key` (the key the request carries) in a
/// well-formed error, as a server that echoes its input would.
fn hostile_answers(key: &str) -> Vec<(&'static str, Answer)> {
    let json = |status: u16, body: String| Answer::Respond {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into_bytes(),
    };
    vec![
        (
            "400 whose message quotes the key",
            json(
                400,
                format!(
                    r#"{{"code":"invalid_request","error":"the key {key} is not allowed; nonce {NONCE} unknown"}}"#
                ),
            ),
        ),
        (
            "401 with the key in an unknown code",
            json(
                401,
                format!(r#"{{"code":"bad_key_{key}","error":"Bearer {key}"}}"#),
            ),
        ),
        (
            "400 quoting the request",
            json(
                400,
                format!(r#"{{"code":"invalid_request","error":"bad request: {ECHO_REQUEST}"}}"#),
            ),
        ),
        (
            "401 naming the key",
            json(
                401,
                format!(r#"{{"code":"invalid_access_token","error":"{ECHO_REQUEST}"}}"#),
            ),
        ),
        (
            "502 HTML page echoing the request",
            Answer::Respond {
                status: 502,
                headers: vec![("content-type".into(), "text/html".into())],
                body: format!("<html><pre>{ECHO_REQUEST}</pre></html>").into_bytes(),
            },
        ),
        (
            "200 that does not decode, echoing the request",
            json(200, format!(r#"{{"unexpected":"{ECHO_REQUEST}"}}"#)),
        ),
        (
            "418 undeclared, echoing the request",
            json(418, format!(r#"{{"teapot":"{ECHO_REQUEST}"}}"#)),
        ),
        (
            "302 to a Location carrying the key",
            Answer::Respond {
                status: 302,
                headers: vec![(
                    "location".into(),
                    format!("https://evil.example/callback?key={}#k", api_key(0)),
                )],
                body: Vec::new(),
            },
        ),
        (
            "201 magic link with its secret (decodes)",
            json(
                201,
                format!(
                    r#"{{"magic_link":{{"id":"ml_1","secret":"{LINK_SECRET}","url":"https://app.example/ml?psg_magic_link={LINK_SECRET}","activated":false,"app_id":"{APP}","identifier":"ada@example.com","redirect_url":"/","ttl":15,"type":"login","user_id":"{USER}"}}}}"#
                ),
            ),
        ),
        (
            "body cut short, echoing the request",
            Answer::Truncated {
                status: 500,
                content_type: "application/json".into(),
                body: format!(r#"{{"code":"internal_server_error","error":"{ECHO_REQUEST}"}}"#)
                    .into_bytes(),
                sent: 40,
            },
        ),
        ("closed after the request", Answer::DropAfterRequest),
    ]
}

/// Every printed form of a call's outcome.
fn printed<T: Debug>(result: &Result<T, Error>) -> Vec<String> {
    match result {
        Ok(value) => vec![format!("{value:?}")],
        Err(error) => {
            let mut forms = vec![format!("{error}"), format!("{error:?}")];
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                forms.push(format!("{inner} / {inner:?}"));
                source = inner.source();
            }
            let wrapped = anyhow::Error::new(clone_display(error)).context("the call failed");
            forms.push(format!("{wrapped:#} / {wrapped:?}"));
            forms
        }
    }
}

/// The error as an `anyhow`-wrappable value (its text, as an application would wrap it).
fn clone_display(error: &Error) -> std::io::Error {
    std::io::Error::other(format!("{error:#}"))
}

/// Runs operation `id` against `client`; the printed forms of its outcome.
async fn drive(id: &str, client: &Client) -> Vec<String> {
    match id {
        "get_app" => printed(&client.get_app().app_id(APP).send().await),
        "create_magic_link" => printed(
            &client
                .create_magic_link()
                .app_id(APP)
                .body(
                    types::CreateMagicLinkRequest::builder()
                        .email(Some("ada@example.com".to_string())),
                )
                .send()
                .await,
        ),
        "list_paginated_users" => printed(
            &client
                .list_paginated_users()
                .app_id(APP)
                .identifier("ada@example.com")
                .send()
                .await,
        ),
        "create_user" => printed(
            &client
                .create_user()
                .app_id(APP)
                .body(
                    types::CreateUserRequest::builder().email(Some("ada@example.com".to_string())),
                )
                .send()
                .await,
        ),
        "get_user" => printed(&client.get_user().app_id(APP).user_id(USER).send().await),
        "update_user" => printed(
            &client
                .update_user()
                .app_id(APP)
                .user_id(USER)
                .body(types::UpdateUserRequest::builder().phone(Some("+15555550123".to_string())))
                .send()
                .await,
        ),
        "delete_user" => printed(&client.delete_user().app_id(APP).user_id(USER).send().await),
        "activate_user" => printed(
            &client
                .activate_user()
                .app_id(APP)
                .user_id(USER)
                .send()
                .await,
        ),
        "deactivate_user" => printed(
            &client
                .deactivate_user()
                .app_id(APP)
                .user_id(USER)
                .send()
                .await,
        ),
        "list_user_devices" => printed(
            &client
                .list_user_devices()
                .app_id(APP)
                .user_id(USER)
                .send()
                .await,
        ),
        "delete_user_device" => printed(
            &client
                .delete_user_device()
                .app_id(APP)
                .user_id(USER)
                .device_id(DEVICE)
                .send()
                .await,
        ),
        "revoke_user_refresh_tokens" => printed(
            &client
                .revoke_user_refresh_tokens()
                .app_id(APP)
                .user_id(USER)
                .send()
                .await,
        ),
        "create_register_transaction" => printed(
            &client
                .create_register_transaction()
                .app_id(APP)
                .body(
                    types::CreateRegisterTransactionRequest::builder()
                        .external_id("ext-ada")
                        .passkey_display_name("Ada"),
                )
                .send()
                .await,
        ),
        "create_authenticate_transaction" => printed(
            &client
                .create_authenticate_transaction()
                .app_id(APP)
                .body(types::CreateAuthenticateTransactionRequest::builder().external_id("ext-ada"))
                .send()
                .await,
        ),
        "authenticate_verify_nonce" => printed(
            &client
                .authenticate_verify_nonce()
                .app_id(APP)
                .body(types::VerifyNonceRequest::builder().nonce(SecretValue::new(NONCE)))
                .send()
                .await,
        ),
        other => panic!("no driver for the Management operation {other}: add one"),
    }
}

/// `secret`, its percent-encoded form, and every 12-byte piece of it.
fn needles(secret: &str) -> Vec<String> {
    let mut out = vec![
        secret.to_owned(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ];
    out.extend(
        secret
            .as_bytes()
            .windows(12)
            .map(|w| String::from_utf8_lossy(w).into_owned()),
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_and_the_secrets_never_show_whatever_the_server_answers() {
    let logs = capture();
    let mut leaks = Vec::new();
    let mut cases = 0;
    let mut driven = BTreeSet::new();
    let answers = hostile_answers("").len();
    for n in 0..answers {
        for op in OPERATIONS.iter() {
            let key = api_key(cases);
            let (what, answer) = hostile_answers(&key).swap_remove(n);
            let server = HostileServer::start(answer.clone()).await;
            let client = ClientBuilder::new()
                .base_url(server.base_url())
                .api_key(key.clone())
                .timeout(Duration::from_secs(30))
                .retry_policy(
                    RetryPolicy::default()
                        .max_attempts(2)
                        .initial_backoff(Duration::from_millis(1))
                        .max_backoff(Duration::from_millis(2)),
                )
                .build()
                .expect("client builds");
            let before = logs.text().len();
            let mut forms = drive(op.operation_id, &client).await;
            forms.push(format!("{client:?}"));
            forms.push(logs.text()[before..].to_owned());
            driven.insert(op.operation_id);
            cases += 1;
            // The key went out (a case that sent nothing proves nothing).
            let received: String = server.received().iter().map(|r| r.text()).collect();
            assert!(
                received.contains(&format!("authorization: Bearer {key}")),
                "{} / {what}: the key was sent",
                op.operation_id
            );
            let mut secrets = vec![("API key", key.clone())];
            if op.operation_id == "authenticate_verify_nonce" {
                assert!(received.contains(NONCE), "the nonce was sent");
                secrets.push(("nonce", NONCE.to_owned()));
            }
            secrets.push(("magic-link secret", LINK_SECRET.to_owned()));
            for (name, secret) in &secrets {
                for needle in needles(secret) {
                    for form in &forms {
                        if form.contains(&needle) {
                            leaks.push(format!(
                                "{} / {what}: the {name} in {form:?}",
                                op.operation_id
                            ));
                        }
                    }
                }
            }
        }
    }
    let all: BTreeSet<&str> = OPERATIONS.iter().map(|o| o.operation_id).collect();
    assert_eq!(driven, all, "every Management operation was driven");
    assert!(
        leaks.is_empty(),
        "{} leaks in {cases} cases:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    println!(
        "{cases} cases ({} operations x {answers} answers): 0 leaks",
        all.len()
    );
}
