//! End-to-end flows: the generated client against a started emulator over real HTTP on 127.0.0.1.

use passage_auth_client::CredentialsExt;
use passage_auth_client::{types, Error, RedirectExt, ResponseValue, SecretValue};
use passage_e2e::conformance::{Conformance, MANAGEMENT_PREFIX};
use passage_e2e::harness::{
    assert_different_secrets, assert_same_secret, jwt_parts, pkce_pair, TestEnv,
};
use passage_emulator::{
    AppConfig, EmulatorConfig, FaultKind, FaultRule, MetadataFieldConfig, DEFAULT_API_KEY,
};
use serde_json::{json, Value};

/// The crate error of a call that must fail.
fn failure<T>(result: Result<ResponseValue<T>, Error>) -> Error {
    match result {
        Ok(v) => panic!("expected an error, got HTTP {}", v.status()),
        Err(e) => e,
    }
}

/// (status, code) of a failed call.
fn status_code<T>(result: Result<ResponseValue<T>, Error>) -> (u16, String) {
    let err = failure(result);
    (
        err.status().map(|s| s.as_u16()).unwrap_or(0),
        err.code()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
    )
}

fn config_with(app: AppConfig) -> EmulatorConfig {
    EmulatorConfig {
        apps: vec![app],
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn otp_registration_then_login() {
    let env = TestEnv::start().await;
    let email = "ada@example.com";

    let sent = env
        .client
        .register_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::RegisterOneTimePasscodeRequest::builder().identifier(email))
        .send()
        .await
        .expect("register");
    assert_eq!(sent.status().as_u16(), 201);
    let (otp_id, _) = env.last_otp(email);
    assert_eq!(sent.into_inner().otp_id, otp_id);

    // Before activation the user exists but is pending.
    let found = env
        .client
        .check_user_identifier()
        .app_id(&env.app_id)
        .identifier(email)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.user.expect("user exists").status.as_str(), "pending");

    let auth = env.activate_last_otp(email).await;
    let me = env
        .user_client(&auth)
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(me.email, email);
    assert!(me.email_verified);
    assert_eq!(me.status.as_str(), "active");
    assert_eq!(me.login_count, 1);

    // Login by passcode.
    let login = env
        .client
        .login_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::LoginOneTimePasscodeRequest::builder().identifier(email))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 201);
    let auth2 = env.activate_last_otp(email).await;
    let me2 = env
        .user_client(&auth2)
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(me2.login_count, 2);
    assert_eq!(me2.id, me.id);

    // Registering the same identifier again is refused; logging in an unknown one is 404.
    let again = env
        .client
        .register_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::RegisterOneTimePasscodeRequest::builder().identifier(email))
        .send()
        .await;
    assert_eq!(status_code(again), (400, "invalid_request".into()));
    let unknown = env
        .client
        .login_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::LoginOneTimePasscodeRequest::builder().identifier("nobody@example.com"))
        .send()
        .await;
    assert_eq!(status_code(unknown), (404, "user_not_found".into()));
    env.assert_conformant();
}

#[tokio::test]
async fn otp_wrong_codes_exceed_attempts_and_expiry_uses_the_clock() {
    let env = TestEnv::start().await;
    let phone = "+15551234567";
    env.client
        .register_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::RegisterOneTimePasscodeRequest::builder().identifier(phone))
        .send()
        .await
        .unwrap();
    let (otp_id, otp) = env.last_otp(phone);
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let attempt = |code: &str| {
        env.client
            .activate_one_time_passcode()
            .app_id(&env.app_id)
            .body(
                types::ActivateOneTimePasscodeRequest::builder()
                    .otp_id(otp_id.clone())
                    .otp(SecretValue::new(code)),
            )
            .send()
    };
    // A wrong code is 400 `invalid_request` (what the official SDKs show as "the otp or otp_id is
    // invalid"); only the attempt limit is a 401.
    for _ in 0..4 {
        assert_eq!(
            status_code(attempt(wrong).await),
            (400, "invalid_request".into())
        );
    }
    assert_eq!(
        status_code(attempt(wrong).await),
        (401, "exceeded_attempts".into())
    );
    // Even the right code is refused now.
    assert_eq!(
        status_code(attempt(&otp).await),
        (401, "exceeded_attempts".into())
    );

    // A fresh passcode expires after the app's TTL (300 s) of emulator time.
    env.client
        .login_one_time_passcode()
        .app_id(&env.app_id)
        .body(types::LoginOneTimePasscodeRequest::builder().identifier(phone))
        .send()
        .await
        .unwrap();
    let (otp_id, otp) = env.last_otp(phone);
    let (status, body) = env
        .admin_post("/clock/advance", json!({"seconds": 301}))
        .await;
    assert_eq!(status, 200);
    assert!(body["offset_seconds"].as_i64().unwrap() >= 301);
    let expired = env
        .client
        .activate_one_time_passcode()
        .app_id(&env.app_id)
        .body(
            types::ActivateOneTimePasscodeRequest::builder()
                .otp_id(otp_id)
                .otp(SecretValue::new(otp)),
        )
        .send()
        .await;
    assert_eq!(status_code(expired), (400, "invalid_request".into()));
    env.assert_conformant();
}

#[tokio::test]
async fn magic_link_status_before_and_after_activation() {
    let env = TestEnv::start().await;
    let email = "grace@example.com";
    let sent = env
        .client
        .register_magic_link()
        .app_id(&env.app_id)
        .body(types::RegisterMagicLinkRequest::builder().identifier(email))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 201);
    let link_id = sent.into_inner().magic_link.id;
    let message = env.last_message(email);
    assert_eq!(
        message.kind,
        passage_emulator::base::enums::OutboxKind::MagicLink
    );
    assert_eq!(message.magic_link_id.as_deref(), Some(link_id.as_str()));
    let url = message.magic_link_url.clone().unwrap();
    assert!(
        url.starts_with("https://app.passage.test/login?psg_magic_link="),
        "{url}"
    );
    let secret = message.magic_link_secret.clone().unwrap();

    let status = || {
        env.client
            .magic_link_status()
            .app_id(&env.app_id)
            .body(types::GetMagicLinkStatusRequest::builder().id(link_id.clone()))
            .send()
    };
    assert_eq!(
        status_code(status().await),
        (404, "magic_link_not_found".into())
    );

    let activated = env
        .client
        .activate_magic_link()
        .app_id(&env.app_id)
        .body(
            types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::new(secret.clone())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!activated.auth_result.auth_token.expose_secret().is_empty());
    assert_eq!(activated.auth_result.redirect_url, "/dashboard");

    // The waiting device gets a session on every poll (a poll whose answer was lost can be repeated)
    // until the link expires.
    let (_, activated_claims) = jwt_parts(activated.auth_result.auth_token.expose_secret());
    for _ in 0..2 {
        let polled = status()
            .await
            .expect("status after activation")
            .into_inner();
        let (_, claims) = jwt_parts(polled.auth_result.auth_token.expose_secret());
        assert_eq!(claims["sub"], activated_claims["sub"]);
    }

    // The link is single-use.
    let reuse = env
        .client
        .activate_magic_link()
        .app_id(&env.app_id)
        .body(types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::new(secret)))
        .send()
        .await;
    assert_eq!(status_code(reuse), (401, "invalid_magic_link".into()));

    // Login links expire with the emulator clock.
    env.client
        .login_magic_link()
        .app_id(&env.app_id)
        .body(types::LoginMagicLinkRequest::builder().identifier(email))
        .send()
        .await
        .unwrap();
    let secret = env.last_message(email).magic_link_secret.unwrap();
    env.emulator.advance_clock(301);
    let expired = env
        .client
        .activate_magic_link()
        .app_id(&env.app_id)
        .body(types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::new(secret)))
        .send()
        .await;
    assert_eq!(status_code(expired), (401, "invalid_magic_link".into()));
    // The first link has expired too: its status is gone.
    assert_eq!(
        status_code(status().await),
        (404, "magic_link_not_found".into())
    );
    env.assert_conformant();
}

