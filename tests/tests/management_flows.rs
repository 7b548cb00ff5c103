//! Both halves together: a front end on the Auth API (the generated Auth client) and its back end on
//! the Management API (the generated Management client, with the app's API key), over one emulator.
//! Every answer either client received is checked against its spec (the emulator records them all).

use futures::TryStreamExt;
use passage_auth_client::{types, Error as AuthError, SecretValue};
use passage_e2e::authenticator::SoftAuthenticator;
use passage_e2e::harness::{jwt_parts, TestEnv};
use passage_emulator::{AppConfig, EmulatorConfig, MetadataFieldConfig};
use passage_management_client::types as management;
use passage_management_client::{CredentialsExt, Error as ManagementError, UsersExt};
use serde_json::{json, Value};

const ORIGIN: &str = "https://app.passage.test";

fn auth_failure(e: AuthError) -> (Option<u16>, String) {
    (
        e.status().map(|s| s.as_u16()),
        e.code().map(|c| c.as_str().to_owned()).unwrap_or_default(),
    )
}

fn management_failure(e: ManagementError) -> (Option<u16>, String) {
    (
        e.status().map(|s| s.as_u16()),
        e.code().map(|c| c.as_str().to_owned()).unwrap_or_default(),
    )
}

fn with_nickname() -> EmulatorConfig {
    EmulatorConfig {
        apps: vec![AppConfig {
            user_metadata_schema: vec![MetadataFieldConfig {
                field_name: "nickname".into(),
                field_type: "string".into(),
                friendly_name: None,
                profile: true,
                registration: false,
            }],
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    }
}

/// The user with `user_id`, through the Management API.
async fn get_user(env: &TestEnv, user_id: &str) -> management::UserInfo {
    env.management
        .get_user()
        .app_id(&env.app_id)
        .user_id(user_id)
        .send()
        .await
        .expect("get_user")
        .into_inner()
        .user
}

/// The user an identifier names, through the Management API (as the official SDKs look them up).
async fn find(env: &TestEnv, identifier: &str) -> Option<management::UserInfo> {
    env.management
        .find_user_by_identifier(&env.app_id, identifier)
        .await
        .expect("find_user_by_identifier")
}

/// Refreshes `auth`'s session through the Auth API.
async fn refresh(env: &TestEnv, auth: &types::AuthResult) -> Result<types::AuthResult, AuthError> {
    env.client
        .refresh_auth_token()
        .app_id(&env.app_id)
        .body(
            types::RefreshAuthTokenRequest::builder()
                .refresh_token(auth.refresh_token.clone().expect("a refresh token")),
        )
        .send()
        .await
        .map(|r| r.into_inner().auth_result)
}

#[tokio::test]
async fn a_user_made_by_the_back_end_logs_in_and_one_signed_up_by_the_front_end_is_managed() {
    let env = TestEnv::with_config(with_nickname()).await;
    // The back end makes a user; the front end logs them in by passcode.
    let made = env
        .management
        .create_user()
        .app_id(&env.app_id)
        .body(
            management::CreateUserRequest::builder()
                .email(Some("Back.End@Example.com".to_owned()))
                .user_metadata(json!({"nickname": "be"}).as_object().unwrap().clone()),
        )
        .send()
        .await
        .expect("create_user");
    assert_eq!(made.status().as_u16(), 201);
    let made = made.into_inner().user;
    assert_eq!(made.email, "back.end@example.com");
    assert_eq!(made.status.as_str(), "pending");
    assert_eq!(
        made.last_login_at.timestamp(),
        -62_135_596_800,
        "never logged in"
    );
    let auth = env.login_by_otp("back.end@example.com").await;
    let (_, claims) = jwt_parts(auth.auth_token.expose_secret());
    assert_eq!(claims["sub"], json!(made.id));
    let after = get_user(&env, &made.id).await;
    assert_eq!(after.status.as_str(), "active");
    assert_eq!(after.login_count, 1);
    assert!(after.email_verified, "the passcode verified the address");
    assert!(after.last_login_at > made.last_login_at);

    // The front end signs a user up; the back end finds, changes and deletes them.
    let front = env.register_by_otp("front@example.com").await;
    let found = find(&env, "front@example.com").await.expect("found");
    assert_eq!(found.status.as_str(), "active");
    let changed = env
        .management
        .update_user()
        .app_id(&env.app_id)
        .user_id(&found.id)
        .body(
            management::UpdateUserRequest::builder()
                .email(Some("front.moved@example.com".to_owned()))
                .phone(Some("+15550100200".to_owned()))
                .user_metadata(json!({"nickname": "fe"}).as_object().unwrap().clone()),
        )
        .send()
        .await
        .expect("update_user")
        .into_inner()
        .user;
    assert_eq!(changed.email, "front.moved@example.com");
    assert!(!changed.email_verified, "a new address is not verified yet");
    assert_eq!(changed.user_metadata.unwrap()["nickname"], json!("fe"));
    // The front end sees the change: the new phone logs in, the old address is free.
    let by_phone = env
        .client
        .check_user_identifier()
        .app_id(&env.app_id)
        .identifier("+15550100200")
        .send()
        .await
        .unwrap()
        .into_inner()
        .user
        .expect("the new phone names the user");
    assert_eq!(by_phone.id, found.id);
    let me = env
        .user_client(&front)
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(me.email, "front.moved@example.com");
    assert!(find(&env, "front@example.com").await.is_none());

    let deleted = env
        .management
        .delete_user()
        .app_id(&env.app_id)
        .user_id(&found.id)
        .send()
        .await
        .expect("delete_user");
    assert_eq!(deleted.status().as_u16(), 200);
    assert_eq!(
        auth_failure(refresh(&env, &front).await.unwrap_err()),
        (Some(401), "invalid_refresh_token".into())
    );
    let gone = env
        .management
        .get_user()
        .app_id(&env.app_id)
        .user_id(&found.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        management_failure(gone),
        (Some(404), "user_not_found".into())
    );
    env.assert_conformant();
}

#[tokio::test]
async fn revoking_tokens_and_deactivating_end_what_the_front_end_holds() {
    let env = TestEnv::start().await;
    let email = "held@example.com";
    let first = env.register_by_otp(email).await;
    let user_id = find(&env, email).await.expect("found").id;
    let rotated = refresh(&env, &first).await.expect("the session refreshes");

    // Revoking the user's refresh tokens: the next refresh is a 401.
    let revoked = env
        .management
        .revoke_user_refresh_tokens()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .send()
        .await
        .expect("revoke_user_refresh_tokens");
    assert_eq!(revoked.status().as_u16(), 200);
    assert_eq!(
        auth_failure(refresh(&env, &rotated).await.unwrap_err()),
        (Some(401), "invalid_refresh_token".into())
    );
    // A new login is a new session.
    let second = env.login_by_otp(email).await;
    refresh(&env, &second)
        .await
        .expect("a new session refreshes");

    // Deactivating: logins answer 403, and the session ends.
    let user = env
        .management
        .deactivate_user()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .send()
        .await
        .expect("deactivate_user")
        .into_inner()
        .user;
    assert_eq!(user.status.as_str(), "inactive");
    let login = env
        .client
        .login_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::LoginOneTimePasscodeRequest::builder().identifier(email))
        .send()
        .await
        .unwrap_err();
    assert_eq!(auth_failure(login), (Some(403), "user_not_active".into()));
    let link = env
        .client
        .login_magic_link()
        .app_id(&env.app_id)
        .body(types::LoginMagicLinkRequest::builder().identifier(email))
        .send()
        .await
        .unwrap_err();
    assert_eq!(auth_failure(link), (Some(403), "user_not_active".into()));
    let ended = refresh(&env, &second).await.unwrap_err();
    assert_eq!(auth_failure(ended).0, Some(401));

    let user = env
        .management
        .activate_user()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .send()
        .await
        .expect("activate_user")
        .into_inner()
        .user;
    assert_eq!(user.status.as_str(), "active");
    env.login_by_otp(email).await;

    // With refresh tokens off, revoking them is refused.
    env.emulator
        .admin()
        .update_app_raw(&env.app_id, &json!({"refresh_tokens": false}))
        .await
        .unwrap();
    let refused = env
        .management
        .revoke_user_refresh_tokens()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        management_failure(refused),
        (Some(403), "operation_not_allowed".into())
    );
    env.assert_conformant();
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("credential JSON fits the generated type")
}

