//! The admin API from a test's point of view: state set up through `AdminClient` (in-process and at the
//! emulator's URL) and the Management API, then exercised with the generated client, every answer
//! checked against its spec.

use passage_auth_client::CredentialsExt;
use passage_auth_client::{types, Error, SecretValue};
use passage_e2e::harness::TestEnv;
use passage_emulator::admin_client::AdminClient;
use passage_emulator::{AppConfig, EmulatorConfig, MetadataFieldConfig};
use passage_management_client::types as management;
use serde_json::json;

fn app_with_nickname() -> EmulatorConfig {
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

#[tokio::test]
async fn a_seeded_session_drives_the_current_user_operations() {
    let env = TestEnv::with_config(app_with_nickname()).await;
    let admin = AdminClient::connect(env.emulator.root_url()).unwrap();
    let metadata = json!({"nickname": "ada"}).as_object().unwrap().clone();
    let user = env
        .management
        .create_user()
        .app_id(&env.app_id)
        .body(
            management::CreateUserRequest::builder()
                .email(Some("seeded@example.com".to_owned()))
                .user_metadata(metadata),
        )
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    let session = admin.create_session(&env.app_id, &user.id).await.unwrap();
    let me = env.client.with_auth_token(session.auth_token.clone());
    let current = me
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(current.id, user.id);
    assert!(!current.email_verified);
    assert_eq!(
        current.status,
        passage_auth_client::open_enums::UserStatus::Active,
        "the session's login activated the pending user"
    );
    assert!(current.webauthn_types.is_empty());
    assert_eq!(
        current.user_metadata.unwrap()["nickname"],
        json!("ada"),
        "the metadata the back end set is the user's metadata"
    );
    // The admin session's refresh token works with the generated client.
    let refreshed = env
        .client
        .refresh_auth_token()
        .app_id(&env.app_id)
        .body(
            types::RefreshAuthTokenRequest::builder()
                .refresh_token(SecretValue::new(session.refresh_token.clone().unwrap())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status().as_u16(), 201);
    env.assert_conformant();
}

#[tokio::test]
async fn an_inactive_user_reaches_every_403_path_then_recovers() {
    let env = TestEnv::start().await;
    let admin = env.emulator.admin();
    let email = "dormant@example.com";
    let auth = env.register_by_otp(email).await;
    let user_id = env
        .management
        .list_paginated_users()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .users[0]
        .id
        .clone();
    // A passcode sent while active, redeemed after deactivation, is refused too.
    env.client
        .login_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::LoginOneTimePasscodeRequest::builder().identifier(email))
        .send()
        .await
        .unwrap();
    let (otp_id, otp) = env.last_otp(email);
    env.management
        .deactivate_user()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .send()
        .await
        .unwrap();
    let code = |e: Error| {
        (
            e.status().map(|s| s.as_u16()),
            e.code().map(|c| c.as_str().to_owned()),
        )
    };
    let forbidden = (Some(403), Some("user_not_active".to_owned()));
    let login = env
        .client
        .login_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::LoginOneTimePasscodeRequest::builder().identifier(email))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(login), forbidden, "login/otp");
    let link = env
        .client
        .login_magic_link()
        .app_id(&env.app_id)
        .body(types::LoginMagicLinkRequest::builder().identifier(email))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(link), forbidden, "login/magic-link");
    let activate = env
        .client
        .activate_one_time_passcode()
        .app_id(&env.app_id)
        .body(
            types::ActivateOneTimePasscodeRequest::builder()
                .otp_id(otp_id)
                .otp(SecretValue::new(otp)),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(activate), forbidden, "otp/activate");
    let webauthn = env
        .client
        .login_webauthn_start()
        .app_id(&env.app_id)
        .body(types::LoginWebAuthnStartRequest::builder().identifier(email.to_owned()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(webauthn), forbidden, "login/webauthn/start");
    let session = admin
        .create_session(&env.app_id, &user_id)
        .await
        .unwrap_err();
    assert_eq!(session.status(), Some(403));
    // The user's existing session does not outlive the deactivation: the auth token is refused by
    // the signed-in user's operations, the refresh token's family is revoked.
    let me = env.user_client(&auth);
    let profile = me
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(profile), forbidden, "currentuser");
    let links = me
        .get_currentuser_social_connections()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap_err();
    // (Its 403 is declared from spec 1.2.0; the status is what the client generated before it reads.)
    assert_eq!(
        links.status().map(|s| s.as_u16()),
        Some(403),
        "currentuser/social-connections"
    );
    let refreshed = env
        .client
        .refresh_auth_token()
        .app_id(&env.app_id)
        .body(
            types::RefreshAuthTokenRequest::builder()
                .refresh_token(auth.refresh_token.clone().expect("a refresh token")),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(refreshed),
        (Some(401), Some("invalid_refresh_token".to_owned())),
        "tokens"
    );

    env.management
        .activate_user()
        .app_id(&env.app_id)
        .user_id(&user_id)
        .send()
        .await
        .unwrap();
    env.login_by_otp(email).await;
    env.assert_conformant();
}

#[tokio::test]
async fn reset_between_tests_starts_from_nothing() {
    let env = TestEnv::start().await;
    let admin = env.emulator.admin();
    let users = || async {
        env.management
            .list_paginated_users()
            .app_id(&env.app_id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .users
    };
    env.register_by_otp("first@example.com").await;
    admin.reset(None).await.unwrap();
    assert!(env.emulator.requests().is_empty());
    assert!(users().await.is_empty());
    assert!(env.emulator.outbox("first@example.com").is_empty());
    // The same identifier registers again from scratch.
    env.register_by_otp("first@example.com").await;
    let users = users().await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].login_count, 1);
    env.assert_conformant();
}