async fn refresh(
    env: &TestEnv,
    token: &SecretValue,
) -> Result<ResponseValue<types::AuthResponse>, Error> {
    refresh_with(&env.client, env, token).await
}

async fn refresh_with(
    client: &passage_auth_client::Client,
    env: &TestEnv,
    token: &SecretValue,
) -> Result<ResponseValue<types::AuthResponse>, Error> {
    client
        .refresh_auth_token()
        .app_id(&env.app_id)
        .body(types::RefreshAuthTokenRequest::builder().refresh_token(token.clone()))
        .send()
        .await
}

#[tokio::test]
async fn refresh_rotation_reuse_detection_and_revoke() {
    let env = TestEnv::start().await;
    let auth = env.register_by_otp("rot@example.com").await;
    let first = auth.refresh_token.clone().expect("refresh tokens are on");
    assert!(auth.refresh_token_expiration.unwrap() > 0);

    let rotated = refresh(&env, &first).await.unwrap();
    assert_eq!(rotated.status().as_u16(), 201);
    let second = rotated.into_inner().auth_result;
    let second_refresh = second.refresh_token.clone().unwrap();
    assert_different_secrets(
        second_refresh.expose_secret(),
        first.expose_secret(),
        "the refresh token rotated",
    );

    // Reusing the rotated token is refused and revokes the family, including the newest token.
    assert_eq!(
        status_code(refresh(&env, &first).await),
        (401, "invalid_refresh_token".into())
    );
    assert_eq!(
        status_code(refresh(&env, &second_refresh).await),
        (401, "invalid_refresh_token".into())
    );

    // Revocation.
    let auth = env.login_by_otp("rot@example.com").await;
    let token = auth.refresh_token.unwrap();
    let revoked = env
        .client
        .revoke_refresh_token()
        .app_id(&env.app_id)
        .refresh_token(token.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);
    assert_eq!(
        status_code(refresh(&env, &token).await),
        (401, "invalid_refresh_token".into())
    );
    assert_eq!(
        status_code(refresh(&env, &SecretValue::new("not-a-token")).await),
        (401, "invalid_refresh_token".into())
    );
    env.assert_conformant();
}

#[tokio::test]
async fn refresh_reuse_grace_window_returns_the_same_pair() {
    let env = TestEnv::with_config(config_with(AppConfig {
        refresh_reuse_grace_seconds: 30,
        ..AppConfig::default()
    }))
    .await;
    let auth = env.register_by_otp("grace@example.com").await;
    let first = auth.refresh_token.unwrap();
    let a = refresh(&env, &first)
        .await
        .unwrap()
        .into_inner()
        .auth_result;
    let b = refresh(&env, &first)
        .await
        .unwrap()
        .into_inner()
        .auth_result;
    assert_same_secret(
        a.auth_token.expose_secret(),
        b.auth_token.expose_secret(),
        "auth token of a reuse within the grace window",
    );
    assert_same_secret(
        a.refresh_token.as_ref().unwrap().expose_secret(),
        b.refresh_token.as_ref().unwrap().expose_secret(),
        "refresh token of a reuse within the grace window",
    );
    // Outside the window, reuse is detected.
    env.emulator.advance_clock(31);
    assert_eq!(
        status_code(refresh(&env, &first).await),
        (401, "invalid_refresh_token".into())
    );
    env.assert_conformant();
}

#[tokio::test]
async fn current_user_metadata_follows_the_schema() {
    let env = TestEnv::with_config(config_with(AppConfig {
        user_metadata_schema: vec![
            MetadataFieldConfig {
                field_name: "nickname".into(),
                field_type: "string".into(),
                friendly_name: Some("Nickname".into()),
                profile: true,
                registration: false,
            },
            MetadataFieldConfig {
                field_name: "age".into(),
                field_type: "integer".into(),
                friendly_name: None,
                profile: true,
                registration: false,
            },
        ],
        ..AppConfig::default()
    }))
    .await;
    let app = env
        .client
        .get_app()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .app;
    assert_eq!(app.user_metadata_schema.len(), 2);

    let auth = env.register_by_otp("meta@example.com").await;
    let me = env.user_client(&auth);
    let empty = me
        .get_currentuser_metadata()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(empty.user_metadata.is_empty());

    let mut good = serde_json::Map::new();
    good.insert("nickname".into(), json!("Ada"));
    good.insert("age".into(), json!(36));
    let updated = me
        .update_currentuser_metadata()
        .app_id(&env.app_id)
        .body(types::UpdateMetadataRequest::builder().user_metadata(good))
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(updated.user_metadata.unwrap()["nickname"], json!("Ada"));

    // An unknown field refuses the whole update.
    let mut bad = serde_json::Map::new();
    bad.insert("nickname".into(), json!("Changed"));
    bad.insert("shoe_size".into(), json!(42));
    let refused = me
        .update_currentuser_metadata()
        .app_id(&env.app_id)
        .body(types::UpdateMetadataRequest::builder().user_metadata(bad))
        .send()
        .await;
    assert_eq!(status_code(refused), (400, "invalid_request".into()));
    let after = me
        .get_currentuser_metadata()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.user_metadata["nickname"], json!("Ada"));
    assert_eq!(after.user_metadata["age"], json!(36));

    // Without a valid bearer token: 401 invalid_access_token.
    let anonymous = env
        .client
        .get_currentuser_metadata()
        .app_id(&env.app_id)
        .send()
        .await;
    assert_eq!(status_code(anonymous), (401, "invalid_access_token".into()));
    let forged = env
        .client
        .with_auth_token("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await;
    assert_eq!(status_code(forged), (401, "invalid_access_token".into()));
    env.assert_conformant();
}