#[tokio::test]
async fn a_deleted_device_no_longer_logs_in() {
    let env = TestEnv::start().await;
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let email = "device@example.com";
    let user_id = env.register_passkey(&mut authenticator, email).await;

    let devices = env
        .management
        .list_user_devices()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .send()
        .await
        .expect("list_user_devices")
        .into_inner()
        .devices;
    assert_eq!(devices.len(), 1);
    let device = &devices[0];
    assert_eq!(device.type_.as_str(), "passkey");
    assert_eq!(
        authenticator.credential_ids(),
        vec![device.cred_id.clone()],
        "the device is the authenticator's credential"
    );
    let user = get_user(&env, &user_id).await;
    assert!(user.webauthn);
    assert_eq!(user.webauthn_devices.len(), 1);

    // A passkey login works until the back end deletes the device.
    let login = |identifier: Option<&'static str>| {
        let env = &env;
        async move {
            let body = match identifier {
                Some(i) => types::LoginWebAuthnStartRequest::builder().identifier(i.to_owned()),
                None => types::LoginWebAuthnStartRequest::builder(),
            };
            env.client
                .login_webauthn_start()
                .app_id(&env.app_id)
                .body(body)
                .send()
                .await
                .map(|r| r.into_inner())
        }
    };
    let start = login(None).await.expect("discoverable start");
    let options = serde_json::to_value(&start.handshake.challenge).unwrap();
    let assertion = authenticator.login(&options).await.expect("asserts");
    env.client
        .login_webauthn_finish()
        .app_id(&env.app_id)
        .body(
            types::LoginWebAuthnFinishRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(typed::<types::CredentialAssertionResponse>(
                    assertion.clone(),
                )),
        )
        .send()
        .await
        .expect("the passkey logs in");
    let deleted = env
        .management
        .delete_user_device()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .device_id(&device.id)
        .send()
        .await
        .expect("delete_user_device");
    assert_eq!(deleted.status().as_u16(), 200);
    let again = env
        .management
        .delete_user_device()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .device_id(&device.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        management_failure(again),
        (Some(404), "device_not_found".into())
    );
    // By identifier: the user has no passkey any more.
    let refused = login(Some(email)).await.unwrap_err();
    assert_eq!(
        auth_failure(refused),
        (Some(409), "user_has_no_passkeys".into())
    );
    // Usernameless: the authenticator still offers the credential, which no longer logs in.
    let start = login(None).await.expect("discoverable start");
    let options = serde_json::to_value(&start.handshake.challenge).unwrap();
    let assertion = authenticator.login(&options).await.expect("asserts");
    let refused = env
        .client
        .login_webauthn_finish()
        .app_id(&env.app_id)
        .body(
            types::LoginWebAuthnFinishRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(typed::<types::CredentialAssertionResponse>(assertion)),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(auth_failure(refused).0, Some(400..=499)),
        "a deleted passkey is refused"
    );
    assert!(!get_user(&env, &user_id).await.webauthn);
    env.assert_conformant();
}

