//! The admin API through its typed client, in-process and over HTTP (both must answer the same).

use passage_emulator::admin_client::{AdminClient, AdminError, NewUser, UserPatch};
use passage_emulator::base::enums::{OutboxKind, UserStatus};
use passage_emulator::settings::{SeedConfig, SeedUser};
use passage_emulator::{
    AppConfig, Emulator, EmulatorConfig, EmulatorHandle, FaultKind, FaultRule, MetadataFieldConfig,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn start(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("emulator starts")
}

/// The two transports of the same emulator.
fn clients(emulator: &EmulatorHandle) -> [(&'static str, AdminClient); 2] {
    [
        ("in-process", emulator.admin()),
        (
            "http",
            AdminClient::connect(emulator.root_url()).expect("client"),
        ),
    ]
}

fn api_error(result: Result<impl std::fmt::Debug, AdminError>) -> (u16, String) {
    match result {
        Err(AdminError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A `/v1` call with an optional bearer token; returns status and JSON body.
async fn v1(
    emulator: &EmulatorHandle,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!(
        "{}/apps/{}{path}",
        emulator.base_url(),
        emulator.default_app_id()
    );
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("answer");
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn create_list_and_refuse_bad_users_on_both_transports() {
    let emulator = start(EmulatorConfig::default()).await;
    let app = emulator.default_app_id().to_owned();
    for (name, admin) in clients(&emulator) {
        admin.reset(None).await.unwrap();
        let mut new = NewUser::new(format!("Ada-{name}@Example.com"));
        new.email_verified = true;
        let user = admin.create_user(&app, &new).await.unwrap();
        assert_eq!(user.email, format!("ada-{name}@example.com"), "{name}");
        assert!(user.email_verified && !user.phone_verified);
        assert_eq!(user.status, UserStatus::Active);
        assert_eq!(user.active_sessions, 0);
        assert_eq!(admin.users(&app).await.unwrap(), vec![user.clone()]);
        assert_eq!(admin.user(&app, &user.id).await.unwrap(), user);
        // The public API sees the same user.
        let (status, body) = v1(
            &emulator,
            reqwest::Method::GET,
            &format!("/users?identifier={}", user.email),
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["user"]["id"], json!(user.id));

        let taken = admin.create_user(&app, &new).await;
        assert_eq!(api_error(taken), (400, "invalid_request".into()), "{name}");
        let bad = admin
            .create_user(&app, &NewUser::new("not-an-identifier"))
            .await;
        assert_eq!(api_error(bad), (400, "invalid_request".into()));
        let mut phone_flag = NewUser::new("bob@example.com");
        phone_flag.phone_verified = true;
        assert_eq!(
            api_error(admin.create_user(&app, &phone_flag).await),
            (400, "invalid_request".into())
        );
        let unknown_app = admin
            .create_user("no-such-app", &NewUser::new("c@example.com"))
            .await;
        assert_eq!(api_error(unknown_app), (404, "app_not_found".into()));
        let unknown_user = admin.user(&app, "usr_missing").await;
        assert_eq!(api_error(unknown_user), (404, "user_not_found".into()));
        let mut fixed = NewUser::new(format!("fixed-{name}@example.com"));
        fixed.id = Some(format!("usr_fixed_{name}"));
        fixed.status = UserStatus::Pending;
        let created = admin.create_user(&app, &fixed).await.unwrap();
        assert_eq!(created.id, format!("usr_fixed_{name}"));
        assert_eq!(created.status, UserStatus::Pending);
        fixed.identifier = "other@example.com".into();
        assert_eq!(
            api_error(admin.create_user(&app, &fixed).await),
            (400, "invalid_request".into())
        );
    }
}

#[tokio::test]
async fn unknown_fields_and_malformed_bodies_are_invalid_request() {
    let emulator = start(EmulatorConfig::default()).await;
    let url = format!(
        "{}/_emulator/apps/{}/users",
        emulator.root_url(),
        emulator.default_app_id()
    );
    let client = reqwest::Client::new();
    for body in [
        r#"{"identifier":"a@b.co","statuss":"active"}"#,
        r#"{"identifier":"a@b.co","status":"asleep"}"#,
        r#"{"identifier":"#,
        r#"{}"#,
    ] {
        let resp = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["code"], "invalid_request", "{body}");
    }
}

#[tokio::test]
async fn sessions_without_a_ceremony_work_on_the_api() {
    let emulator = start(EmulatorConfig::default()).await;
    let app = emulator.default_app_id().to_owned();
    for (name, admin) in clients(&emulator) {
        let user = admin
            .create_user(&app, &NewUser::new(format!("s-{name}@example.com")))
            .await
            .unwrap();
        let session = admin.create_session(&app, &user.id).await.unwrap();
        let (status, body) = v1(
            &emulator,
            reqwest::Method::GET,
            "/currentuser",
            Some(&session.auth_token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(body["user"]["id"], json!(user.id));
        let refresh = session.refresh_token.clone().expect("refresh token");
        let (status, body) = v1(
            &emulator,
            reqwest::Method::POST,
            "/tokens",
            None,
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(body["auth_result"]["auth_token"].is_string());
        let after = admin.user(&app, &user.id).await.unwrap();
        assert_eq!(after.login_count, 1);
        assert_eq!(after.active_sessions, 1);
        // Debug output of a session never shows its tokens.
        let text = format!("{session:?}");
        assert!(!text.contains(&session.auth_token) && !text.contains(&refresh));
        assert_eq!(
            api_error(admin.create_session(&app, "usr_missing").await),
            (404, "user_not_found".into())
        );
    }
}

#[tokio::test]
async fn inactive_users_are_refused_until_reactivated() {
    let emulator = start(EmulatorConfig::default()).await;
    let app = emulator.default_app_id().to_owned();
    for (name, admin) in clients(&emulator) {
        let identifier = format!("i-{name}@example.com");
        let user = admin
            .create_user(&app, &NewUser::new(identifier.clone()))
            .await
            .unwrap();
        let inactive = UserPatch {
            status: Some(UserStatus::Inactive),
            ..UserPatch::default()
        };
        let changed = admin.update_user(&app, &user.id, &inactive).await.unwrap();
        assert_eq!(changed.status, UserStatus::Inactive);
        let body = json!({ "identifier": identifier });
        for path in ["/login/otp", "/login/magic-link", "/login/webauthn/start"] {
            let (status, err) = v1(
                &emulator,
                reqwest::Method::POST,
                path,
                None,
                Some(body.clone()),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{name} {path}");
            assert_eq!(err["code"], "user_not_active", "{path}");
        }
        assert_eq!(
            api_error(admin.create_session(&app, &user.id).await),
            (403, "user_not_active".into())
        );
        let active = UserPatch {
            status: Some(UserStatus::Active),
            email_verified: Some(true),
            ..UserPatch::default()
        };
        let back = admin.update_user(&app, &user.id, &active).await.unwrap();
        assert!(back.email_verified);
        let (status, _) = v1(
            &emulator,
            reqwest::Method::POST,
            "/login/otp",
            None,
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let phone = UserPatch {
            phone_verified: Some(true),
            ..UserPatch::default()
        };
        assert_eq!(
            api_error(admin.update_user(&app, &user.id, &phone).await),
            (400, "invalid_request".into())
        );
    }
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions() {
    let emulator = start(EmulatorConfig::default()).await;
    let app = emulator.default_app_id().to_owned();
    let admin = emulator.admin();
    let user = admin
        .create_user(&app, &NewUser::new("gone@example.com"))
        .await
        .unwrap();
    let session = admin.create_session(&app, &user.id).await.unwrap();
    admin.delete_user(&app, &user.id).await.unwrap();
    let (status, body) = v1(
        &emulator,
        reqwest::Method::GET,
        "/currentuser",
        Some(&session.auth_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "user_not_found");
    let (status, _) = v1(
        &emulator,
        reqwest::Method::POST,
        "/tokens",
        None,
        Some(json!({ "refresh_token": session.refresh_token.unwrap() })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api_error(admin.delete_user(&app, &user.id).await),
        (404, "user_not_found".into())
    );
}

#[tokio::test]
async fn metadata_follows_the_app_schema_changed_at_runtime() {
    let emulator = start(EmulatorConfig::default()).await;
    let app = emulator.default_app_id().to_owned();
    let admin = AdminClient::connect(emulator.root_url()).unwrap();
    let mut new = NewUser::new("meta@example.com");
    new.user_metadata.insert("age".into(), json!(30));
    assert_eq!(
        api_error(admin.create_user(&app, &new).await),
        (400, "invalid_request".into()),
        "no schema yet"
    );
    let summary = admin
        .update_app(&app, |config| {
            config.name = "Renamed".into();
            config.user_metadata_schema = vec![MetadataFieldConfig {
                field_name: "age".into(),
                field_type: "integer".into(),
                friendly_name: None,
                profile: true,
                registration: false,
            }];
        })
        .await
        .unwrap();
    assert_eq!(summary.name, "Renamed");
    let user = admin.create_user(&app, &new).await.unwrap();
    assert_eq!(user.user_metadata["age"], json!(30));
    let patch = UserPatch {
        user_metadata: Some(json!({"age": "thirty"}).as_object().unwrap().clone()),
        ..UserPatch::default()
    };
    assert_eq!(
        api_error(admin.update_user(&app, &user.id, &patch).await),
        (400, "invalid_request".into())
    );
    let clear = UserPatch {
        user_metadata: Some(json!({"age": null}).as_object().unwrap().clone()),
        ..UserPatch::default()
    };
    let cleared = admin.update_user(&app, &user.id, &clear).await.unwrap();
    assert!(cleared.user_metadata.is_empty());
    let (_, got) = v1(&emulator, reqwest::Method::GET, "", None, None).await;
    assert_eq!(got["app"]["name"], "Renamed");
}

#[tokio::test]
async fn app_settings_change_at_runtime_and_bad_ones_are_refused() {
    let emulator = start(EmulatorConfig::default()).await;
    let app = emulator.default_app_id().to_owned();
    let admin = emulator.admin();
    admin
        .update_app_raw(&app, &json!({"public_signup": false}))
        .await
        .unwrap();
    let (status, body) = v1(
        &emulator,
        reqwest::Method::POST,
        "/register/otp",
        None,
        Some(json!({"identifier": "new@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "operation_not_allowed");
    // Admin-created users are not public sign-ups.
    admin
        .create_user(&app, &NewUser::new("new@example.com"))
        .await
        .unwrap();
    for bad in [
        json!({"id": "renamed"}),
        json!({"otp_ttl_seconds": -1}),
        json!({"no_such_setting": 1}),
        json!({"allowed_identifier": "carrier-pigeon"}),
    ] {
        assert_eq!(
            api_error(admin.update_app_raw(&app, &bad).await),
            (400, "invalid_request".into()),
            "{bad}"
        );
    }
    assert_eq!(
        api_error(admin.update_app_raw("nope", &json!({})).await),
        (404, "app_not_found".into())
    );
}

#[tokio::test]
async fn each_app_signs_with_its_own_key() {
    let config = EmulatorConfig {
        apps: vec![
            AppConfig {
                id: "one".into(),
                ..AppConfig::default()
            },
            AppConfig {
                id: "two".into(),
                ..AppConfig::default()
            },
        ],
        ..EmulatorConfig::default()
    };
    let emulator = start(config).await;
    let admin = emulator.admin();
    let created = admin
        .create_app(&AppConfig {
            id: "three".into(),
            ..AppConfig::default()
        })
        .await
        .unwrap();
    let apps = admin.apps().await.unwrap();
    let mut kids: Vec<String> = apps.iter().filter_map(|a| a.active_kid.clone()).collect();
    assert_eq!(kids.len(), 3);
    assert!(kids.contains(created.active_kid.as_ref().unwrap()));
    kids.sort();
    kids.dedup();
    assert_eq!(kids.len(), 3, "every app has its own key");
    // A token of one app is not accepted by another.
    let user = admin
        .create_user("one", &NewUser::new("k@example.com"))
        .await
        .unwrap();
    let session = admin.create_session("one", &user.id).await.unwrap();
    let resp = reqwest::Client::new()
        .get(format!("{}/apps/two/currentuser", emulator.base_url()))
        .bearer_auth(&session.auth_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reset_empties_everything_or_one_app() {
    let config = EmulatorConfig {
        apps: vec![
            AppConfig {
                id: "one".into(),
                ..AppConfig::default()
            },
            AppConfig {
                id: "two".into(),
                ..AppConfig::default()
            },
        ],
        ..EmulatorConfig::default()
    };
    let emulator = start(config).await;
    let admin = emulator.admin();
    let client = reqwest::Client::new();
    for app in ["one", "two"] {
        let resp = client
            .post(format!("{}/apps/{app}/register/otp", emulator.base_url()))
            .json(&json!({"identifier": format!("{app}@example.com")}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        admin
            .add_fault(&FaultRule {
                path_prefix: format!("/v1/apps/{app}/tokens"),
                method: None,
                count: 1,
                kind: FaultKind::Status500,
                retry_after: None,
                delay_ms: None,
                status: None,
            })
            .await
            .unwrap();
    }
    admin.reset(Some("one")).await.unwrap();
    assert!(admin.users("one").await.unwrap().is_empty());
    assert_eq!(admin.users("two").await.unwrap().len(), 1);
    let outbox = admin.outbox(None).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].app_id, "two");
    assert_eq!(outbox[0].kind, OutboxKind::Otp);
    let faults = admin.faults().await.unwrap();
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].path_prefix, "/v1/apps/two/tokens");
    let requests = admin.requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/apps/two/register/otp");
    assert_eq!(
        api_error(admin.reset(Some("nope")).await),
        (404, "app_not_found".into())
    );

    admin.reset(None).await.unwrap();
    assert!(admin.users("two").await.unwrap().is_empty());
    assert!(admin.outbox(None).await.unwrap().is_empty());
    assert!(admin.faults().await.unwrap().is_empty());
    assert!(admin.requests().await.unwrap().is_empty());
    // Apps, settings and keys stay.
    assert_eq!(admin.apps().await.unwrap().len(), 2);
}

#[tokio::test]
async fn seed_users_exist_at_start() {
    let seed: SeedConfig = toml::from_str(
        r#"
        [[users]]
        identifier = "seeded@example.com"
        email_verified = true
        [[users]]
        app_id = "emulator-app"
        identifier = "+15551234567"
        status = "inactive"
        "#,
    )
    .unwrap();
    let config = EmulatorConfig {
        seed: SeedConfig {
            users: seed
                .users
                .into_iter()
                .chain([SeedUser {
                    app_id: None,
                    user: NewUser::new("third@example.com"),
                }])
                .collect(),
        },
        ..EmulatorConfig::default()
    };
    let emulator = start(config).await;
    let users = emulator
        .admin()
        .users(emulator.default_app_id())
        .await
        .unwrap();
    assert_eq!(users.len(), 3);
    let phone = users.iter().find(|u| u.phone == "+15551234567").unwrap();
    assert_eq!(phone.status, UserStatus::Inactive);
    assert!(users
        .iter()
        .any(|u| u.email == "seeded@example.com" && u.email_verified));

    let bad = EmulatorConfig {
        seed: SeedConfig {
            users: vec![SeedUser {
                app_id: Some("nope".into()),
                user: NewUser::new("x@example.com"),
            }],
        },
        ..EmulatorConfig::default()
    };
    assert!(Emulator::start(bad).await.is_err());
}

#[tokio::test]
async fn admin_token_is_required_when_configured() {
    let token = "a-long-admin-token-for-tests";
    let emulator = start(EmulatorConfig {
        admin_token: Some(token.into()),
        ..EmulatorConfig::default()
    })
    .await;
    let app = emulator.default_app_id().to_owned();
    let anonymous = AdminClient::connect(emulator.root_url()).unwrap();
    assert_eq!(
        api_error(anonymous.users(&app).await),
        (401, "invalid_access_token".into())
    );
    let wrong = anonymous.clone().with_token("a-long-admin-token-for-tesst");
    assert_eq!(
        api_error(wrong.reset(None).await),
        (401, "invalid_access_token".into())
    );
    // The health probe stays open; the in-process client carries the token.
    anonymous.health().await.unwrap();
    emulator.admin().users(&app).await.unwrap();
    anonymous
        .with_token(token)
        .create_user(&app, &NewUser::new("t@example.com"))
        .await
        .unwrap();
    let short = EmulatorConfig {
        admin_token: Some("short".into()),
        ..EmulatorConfig::default()
    };
    assert!(Emulator::start(short).await.is_err());
}