#[tokio::test]
async fn auth_token_claims_and_signature_match_the_jwks() {
    let env = TestEnv::start().await;
    let auth = env.register_by_otp("jwt@example.com").await;
    let token = auth.auth_token.expose_secret().to_owned();
    let (header, claims) = jwt_parts(&token);
    assert_eq!(header["alg"], "RS256");
    let issuer = format!("{}/apps/{}", env.emulator.base_url(), env.app_id);
    assert_eq!(claims["iss"], json!(issuer));
    assert_eq!(
        claims["aud"],
        json!(["https://app.passage.test", env.app_id])
    );
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["nbf"].as_i64().unwrap(), iat - 5);
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 300);

    let jwks = env
        .client
        .get_jwks()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(jwks.keys.len(), 1);
    let key = &jwks.keys[0];
    assert_eq!(header["kid"], json!(key.kid));
    assert_eq!(
        (key.kty.as_str(), key.alg.as_str(), key.use_.as_str()),
        ("RSA", "RS256", "sig")
    );

    let discovery = env
        .client
        .get_open_id_configuration()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(discovery.issuer, issuer);
    assert_eq!(
        discovery.jwks_uri,
        format!("{issuer}/.well-known/jwks.json")
    );

    // The client's own verifier checks the RS256 signature against the served JWKS.
    let verifier = passage_auth_client::TokenVerifier::new(
        env.client.clone(),
        env.app_id.clone(),
        passage_auth_client::VerifierConfig::default(),
    );
    let verified = verifier.verify(&token).await.expect("token verifies");
    assert_eq!(json!(verified.user_id()), claims["sub"]);
    // A token with one signature character changed does not, for the signature's sake. (The
    // character is mid-signature: the last one may carry only base64 padding bits, and a
    // change there would be refused as malformed instead.)
    let signature_start = token.rfind('.').expect("a JWT has a signature") + 1;
    let i = signature_start + (token.len() - signature_start) / 2;
    let mut tampered = token.clone().into_bytes();
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("a JWT is ASCII");
    assert_eq!(
        verifier.verify(&tampered).await.map(|_| ()),
        Err(passage_auth_client::VerifyError::BadSignature)
    );
    env.assert_conformant();
}

#[tokio::test]
async fn key_rotation_publishes_both_keys_for_the_grace_period() {
    let env = TestEnv::start().await;
    let old_auth = env.register_by_otp("keys@example.com").await;
    let (old_header, _) = jwt_parts(old_auth.auth_token.expose_secret());

    let (status, rotated) = env
        .admin_post(&format!("/apps/{}/rotate-key", env.app_id), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(rotated["previous_kid"], old_header["kid"]);
    let new_kid = rotated["kid"].clone();
    assert_ne!(new_kid, old_header["kid"]);

    let jwks = |env: &TestEnv| {
        let client = env.client.clone();
        let app_id = env.app_id.clone();
        async move {
            client
                .get_jwks()
                .app_id(app_id)
                .send()
                .await
                .unwrap()
                .into_inner()
                .keys
                .into_iter()
                .map(|k| k.kid)
                .collect::<Vec<_>>()
        }
    };
    let kids = jwks(&env).await;
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&new_kid.as_str().unwrap().to_owned()));

    // Old tokens still work during the grace period; new tokens use the new key.
    env.user_client(&old_auth)
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .expect("old token still accepted");
    let new_auth = env.login_by_otp("keys@example.com").await;
    let (new_header, _) = jwt_parts(new_auth.auth_token.expose_secret());
    assert_eq!(new_header["kid"], new_kid);

    // After the grace period (1 h) only the new key is published.
    env.emulator.advance_clock(3601);
    assert_eq!(jwks(&env).await, vec![new_kid.as_str().unwrap().to_owned()]);
    env.assert_conformant();
}