#[tokio::test]
async fn magic_links_made_by_the_back_end_activate_through_the_auth_api() {
    let env = TestEnv::start().await;
    // Embeddable: handed back, nothing sent; for an address no user has yet.
    let link = env
        .management
        .create_magic_link()
        .app_id(&env.app_id)
        .body(
            management::CreateMagicLinkRequest::builder()
                .email(Some("Linked@Example.com".to_owned()))
                .send(false),
        )
        .send()
        .await
        .expect("create_magic_link");
    assert_eq!(link.status().as_u16(), 201);
    let link = link.into_inner().magic_link;
    assert_eq!(link.identifier, "linked@example.com");
    assert!(!link.activated);
    assert_eq!(link.ttl, 5, "the app's magic-link lifetime, in minutes");
    assert!(env.emulator.outbox("linked@example.com").is_empty());
    let user = get_user(&env, &link.user_id).await;
    assert_eq!(user.status.as_str(), "pending");
    let activated = env
        .client
        .activate_magic_link()
        .app_id(&env.app_id)
        .body(types::ActivateMagicLinkRequest::builder().magic_link(link.secret.clone()))
        .send()
        .await
        .expect("the link activates")
        .into_inner()
        .auth_result;
    let (_, claims) = jwt_parts(activated.auth_token.expose_secret());
    assert_eq!(claims["sub"], json!(link.user_id));
    // The front end's poll of the link's status sees it activated.
    let polled = env
        .client
        .magic_link_status()
        .app_id(&env.app_id)
        .body(types::GetMagicLinkStatusRequest::builder().id(link.id.clone()))
        .send()
        .await
        .expect("status");
    assert!(polled.status().is_success());
    let user = get_user(&env, &link.user_id).await;
    assert_eq!(user.status.as_str(), "active");
    assert!(user.email_verified);
    let twice = env
        .client
        .activate_magic_link()
        .app_id(&env.app_id)
        .body(types::ActivateMagicLinkRequest::builder().magic_link(link.secret))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        auth_failure(twice),
        (Some(401), "invalid_magic_link".into())
    );

    // Sent when asked: the message in the outbox carries the link.
    let sent = env
        .management
        .create_magic_link()
        .app_id(&env.app_id)
        .body(
            management::CreateMagicLinkRequest::builder()
                .user_id(Some(link.user_id.as_str().try_into().unwrap()))
                .channel(Some(management_channel("email")))
                .send(true)
                .ttl(Some(std::num::NonZeroU64::new(10).unwrap())),
        )
        .send()
        .await
        .expect("create_magic_link, sent")
        .into_inner()
        .magic_link;
    assert_eq!(sent.ttl, 10);
    let message = env.last_message("linked@example.com");
    assert_eq!(message.magic_link_id.as_deref(), Some(sent.id.as_str()));
    let secret = message.magic_link_secret.expect("the sent secret");
    env.client
        .activate_magic_link()
        .app_id(&env.app_id)
        .body(types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::new(secret)))
        .send()
        .await
        .expect("the sent link activates");
    assert_eq!(get_user(&env, &link.user_id).await.login_count, 2);
    env.assert_conformant();
}

