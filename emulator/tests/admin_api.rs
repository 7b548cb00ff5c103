//! The admin API through its typed client, in-process and over HTTP (both must answer the same).
//! Users are made through the Management API ([`support::Management`]).

mod support;

use passage_conformance::CheckedEmulator;
use passage_emulator::admin_client::{AdminClient, AdminError, ApiKeySource};
use passage_emulator::base::enums::OutboxKind;
use passage_emulator::settings::{NewUser, SeedConfig, SeedUser};
use passage_emulator::{
    AppConfig, EmulatorConfig, EmulatorHandle, FaultKind, FaultRule, MetadataFieldConfig,
    DEFAULT_API_KEY,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{auth_api, Management};

async fn start(config: EmulatorConfig) -> CheckedEmulator {
    CheckedEmulator::start(config)
        .await
        .expect("emulator starts")
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
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    auth_api(emulator, method, path, bearer, body).await
}

#[tokio::test]
async fn sessions_without_a_ceremony_work_on_the_api() {
    let emulator = start(EmulatorConfig::default()).await;
    let app = emulator.default_app_id().to_owned();
    let management = Management::new(&emulator);
    for (name, admin) in clients(&emulator) {
        let user_id = management
            .create_email_user(&format!("s-{name}@example.com"))
            .await;
        let session = admin.create_session(&app, &user_id).await.unwrap();
        let (status, body) = v1(
            &emulator,
            Method::GET,
            "/currentuser",
            Some(&session.auth_token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(body["user"]["id"], json!(user_id));
        let refresh = session.refresh_token.clone().expect("refresh token");
        let (status, body) = v1(
            &emulator,
            Method::POST,
            "/tokens",
            None,
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(body["auth_result"]["auth_token"].is_string());
        let after = management.user(&user_id).await;
        assert_eq!(after["login_count"], 1);
        assert_eq!(
            after["status"], "active",
            "the session's login activated the user"
        );
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
async fn metadata_follows_the_app_schema_changed_at_runtime() {
    let emulator = start(EmulatorConfig::default()).await;
    let app = emulator.default_app_id().to_owned();
    let admin = AdminClient::connect(emulator.root_url()).unwrap();
    let management = Management::new(&emulator);
    let new = json!({"email": "meta@example.com", "user_metadata": {"age": 30}});
    let (status, body) = management
        .call(Method::POST, "/users", Some(new.clone()))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no schema yet");
    assert_eq!(body["code"], "invalid_request");
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
    let user = management.create_user(new).await;
    assert_eq!(user["user_metadata"]["age"], json!(30));
    let path = format!("/users/{}", user["id"].as_str().unwrap());
    let (status, _) = management
        .call(
            Method::PATCH,
            &path,
            Some(json!({"user_metadata": {"age": "thirty"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, cleared) = management
        .call(
            Method::PATCH,
            &path,
            Some(json!({"user_metadata": {"age": null}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cleared["user"]["user_metadata"], Value::Null);
    let (_, got) = v1(&emulator, Method::GET, "", None, None).await;
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
        Method::POST,
        "/register/otp",
        None,
        Some(json!({"identifier": "new@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "operation_not_allowed");
    // Users the app's backend creates are not public sign-ups.
    Management::new(&emulator)
        .create_email_user("new@example.com")
        .await;
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
    let user_id = Management::for_app(&emulator, "one", Some(DEFAULT_API_KEY))
        .create_email_user("k@example.com")
        .await;
    let session = admin.create_session("one", &user_id).await.unwrap();
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
    let users = |app: &'static str| {
        let management = Management::for_app(&emulator, app, Some(DEFAULT_API_KEY));
        async move { management.users().await }
    };
    assert_eq!(users("one").await.len(), 1);
    admin
        .add_fault(&FaultRule {
            path_prefix: "/management/v1/apps/one/users".into(),
            method: None,
            count: 1,
            kind: FaultKind::Status500,
            retry_after: None,
            delay_ms: None,
            status: None,
        })
        .await
        .unwrap();
    admin.reset(Some("one")).await.unwrap();
    assert!(users("one").await.is_empty());
    assert_eq!(users("two").await.len(), 1);
    let outbox = admin.outbox(None).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].app_id, "two");
    assert_eq!(outbox[0].kind, OutboxKind::Otp);
    let faults = admin.faults().await.unwrap();
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].path_prefix, "/v1/apps/two/tokens");
    let requests = admin.requests().await.unwrap();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/apps/two/register/otp",
            "/management/v1/apps/one/users",
            "/management/v1/apps/two/users"
        ],
        "the app's Auth and Management requests before the reset are forgotten"
    );
    assert_eq!(
        api_error(admin.reset(Some("nope")).await),
        (404, "app_not_found".into())
    );

    admin.reset(None).await.unwrap();
    assert!(admin.outbox(None).await.unwrap().is_empty());
    assert!(admin.faults().await.unwrap().is_empty());
    assert!(admin.requests().await.unwrap().is_empty());
    assert!(users("two").await.is_empty());
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
    let users = Management::new(&emulator).users().await;
    assert_eq!(users.len(), 3);
    let phone = users.iter().find(|u| u["phone"] == "+15551234567").unwrap();
    assert_eq!(phone["status"], "inactive");
    assert!(users
        .iter()
        .any(|u| u["email"] == "seeded@example.com" && u["email_verified"] == true));

    let bad = EmulatorConfig {
        seed: SeedConfig {
            users: vec![SeedUser {
                app_id: Some("nope".into()),
                user: NewUser::new("x@example.com"),
            }],
        },
        ..EmulatorConfig::default()
    };
    assert!(CheckedEmulator::start(bad).await.is_err());
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
        api_error(anonymous.api_keys(&app).await),
        (401, "invalid_access_token".into())
    );
    let wrong = anonymous.clone().with_token("a-long-admin-token-for-tesst");
    assert_eq!(
        api_error(wrong.reset(None).await),
        (401, "invalid_access_token".into())
    );
    // The health probe stays open; the in-process client carries the token.
    anonymous.health().await.unwrap();
    emulator.admin().api_keys(&app).await.unwrap();
    anonymous
        .with_token(token)
        .create_api_key(&app, "with the token")
        .await
        .unwrap();
    // The Management API takes the app's API keys, not the admin token.
    let (status, _) = Management::new(&emulator)
        .with_key(Some(token))
        .call(Method::GET, "/users", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let short = EmulatorConfig {
        admin_token: Some("short".into()),
        ..EmulatorConfig::default()
    };
    assert!(CheckedEmulator::start(short).await.is_err());
}

#[tokio::test]
async fn api_keys_are_listed_made_once_and_revoked_on_both_transports() {
    let emulator = start(EmulatorConfig {
        apps: vec![AppConfig {
            api_keys: vec!["configured-key-one".into(), "configured-key-two".into()],
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    })
    .await;
    let app = emulator.default_app_id().to_owned();
    let management = Management::new(&emulator);
    let works = |key: String| {
        let management = management.with_key(Some(&key));
        async move { management.call(Method::GET, "/users", None).await.0 }
    };
    for (name, admin) in clients(&emulator) {
        let made = admin.create_api_key(&app, name).await.unwrap();
        let key = made
            .key
            .clone()
            .expect("a made key is shown when it is made");
        assert_eq!(made.source, ApiKeySource::Created);
        assert_eq!(made.name, name);
        assert_eq!(works(key.clone()).await, StatusCode::OK, "{name}");
        let listed = admin.api_keys(&app).await.unwrap();
        let configured: Vec<_> = listed
            .iter()
            .filter(|k| k.source == ApiKeySource::Configured)
            .map(|k| k.key.clone().unwrap())
            .collect();
        assert!(configured.contains(&"configured-key-one".to_owned()));
        let listed_made = listed.iter().find(|k| k.id == made.id).expect("listed");
        assert_eq!(
            listed_made.key, None,
            "{name}: a made key is never shown again"
        );
        assert_eq!(listed_made.hint, key[key.len() - 4..]);
        assert!(!format!("{made:?}").contains(&key), "Debug hides the key");

        admin.revoke_api_key(&app, &made.id).await.unwrap();
        assert_eq!(works(key).await, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(
            api_error(admin.revoke_api_key(&app, &made.id).await),
            (404, "api_key_not_found".into())
        );
    }
    // A configured key can be revoked too (until the next start reads the configuration again).
    let admin = emulator.admin();
    let two = admin
        .api_keys(&app)
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.key.as_deref() == Some("configured-key-two"))
        .unwrap();
    assert_eq!(works("configured-key-two".into()).await, StatusCode::OK);
    admin.revoke_api_key(&app, &two.id).await.unwrap();
    assert_eq!(
        works("configured-key-two".into()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(works("configured-key-one".into()).await, StatusCode::OK);
    assert_eq!(
        api_error(admin.api_keys("nope").await),
        (404, "app_not_found".into())
    );
    let long_name = "x".repeat(101);
    assert_eq!(
        api_error(admin.create_api_key(&app, &long_name).await),
        (400, "invalid_request".into())
    );
}

#[tokio::test]
async fn made_api_keys_are_kept_as_digests_in_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let config = EmulatorConfig {
        state_file: Some(path.clone()),
        ..EmulatorConfig::default()
    };
    let emulator = start(config.clone()).await;
    let app = emulator.default_app_id().to_owned();
    let made = emulator.admin().create_api_key(&app, "kept").await.unwrap();
    let key = made.key.clone().unwrap();
    emulator.shutdown().await;
    // The state file (and its write-ahead log, if any) holds the key's digest, never the key.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        stored.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let stored = String::from_utf8_lossy(&stored);
    assert!(stored.contains(&passage_emulator::base::digest::digest_hex(&key)));
    assert!(
        !stored.contains(&key),
        "the key itself is not in the state file"
    );
    // After a restart the key still works.
    let emulator = start(config).await;
    let (status, _) = Management::new(&emulator)
        .with_key(Some(&key))
        .call(Method::GET, "/users", None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_outbox_read_by_passcode_id_holds_only_that_passcode() {
    let emulator = start(EmulatorConfig::default()).await;
    let identifier = "otp-id@example.com";
    let mut otp_ids = Vec::new();
    // Two passcodes for one identifier (a pending user may ask again).
    for start in ["/register/otp", "/register/otp"] {
        let (status, body) = v1(
            &emulator,
            Method::POST,
            start,
            None,
            Some(json!({ "identifier": identifier })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{start}: {body}");
        otp_ids.push(body["otp_id"].as_str().expect("an otp_id").to_owned());
    }
    let outbox = |query: String| {
        let url = format!("{}/_emulator/outbox?{query}", emulator.root_url());
        async move {
            let answer = reqwest::get(url).await.expect("outbox read");
            assert_eq!(answer.status(), StatusCode::OK);
            answer.json::<Vec<Value>>().await.expect("a JSON array")
        }
    };
    let all = outbox(format!("identifier={identifier}")).await;
    assert_eq!(all.len(), 2, "{all:?}");
    for (i, otp_id) in otp_ids.iter().enumerate() {
        let one = outbox(format!("identifier={identifier}&otp_id={otp_id}")).await;
        assert_eq!(one, [all[i].clone()], "the passcode of {otp_id} only");
        assert_eq!(one[0]["otp_id"], json!(otp_id));
        // Without the identifier, the same one.
        assert_eq!(outbox(format!("otp_id={otp_id}")).await, one);
    }
    assert!(outbox("otp_id=no-such-id".into()).await.is_empty());
}