#[tokio::test]
async fn injected_faults_then_success() {
    let env = TestEnv::start().await;
    let client = env.client.clone();
    let app_path = env.api_path("");
    let (status, _) = env
        .admin_post(
            "/faults",
            json!({"path_prefix": app_path, "method": "GET", "count": 1, "kind": "status500"}),
        )
        .await;
    assert_eq!(status, 201);
    let first = client.get_app().app_id(&env.app_id).send().await;
    let err = failure(first);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(err.is_transient());
    client
        .get_app()
        .app_id(&env.app_id)
        .send()
        .await
        .expect("second call succeeds");
    let log = env
        .admin_get(&format!("/requests?path_prefix={app_path}&method=GET"))
        .await;
    assert_eq!(log["count"], json!(2));
    assert_eq!(log["requests"][0]["status"], json!(500));
    assert_eq!(log["requests"][1]["status"], json!(200));

    // 429 carries Retry-After.
    env.emulator.inject_fault(FaultRule {
        path_prefix: app_path.clone(),
        method: None,
        count: 1,
        kind: FaultKind::Status429,
        retry_after: Some(7),
        delay_ms: None,
        status: None,
    });
    let raw = env
        .http
        .get(format!("{}/apps/{}", env.emulator.base_url(), env.app_id))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 429);
    assert_eq!(raw.headers()["retry-after"], "7");

    // Non-JSON body: a decode error for the client.
    env.emulator.inject_fault(FaultRule {
        path_prefix: app_path.clone(),
        method: None,
        count: 1,
        kind: FaultKind::NonJsonBody,
        retry_after: None,
        delay_ms: None,
        status: None,
    });
    let err = failure(client.get_app().app_id(&env.app_id).send().await);
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");

    // A truncated JSON body: also a decode error, and nothing else was run.
    let (status, _) = env
        .admin_post(
            "/faults",
            json!({"path_prefix": app_path, "kind": "truncated_body"}),
        )
        .await;
    assert_eq!(status, 201);
    let err = failure(client.get_app().app_id(&env.app_id).send().await);
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");

    // 503 twice, then the rule is used up.
    env.admin_post(
        "/faults",
        json!({"path_prefix": app_path, "kind": "status503", "count": 2}),
    )
    .await;
    for _ in 0..2 {
        let err = failure(client.get_app().app_id(&env.app_id).send().await);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    }
    client
        .get_app()
        .app_id(&env.app_id)
        .send()
        .await
        .expect("rule used up");

    // A delay longer than the client's timeout surfaces as a timeout.
    env.admin_post(
        "/faults",
        json!({"path_prefix": app_path, "kind": "delay", "delay_ms": 5000}),
    )
    .await;
    let impatient = passage_auth_client::ClientBuilder::new()
        .base_url(env.emulator.base_url())
        .timeout(std::time::Duration::from_millis(200))
        .retry_policy(passage_auth_client::RetryPolicy::none())
        .build()
        .unwrap();
    let err = failure(impatient.get_app().app_id(&env.app_id).send().await);
    assert!(
        matches!(err, Error::Transport { timeout: true, .. }),
        "{err:?}"
    );

    // Disarming.
    env.admin_post(
        "/faults",
        json!({"path_prefix": app_path, "kind": "status500", "count": 5}),
    )
    .await;
    assert_eq!(
        env.admin_get("/faults").await["faults"][0]["count"],
        json!(5)
    );
    let resp = env
        .http
        .delete(format!("{}/faults", env.emulator.admin_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    client
        .get_app()
        .app_id(&env.app_id)
        .send()
        .await
        .expect("faults cleared");
}

#[tokio::test]
async fn dropped_connection_after_processing_still_rotates_the_refresh_token() {
    let env = TestEnv::start().await;
    let auth = env.register_by_otp("drop@example.com").await;
    let token = auth.refresh_token.unwrap();
    let tokens_path = env.api_path("/tokens");
    let client = env.client.clone();
    env.emulator.inject_fault(FaultRule {
        path_prefix: tokens_path.clone(),
        method: Some("POST".into()),
        count: 1,
        kind: FaultKind::DropAfterProcessing,
        retry_after: None,
        delay_ms: None,
        status: None,
    });
    let err = failure(refresh_with(&client, &env, &token).await);
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(env.request_count("POST", &tokens_path), 1);
    // The server did rotate: presenting the token again is reuse (grace window is off by default).
    assert_eq!(
        status_code(refresh_with(&client, &env, &token).await),
        (401, "invalid_refresh_token".into())
    );

    // A plain dropped connection changes nothing.
    let auth = env.login_by_otp("drop@example.com").await;
    let token = auth.refresh_token.unwrap();
    env.emulator.inject_fault(FaultRule {
        path_prefix: tokens_path.clone(),
        method: Some("POST".into()),
        count: 1,
        kind: FaultKind::DropConnection,
        retry_after: None,
        delay_ms: None,
        status: None,
    });
    let err = failure(refresh_with(&client, &env, &token).await);
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    refresh_with(&client, &env, &token)
        .await
        .expect("token was not consumed");
}

async fn social_login(
    env: &TestEnv,
    connection: &str,
    login_hint: &str,
    client_state: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce_pair();
    let redirect = env
        .client
        .get_authorize()
        .app_id(&env.app_id)
        .redirect_uri("https://app.passage.test/callback")
        .code_challenge(challenge)
        .code_challenge_method("S256")
        .connection_type(connection)
        .state(client_state)
        .login_hint(login_hint)
        .send()
        .await
        .into_redirect()
        .expect("authorize redirects");
    assert_eq!(redirect.status.as_u16(), 302);
    // The fake provider consents and sends the browser to the callback, which sends it to the app.
    let mut location = redirect.location;
    for hop in 0..2 {
        let resp = env.http.get(&location).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 302, "hop {hop} to {location}");
        location = resp.headers()["location"].to_str().unwrap().to_owned();
    }
    let url = url::Url::parse(&location).unwrap();
    assert_eq!(url.path(), "/callback");
    let pairs: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], client_state);
    (pairs["code"].clone(), verifier)
}