fn management_channel(name: &str) -> passage_management_client::open_enums::MagicLinkChannel {
    serde_json::from_value(json!(name)).expect("a channel")
}

#[tokio::test]
async fn the_user_list_pages_through_the_generated_client() {
    let env = TestEnv::start().await;
    let mut made = Vec::new();
    for i in 0..7 {
        let user = env
            .management
            .create_user()
            .app_id(&env.app_id)
            .body(
                management::CreateUserRequest::builder()
                    .email(Some(format!("listed{i}@example.com"))),
            )
            .send()
            .await
            .expect("create_user")
            .into_inner()
            .user;
        made.push(user.id);
        // Distinct creation times, so that the default order (newest first) is the reverse.
        env.emulator.advance_clock(1);
    }
    env.login_by_otp("listed3@example.com").await;
    let all: Vec<String> = env
        .management
        .all_users(&env.app_id)
        .page_size(std::num::NonZeroU32::new(3).unwrap())
        .stream()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("every page");
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(all, newest_first);

    let page = env
        .management
        .list_paginated_users()
        .app_id(&env.app_id)
        .limit(std::num::NonZeroU32::new(3).unwrap())
        .page(std::num::NonZeroU32::new(3).unwrap())
        .send()
        .await
        .expect("the last page")
        .into_inner();
    assert_eq!(page.total_users, 7);
    assert_eq!(page.users.len(), 1, "the last page holds the rest exactly");
    assert_eq!(page.users[0].id, made[0]);
    assert!(page.links.next.href.is_empty());
    assert!(page.links.previous.href.contains("page=2"));
    assert!(page.links.last.href.contains("page=3"));

    let active: Vec<String> = env
        .management
        .all_users(&env.app_id)
        .filter(|request| request.status("active").order_by("created_at:ASC"))
        .stream()
        .map_ok(|u| u.email)
        .try_collect()
        .await
        .expect("filtered pages");
    assert_eq!(active, ["listed3@example.com"]);
    let logged_in: Vec<String> = env
        .management
        .all_users(&env.app_id)
        .filter(|request| request.login_count("gt:0"))
        .stream()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("filtered pages");
    assert_eq!(logged_in, [made[3].clone()]);
    let found = find(&env, "LISTED5@example.com").await.expect("found");
    assert_eq!(found.id, made[5]);
    env.assert_conformant();
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_refused_and_get_app_is_open() {
    let env = TestEnv::start().await;
    for key in ["not-the-app-key", "emulator-api-kez"] {
        let client = env.management.with_api_key(key);
        let refused = client
            .list_paginated_users()
            .app_id(&env.app_id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            management_failure(refused),
            (Some(401), "invalid_access_token".into()),
            "{key:?}"
        );
    }
    let anonymous = passage_management_client::ClientBuilder::new()
        .base_url(env.emulator.management_base_url())
        .build()
        .unwrap();
    let app = anonymous
        .get_app()
        .app_id(&env.app_id)
        .send()
        .await
        .expect("get_app needs no key")
        .into_inner()
        .app;
    assert_eq!(app.id, env.app_id);
    assert!(app.auth_methods.passkeys.enabled);
    let refused = anonymous
        .get_user()
        .app_id(&env.app_id)
        .user_id("usr_any")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        management_failure(refused),
        (Some(401), "invalid_access_token".into())
    );
    env.assert_conformant();
}