#[tokio::test]
async fn social_login_with_pkce_link_and_unlink() {
    let env = TestEnv::start().await;
    let (code, verifier) = social_login(&env, "google", "soc@example.com", "xyz").await;

    // A wrong verifier is refused without consuming the code.
    let wrong = env
        .client
        .exchange_social_token()
        .app_id(&env.app_id)
        .code(code.clone())
        .verifier("wrong-verifier-wrong-verifier-wrong-verifier")
        .send()
        .await;
    assert_eq!(status_code(wrong), (400, "invalid_request".into()));
    let token = env
        .client
        .exchange_social_token()
        .app_id(&env.app_id)
        .code(code.clone())
        .verifier(verifier.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(token.status().as_u16(), 201);
    let auth = token.into_inner().auth_result;
    let again = env
        .client
        .exchange_social_token()
        .app_id(&env.app_id)
        .code(code)
        .verifier(verifier)
        .send()
        .await;
    assert_eq!(status_code(again), (400, "invalid_request".into()));

    let me = env.user_client(&auth);
    let user = me
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(user.email, "soc@example.com");
    let google = user.social_connections.google.expect("google linked");
    assert_eq!(google.provider_identifier, "soc@example.com");

    // Link GitHub to the same user.
    let (code, verifier) = social_login(&env, "github", "dev@example.com", "s2").await;
    let linked = me
        .currentuser_social_link_account()
        .app_id(&env.app_id)
        .code(code)
        .verifier(verifier)
        .send()
        .await
        .unwrap();
    assert_eq!(linked.status().as_u16(), 201);
    let connections = me
        .get_currentuser_social_connections()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .social_connections;
    assert_eq!(
        connections.github.unwrap().provider_identifier,
        "dev@example.com"
    );

    // Unlink.
    let deleted = me
        .delete_currentuser_social_connection()
        .app_id(&env.app_id)
        .social_connection_type("github")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    let twice = me
        .delete_currentuser_social_connection()
        .app_id(&env.app_id)
        .social_connection_type("github")
        .send()
        .await;
    assert_eq!(
        status_code(twice),
        (404, "social_connection_not_found".into())
    );

    // Bad PKCE parameters and foreign redirect URIs are refused at authorize.
    let (_, challenge) = pkce_pair();
    let foreign = env
        .client
        .get_authorize()
        .app_id(&env.app_id)
        .redirect_uri("https://evil.example/cb")
        .code_challenge(challenge)
        .code_challenge_method("S256")
        .connection_type("google")
        .send()
        .await;
    assert_eq!(status_code(foreign), (400, "invalid_request".into()));
    env.assert_conformant();
}

#[tokio::test]
async fn id_token_exchange_accepts_fake_provider_tokens() {
    let env = TestEnv::start().await;
    let (status, minted) = env
        .admin_post(
            "/fake-provider/id-token",
            json!({"email": "native@example.com"}),
        )
        .await;
    assert_eq!(status, 200);
    let id_token = minted["id_token"].as_str().unwrap().to_owned();
    let body = |token: String| {
        types::IdTokenRequest::builder()
            .code(SecretValue::new("native-code"))
            .id_token(SecretValue::new(token))
            .connection_type("apple")
    };
    let ok = env
        .client
        .exchange_social_id_token()
        .app_id(&env.app_id)
        .body(body(id_token.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 201);
    let bad = env
        .client
        .exchange_social_id_token()
        .app_id(&env.app_id)
        .body(body(format!("{id_token}x")))
        .send()
        .await;
    assert_eq!(status_code(bad), (400, "invalid_request".into()));
    env.assert_conformant();
}

#[tokio::test]
async fn users_email_change_devices_and_bad_input() {
    let env = TestEnv::start().await;
    let created = env
        .client
        .create_user()
        .app_id(&env.app_id)
        .body(types::CreateUserParams::builder().identifier("made@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let none = env
        .client
        .check_user_identifier()
        .app_id(&env.app_id)
        .identifier("ghost@example.com")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(none.user.is_none());

    let auth = env.register_by_otp("old@example.com").await;
    let me = env.user_client(&auth);
    let changed = me
        .update_email_currentuser()
        .app_id(&env.app_id)
        .body(types::UpdateUserEmailRequest::builder().new_email("new@example.com"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let message = env.last_message("new@example.com");
    assert_eq!(
        message.magic_link_id.as_deref(),
        Some(changed.magic_link.id.as_str())
    );
    // Not applied until the link is activated.
    let user = me
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(user.email, "old@example.com");
    env.client
        .activate_magic_link()
        .app_id(&env.app_id)
        .body(
            types::ActivateMagicLinkRequest::builder()
                .magic_link(SecretValue::new(message.magic_link_secret.unwrap())),
        )
        .send()
        .await
        .unwrap();
    let user = me
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(user.email, "new@example.com");
    assert!(user.email_verified);

    let devices = me
        .get_currentuser_devices()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(devices.devices.is_empty());

    // Unknown app, malformed JSON and missing fields give the API's own errors.
    let missing_app = env.client.get_app().app_id("no-such-app").send().await;
    assert_eq!(status_code(missing_app), (404, "app_not_found".into()));
    for body in ["{not json", "{}", "[]"] {
        let resp = env
            .http
            .post(format!(
                "{}/apps/{}/login/otp",
                env.emulator.base_url(),
                env.app_id
            ))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{body}");
        let value: Value = resp.json().await.unwrap();
        assert_eq!(value["code"], "invalid_request", "{body}");
    }

    // Passkey readiness needs the app's API key.
    let report = || {
        types::CreatePasskeyReadinessRequest::builder()
            .device_id("dev-1")
            .security_key(true)
            .platform(true)
            .synced_credential(false)
            .cross_device_credential(true)
            .conditional_ui(false)
    };
    let refused = env
        .client
        .create_passkey_readiness()
        .body(report())
        .send()
        .await;
    assert_eq!(status_code(refused).0, 401);
    let accepted = env
        .client
        .with_api_key(passage_emulator::DEFAULT_API_KEY)
        .create_passkey_readiness()
        .body(report())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 201);
    env.assert_conformant();
}

#[tokio::test]
async fn concurrent_logins_lose_no_updates() {
    let env = TestEnv::start().await;
    let auth = env.register_by_otp("busy@example.com").await;
    let token = auth.refresh_token.unwrap();
    // Many refreshes of the same token at once: exactly one rotation succeeds.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = env.client.clone();
        let app_id = env.app_id.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            client
                .refresh_auth_token()
                .app_id(app_id)
                .body(types::RefreshAuthTokenRequest::builder().refresh_token(token))
                .send()
                .await
                .is_ok()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
    env.assert_conformant();
}

mod passkeys {
    use super::*;
    use passage_e2e::authenticator::SoftAuthenticator;

    const ORIGIN: &str = "https://app.passage.test";

    fn options<T: serde::Serialize>(challenge: &T) -> Value {
        serde_json::to_value(challenge).expect("options serialize")
    }

    async fn create(auth: &mut SoftAuthenticator, challenge: &impl serde::Serialize) -> Value {
        auth.register(&options(challenge))
            .await
            .expect("authenticator registers")
    }

    async fn assert_with(auth: &mut SoftAuthenticator, challenge: &impl serde::Serialize) -> Value {
        auth.login(&options(challenge))
            .await
            .expect("authenticator asserts")
    }

    fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).expect("credential JSON fits the generated type")
    }

    #[tokio::test]
    async fn passkey_registration_login_discoverable_and_devices() {
        let env = TestEnv::start().await;
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let email = "pk@example.com";

        let start = env
            .client
            .register_webauthn_start()
            .app_id(&env.app_id)
            .body(types::RegisterWebAuthnStartRequest::builder().identifier(email))
            .send()
            .await
            .expect("register start")
            .into_inner();
        let user_id = start.user.expect("user").id;
        let credential = create(&mut authenticator, &start.handshake.challenge).await;
        let finished = env
            .client
            .register_webauthn_finish()
            .app_id(&env.app_id)
            .body(
                types::RegisterWebAuthnFinishRequest::builder()
                    .handshake_id(start.handshake.id)
                    .handshake_response(typed::<types::CredentialCreationResponse>(credential))
                    .user_id(user_id.clone()),
            )
            .send()
            .await
            .expect("register finish");
        assert_eq!(finished.status().as_u16(), 201);
        let auth = finished.into_inner().auth_result;
        let (_, claims) = jwt_parts(auth.auth_token.expose_secret());
        assert_eq!(claims["sub"], json!(user_id));

        // Login with identifier.
        let start = env
            .client
            .login_webauthn_start()
            .app_id(&env.app_id)
            .body(types::LoginWebAuthnStartRequest::builder().identifier(email.to_owned()))
            .send()
            .await
            .expect("login start")
            .into_inner();
        let assertion = assert_with(&mut authenticator, &start.handshake.challenge).await;
        let login = env
            .client
            .login_webauthn_finish()
            .app_id(&env.app_id)
            .body(
                types::LoginWebAuthnFinishRequest::builder()
                    .handshake_id(start.handshake.id)
                    .handshake_response(typed::<types::CredentialAssertionResponse>(
                        assertion.clone(),
                    ))
                    .user_id(user_id.clone()),
            )
            .send()
            .await
            .expect("login finish")
            .into_inner();
        let (_, claims) = jwt_parts(login.auth_result.auth_token.expose_secret());
        assert_eq!(claims["sub"], json!(user_id));

        // Discoverable login (no identifier).
        let start = env
            .client
            .login_webauthn_start()
            .app_id(&env.app_id)
            .body(types::LoginWebAuthnStartRequest::builder())
            .send()
            .await
            .expect("discoverable start")
            .into_inner();
        assert!(start.user.is_none());
        let assertion = assert_with(&mut authenticator, &start.handshake.challenge).await;
        let login = env
            .client
            .login_webauthn_finish()
            .app_id(&env.app_id)
            .body(
                types::LoginWebAuthnFinishRequest::builder()
                    .handshake_id(start.handshake.id.clone())
                    .handshake_response(typed::<types::CredentialAssertionResponse>(
                        assertion.clone(),
                    )),
            )
            .send()
            .await
            .expect("discoverable finish")
            .into_inner();
        let (_, claims) = jwt_parts(login.auth_result.auth_token.expose_secret());
        assert_eq!(claims["sub"], json!(user_id));
        // Handshakes are single-use.
        let replay = env
            .client
            .login_webauthn_finish()
            .app_id(&env.app_id)
            .body(
                types::LoginWebAuthnFinishRequest::builder()
                    .handshake_id(start.handshake.id)
                    .handshake_response(typed::<types::CredentialAssertionResponse>(assertion)),
            )
            .send()
            .await;
        assert_eq!(status_code(replay).0, 401);

        // Add a second device, rename it, revoke it.
        let me = env.user_client(&login.auth_result);
        let mut second = SoftAuthenticator::new(ORIGIN);
        let start = me
            .post_currentuser_add_device_start()
            .app_id(&env.app_id)
            .body(types::CurrentUserDevicesStartRequest::builder())
            .send()
            .await
            .expect("add device start")
            .into_inner();
        let credential = create(&mut second, &start.handshake.challenge).await;
        let added = me
            .post_currentuser_add_device_finish()
            .app_id(&env.app_id)
            .body(
                types::AddDeviceFinishRequest::builder()
                    .handshake_id(start.handshake.id)
                    .handshake_response(typed::<types::CredentialCreationResponse>(credential))
                    .user_id(user_id.clone()),
            )
            .send()
            .await
            .expect("add device finish");
        assert_eq!(added.status().as_u16(), 201);
        let device = added.into_inner().device;
        let renamed = me
            .update_currentuser_device()
            .app_id(&env.app_id)
            .device_id(device.id.clone())
            .body(types::UpdateDeviceRequest::builder().friendly_name("Work laptop"))
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(renamed.device.friendly_name, "Work laptop");
        let devices = me
            .get_currentuser_devices()
            .app_id(&env.app_id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .devices;
        assert_eq!(devices.len(), 2);
        me.delete_currentuser_device()
            .app_id(&env.app_id)
            .device_id(device.id.clone())
            .send()
            .await
            .expect("device deleted");
        let again = me
            .delete_currentuser_device()
            .app_id(&env.app_id)
            .device_id(device.id)
            .send()
            .await;
        assert_eq!(status_code(again).0, 404);
        let user = me
            .get_currentuser()
            .app_id(&env.app_id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .user;
        assert_eq!(user.webauthn_devices.len(), 1);
        assert!(user.webauthn);

        // A user without passkeys: 409.
        env.register_by_otp("nopk@example.com").await;
        let none = env
            .client
            .login_webauthn_start()
            .app_id(&env.app_id)
            .body(
                types::LoginWebAuthnStartRequest::builder()
                    .identifier("nopk@example.com".to_owned()),
            )
            .send()
            .await;
        assert_eq!(status_code(none), (409, "user_has_no_passkeys".into()));
        env.assert_conformant();
    }

    #[tokio::test]
    async fn transaction_ceremonies_answer_single_use_nonces() {
        use passage_management_client::types as management;
        let env = TestEnv::start().await;
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let tx_id = env
            .management
            .create_register_transaction()
            .app_id(&env.app_id)
            .body(
                management::CreateRegisterTransactionRequest::builder()
                    .external_id("tx-user")
                    .passkey_display_name("tx@example.com"),
            )
            .send()
            .await
            .expect("register transaction")
            .into_inner()
            .transaction_id;
        let start = env
            .client
            .register_webauthn_start_with_transaction()
            .app_id(&env.app_id)
            .body(
                types::RegisterWebAuthnStartWithTransactionRequest::builder()
                    .transaction_id(tx_id.clone()),
            )
            .send()
            .await
            .expect("transaction register start")
            .into_inner();
        let credential = create(&mut authenticator, &start.handshake.challenge).await;
        let finished = env
            .client
            .register_webauthn_finish_with_transaction()
            .app_id(&env.app_id)
            .body(
                types::RegisterWebAuthnFinishWithTransactionRequest::builder()
                    .handshake_id(start.handshake.id)
                    .handshake_response(typed::<types::CredentialCreationResponse>(credential))
                    .transaction_id(tx_id.clone()),
            )
            .send()
            .await
            .expect("transaction register finish");
        assert_eq!(finished.status().as_u16(), 201);
        let nonce = finished.into_inner().nonce.expose_secret().to_owned();
        let verify = |nonce: String| {
            env.management
                .authenticate_verify_nonce()
                .app_id(&env.app_id)
                .body(management::VerifyNonceRequest::builder().nonce(SecretValue::new(nonce)))
                .send()
        };
        let verified = verify(nonce.clone()).await.expect("nonce verifies");
        assert_eq!(verified.into_inner().external_id, "tx-user");
        let again = verify(nonce).await.expect_err("a nonce verifies once");
        assert_eq!(again.status().map(|s| s.as_u16()), Some(401));

        // Authenticate through a transaction.
        let tx_id = env
            .management
            .create_authenticate_transaction()
            .app_id(&env.app_id)
            .body(
                management::CreateAuthenticateTransactionRequest::builder().external_id("tx-user"),
            )
            .send()
            .await
            .expect("authenticate transaction")
            .into_inner()
            .transaction_id;
        let start = env
            .client
            .authenticate_webauthn_start_with_transaction()
            .app_id(&env.app_id)
            .body(
                types::AuthenticateWebAuthnStartWithTransactionRequest::builder()
                    .transaction_id(Some(tx_id.clone())),
            )
            .send()
            .await
            .expect("transaction login start")
            .into_inner();
        let assertion = assert_with(&mut authenticator, &start.handshake.challenge).await;
        let nonce = env
            .client
            .authenticate_webauthn_finish_with_transaction()
            .app_id(&env.app_id)
            .body(
                types::AuthenticateWebAuthnFinishWithTransactionRequest::builder()
                    .handshake_id(start.handshake.id)
                    .handshake_response(typed::<types::CredentialAssertionResponse>(assertion))
                    .transaction_id(Some(tx_id.clone())),
            )
            .send()
            .await
            .expect("transaction login finish")
            .into_inner()
            .nonce;
        let verified = verify(nonce.expose_secret().to_owned())
            .await
            .expect("nonce verifies");
        assert_eq!(verified.into_inner().external_id, "tx-user");
        // Unknown transactions are 404 transaction_not_found.
        let unknown = env
            .client
            .register_webauthn_start_with_transaction()
            .app_id(&env.app_id)
            .body(
                types::RegisterWebAuthnStartWithTransactionRequest::builder()
                    .transaction_id("txn_nope"),
            )
            .send()
            .await;
        assert_eq!(status_code(unknown), (404, "transaction_not_found".into()));
        env.assert_conformant();
    }
}

#[tokio::test]
async fn state_file_keeps_users_and_keys_across_restarts() {
    let path = std::env::temp_dir().join(format!(
        "passage-emulator-state-{}-{}.json",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let config = || EmulatorConfig {
        state_file: Some(path.clone()),
        ..EmulatorConfig::default()
    };
    let env = TestEnv::with_config(config()).await;
    let auth = env.register_by_otp("persist@example.com").await;
    env.emulator.shutdown().await;
    assert!(path.exists());

    let env = TestEnv::with_config(config()).await;
    let found = env
        .client
        .check_user_identifier()
        .app_id(&env.app_id)
        .identifier("persist@example.com")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.user.expect("user survived").status.as_str(), "active");
    // The refresh token (and the signing key) survived too; the issuer is the new port's, so the
    // old auth token is not accepted, but the session can be refreshed.
    let refreshed = refresh(&env, auth.refresh_token.as_ref().unwrap()).await;
    assert_eq!(
        refreshed.expect("refresh after restart").status().as_u16(),
        201
    );
    let _ = std::fs::remove_file(&path);
}

/// Starts an authorize flow and lets the fake provider answer; returns (callback URL, PKCE verifier).
async fn provider_redirect(env: &TestEnv, connection: &str, deny: bool) -> (url::Url, String) {
    let (verifier, challenge) = pkce_pair();
    let redirect = env
        .client
        .get_authorize()
        .app_id(&env.app_id)
        .redirect_uri("https://app.passage.test/callback")
        .code_challenge(challenge)
        .code_challenge_method("S256")
        .connection_type(connection)
        .state("client-state")
        .login_hint("apple-user@example.com")
        .send()
        .await
        .into_redirect()
        .expect("authorize redirects");
    let provider = if deny {
        format!("{}&deny=1", redirect.location)
    } else {
        redirect.location
    };
    let resp = env.http.get(&provider).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    (url::Url::parse(&location).unwrap(), verifier)
}

fn query(url: &url::Url) -> std::collections::HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn apple_form_callbacks_default_dev_callbacks_and_phone_change() {
    let env = TestEnv::start().await;

    // Sign in with Apple posts a form back; the emulator redirects to the app with a Passage code.
    let (callback, verifier) = provider_redirect(&env, "apple", false).await;
    let params = query(&callback);
    let redirect = env
        .client
        .apple_oauth2_callback()
        .app_id(&env.app_id)
        .body(
            types::AppleOAuth2CallbackForm::builder()
                .state(params["state"].clone())
                .code(Some(SecretValue::new(params["code"].clone()))),
        )
        .send()
        .await
        .into_redirect()
        .expect("apple callback redirects");
    let target = url::Url::parse(&redirect.location).unwrap();
    assert_eq!(target.path(), "/callback");
    let target_params = query(&target);
    assert_eq!(target_params["state"], "client-state");
    let auth = env
        .client
        .exchange_social_token()
        .app_id(&env.app_id)
        .code(target_params["code"].clone())
        .verifier(verifier)
        .send()
        .await
        .expect("code exchange")
        .into_inner()
        .auth_result;

    // A denied consent reaches the app as an OpenID error, through the default dev callback.
    let (callback, _) = provider_redirect(&env, "google", true).await;
    let params = query(&callback);
    assert_eq!(params["error"], "consent_required");
    let redirect = env
        .client
        .oauth2_callback_default_dev()
        .code(SecretValue::new(""))
        .state(params["state"].clone())
        .error("consent_required")
        .send()
        .await
        .into_redirect()
        .expect("default dev callback redirects");
    let target_params = query(&url::Url::parse(&redirect.location).unwrap());
    assert_eq!(target_params["error"], "consent_required");
    assert_eq!(target_params["state"], "client-state");

    // A cancelled Apple sign-in through the default dev form callback.
    let (callback, _) = provider_redirect(&env, "apple", false).await;
    let redirect = env
        .client
        .apple_oauth2_callback_default_dev()
        .body(
            types::AppleOAuth2CallbackForm::builder()
                .state(query(&callback)["state"].clone())
                .error(Some("user_cancelled_authorize".into())),
        )
        .send()
        .await
        .into_redirect()
        .expect("apple default dev callback redirects");
    assert_eq!(
        query(&url::Url::parse(&redirect.location).unwrap())["error"],
        "user_cancelled_authorize"
    );

    // The GET callback with an unknown state is a 400.
    let unknown = env
        .client
        .oauth2_callback()
        .app_id(&env.app_id)
        .code(SecretValue::new("nope"))
        .state("flow_unknown")
        .send()
        .await;
    assert_eq!(status_code(unknown), (400, "invalid_request".into()));

    // Phone change through a magic link sent to the new number.
    let me = env.user_client(&auth);
    me.update_phone_currentuser()
        .app_id(&env.app_id)
        .body(types::UpdateUserPhoneRequest::builder().new_phone(Some("+15550001111".to_owned())))
        .send()
        .await
        .expect("phone change requested");
    let secret = env.last_message("+15550001111").magic_link_secret.unwrap();
    env.client
        .activate_magic_link()
        .app_id(&env.app_id)
        .body(types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::new(secret)))
        .send()
        .await
        .unwrap();
    let user = me
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(user.phone, "+15550001111");
    assert!(user.phone_verified);
    env.assert_conformant();
}

/// Every operation of both specs, sent bad bodies (cut-off JSON, an array, wrong types, a broken
/// form), with the credentials it needs: each answer's status is one the operation declares (and,
/// as the harness checks every answer, its body is the declared error body).
#[tokio::test]
async fn every_operation_answers_bad_input_with_an_api_error() {
    let env = TestEnv::start().await;
    let specs = Conformance::shared();
    let bad_bodies = [
        ("application/json", "{\"identifier\":"),
        ("application/json", "[1, 2, 3]"),
        (
            "application/json",
            "{\"identifier\": 42, \"handshake_response\": \"x\"}",
        ),
        ("application/x-www-form-urlencoded", "state=%ZZ&&=="),
    ];
    let mut operations = Vec::new();
    let mut undeclared = Vec::new();
    for spec in [specs.auth(), specs.management()] {
        for (id, method, template) in spec.operations() {
            operations.push(id.to_owned());
            let path = format!("{}{template}", spec.base())
                .replace("{app_id}", &env.app_id)
                .replace("{device_id}", "dev_unknown")
                .replace("{user_id}", "usr_unknown")
                .replace("{social_connection_type}", "google");
            for (content_type, body) in bad_bodies {
                let mut request = env
                    .http
                    .request(
                        method.parse().unwrap(),
                        format!("{}{path}", env.emulator.root_url()),
                    )
                    .header("content-type", content_type)
                    .body(body);
                if spec.base() == MANAGEMENT_PREFIX {
                    request = request.bearer_auth(DEFAULT_API_KEY);
                }
                let resp = request.send().await.expect("the emulator answers");
                let status = resp.status().as_u16();
                if spec.declares(method, &path, status) != Some(true) {
                    undeclared.push(format!(
                        "{id} ({method} {path}) with {body:?} answered {status}, declared: {:?}",
                        spec.declared_statuses(id)
                    ));
                }
                assert!(
                    status < 500,
                    "{method} {path} with {body:?} answered {status}"
                );
            }
        }
    }
    assert!(
        undeclared.is_empty(),
        "answers with a status their operation does not declare:\n{}",
        undeclared.join("\n")
    );
    // Every operation of both specs was swept.
    let auth = specs.auth().operation_ids().len();
    let management = specs.management().operation_ids().len();
    assert_eq!((auth, management), (43, 15));
    assert_eq!(operations.len(), auth + management);
    // Still serving.
    env.client
        .get_app()
        .app_id(&env.app_id)
        .send()
        .await
        .expect("alive");
    env.assert_conformant();
}

#[tokio::test]
async fn concurrent_metadata_updates_lose_nothing() {
    let fields: Vec<String> = (0..8).map(|i| format!("field{i}")).collect();
    let env = TestEnv::with_config(config_with(AppConfig {
        user_metadata_schema: fields
            .iter()
            .map(|f| MetadataFieldConfig {
                field_name: f.clone(),
                field_type: "integer".into(),
                friendly_name: None,
                profile: true,
                registration: false,
            })
            .collect(),
        ..AppConfig::default()
    }))
    .await;
    let auth = env.register_by_otp("many@example.com").await;
    let me = env.user_client(&auth);
    let mut tasks = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let me = me.clone();
        let app_id = env.app_id.clone();
        let mut update = serde_json::Map::new();
        update.insert(field.clone(), json!(i));
        tasks.push(tokio::spawn(async move {
            me.update_currentuser_metadata()
                .app_id(app_id)
                .body(types::UpdateMetadataRequest::builder().user_metadata(update))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("update succeeds");
    }
    let metadata = me
        .get_currentuser_metadata()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user_metadata;
    for (i, field) in fields.iter().enumerate() {
        assert_eq!(metadata[field], json!(i), "{field}");
    }
    env.assert_conformant();
}

/// Answers that used to slip past the conformance check (statuses the spec did not declare for their
/// operation, and the 429 fault's `rate_limited` code) are now declared and checked, raw requests
/// included (the emulator records every answer, whoever asked).
#[tokio::test]
async fn every_status_the_emulator_answers_is_declared() {
    let env = TestEnv::with_config(config_with(AppConfig {
        refresh_tokens: false,
        ..AppConfig::default()
    }))
    .await;
    let app = env.app_id.clone();
    let base = format!("{}/apps/{app}", env.emulator.base_url());
    let admin = env.emulator.admin();
    let user = env
        .management
        .create_user()
        .app_id(&app)
        .body(
            passage_management_client::types::CreateUserRequest::builder()
                .email(Some("declared@example.com".to_owned())),
        )
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    let session = admin.create_session(&app, &user.id).await.unwrap();
    let expect = |resp: reqwest::Response, status: u16| async move {
        assert_eq!(resp.status().as_u16(), status, "{}", resp.url().path());
        let body: Value = resp.json().await.expect("JSON error body");
        body["code"].as_str().unwrap_or_default().to_owned()
    };

    // POST tokens with refresh tokens off: 403.
    let resp = env
        .http
        .post(format!("{base}/tokens"))
        .json(&json!({"refresh_token": "not-a-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect(resp, 403).await, "operation_not_allowed");
    // currentuser/devices/finish with a malformed body: 400.
    let resp = env
        .http
        .post(format!("{base}/currentuser/devices/finish"))
        .bearer_auth(&session.auth_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect(resp, 400).await, "invalid_request");
    // Social operations of an unknown app: 404 app_not_found.
    let (_, challenge) = pkce_pair();
    let unknown = format!("{}/apps/no-such-app", env.emulator.base_url());
    let resp = env
        .http
        .get(format!("{unknown}/social/authorize"))
        .query(&[
            ("redirect_uri", "https://app.passage.test/cb"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("connection_type", "github"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(expect(resp, 404).await, "app_not_found");
    let resp = env
        .http
        .get(format!("{unknown}/social/token"))
        .query(&[("code", "c"), ("verifier", "v")])
        .send()
        .await
        .unwrap();
    assert_eq!(expect(resp, 404).await, "app_not_found");
    // Injected 429 and 503.
    for (kind, status, code) in [
        (FaultKind::Status429, 429, "rate_limited"),
        (FaultKind::Status503, 503, "internal_server_error"),
    ] {
        env.emulator.inject_fault(FaultRule {
            path_prefix: format!("/v1/apps/{app}"),
            method: Some("GET".into()),
            count: 1,
            kind,
            retry_after: Some(1),
            delay_ms: None,
            status: None,
        });
        let resp = env.http.get(&base).send().await.unwrap();
        assert_eq!(resp.headers()["retry-after"], "1");
        assert_eq!(expect(resp, status).await, code);
    }
    // An over-size body: 413.
    let resp = env
        .http
        .post(format!("{base}/login/otp"))
        .json(&json!({"identifier": "x@example.com", "language": "x".repeat(2 * 1024 * 1024)}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect(resp, 413).await, "invalid_request");
    env.assert_conformant();
}

/// With `quirks` on, the emulator sends the hosted service's known shapes (`status: ""`, no
/// `webauthn_types` on WebAuthn start users); the generated client accepts them and they conform to the
/// spec.
#[tokio::test]
async fn the_hosted_quirks_are_tolerated_by_the_client_and_the_spec() {
    let env = TestEnv::with_config(EmulatorConfig {
        quirks: true,
        ..EmulatorConfig::default()
    })
    .await;
    let start = env
        .client
        .register_webauthn_start()
        .app_id(&env.app_id)
        .body(types::RegisterWebAuthnStartRequest::builder().identifier("quirky@example.com"))
        .send()
        .await
        .expect("register start with quirks")
        .into_inner();
    let user = start.user.expect("user");
    assert_eq!(user.status.as_str(), "");
    assert!(user.webauthn_types.is_empty());
    let created = env
        .client
        .create_user()
        .app_id(&env.app_id)
        .body(types::CreateUserParams::builder().identifier("quirky2@example.com"))
        .send()
        .await
        .expect("create user with quirks")
        .into_inner();
    assert_eq!(created.user.status.as_str(), "");
    // The current user keeps its full shape.
    let auth = env.register_by_otp("quirky3@example.com").await;
    let me = env
        .user_client(&auth)
        .get_currentuser()
        .app_id(&env.app_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    assert_eq!(me.status.as_str(), "active");
    env.assert_conformant();
}
