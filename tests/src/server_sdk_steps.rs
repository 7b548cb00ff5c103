//! The steps every Passage server SDK suite runs (`tests/sdk/*/suite.*`), and their checks against
//! what the emulator holds: one fixture, one set of step names and value keys, one checker, whatever
//! the SDK's language.
//!
//! [`Fixture::prepare`] makes, through the project's own clients, the users the steps work on: a
//! user with a session (its auth token is handed to the SDK), a user with a passkey registered
//! through the Auth API by the [`SoftAuthenticator`], an inactive user and a user to delete.
//! [`Fixture::command`] hands their ids and the session's token to the SDK program.
//! [`Fixture::check`] checks each step that ran: its values against the answer the emulator sent
//! in that step (the SDK decoded it faithfully) and against the state the emulator holds after the
//! run (read through the generated Management and Auth clients), never against the SDK's own
//! output.

use passage_auth_client::{types, SecretValue};
use passage_emulator::DEFAULT_API_KEY;
use passage_management_client::types as management;
use passage_management_client::UsersExt;
use serde_json::{json, Map, Value};

use crate::authenticator::SoftAuthenticator;
use crate::harness::jwt_parts;
use crate::sdk_process::{SdkCommand, SdkEnv, SdkRun, StepOutcome};

/// The origin the passkey is registered for (one of the default app's origins).
const ORIGIN: &str = "https://app.passage.test";

/// The e-mail address of the user with a session.
pub const SESSION_EMAIL: &str = "session@example.com";
/// The e-mail address the SDK creates a user with.
pub const CREATED_EMAIL: &str = "created@example.com";
/// The e-mail address the SDK changes the created user's to.
pub const UPDATED_EMAIL: &str = "updated@example.com";

/// The users the steps work on, made before the SDK runs.
pub struct Fixture {
    /// The user with a session.
    pub session_user: String,
    /// The session: its auth token goes to the SDK, its refresh token is presented after the run.
    pub session: types::AuthResult,
    /// The user with a passkey.
    pub device_user: String,
    /// Its devices' ids before the run, as the Management API lists them.
    pub devices: Vec<management::WebAuthnDevice>,
    /// A user deactivated before the run (the SDK activates it).
    pub inactive_user: String,
    /// A user the SDK deletes.
    pub doomed_user: String,
}

impl Fixture {
    /// Makes the users through the emulator's Auth and Management APIs.
    pub async fn prepare(sdk: &SdkEnv) -> Self {
        let env = &sdk.env;
        let session = env.register_by_otp(SESSION_EMAIL).await;
        let session_user = find(sdk, SESSION_EMAIL).await.id;
        let device_user = register_passkey(sdk, "device@example.com").await;
        let devices = list_devices(sdk, &device_user).await;
        assert_eq!(devices.len(), 1, "the passkey is the user's one device");
        let inactive_user = create_user(sdk, "inactive@example.com").await;
        env.management
            .deactivate_user()
            .app_id(&env.app_id)
            .user_id(&inactive_user)
            .send()
            .await
            .expect("deactivate_user");
        let doomed_user = create_user(sdk, "doomed@example.com").await;
        Self {
            session_user,
            session,
            device_user,
            devices,
            inactive_user,
            doomed_user,
        }
    }

    /// `command` with what every suite reads: the app, its API key, the session's auth token and
    /// the users' ids.
    pub fn command(&self, sdk: &SdkEnv, command: SdkCommand) -> SdkCommand {
        command
            .env("PASSAGE_APP_ID", &sdk.env.app_id)
            .secret_env("PASSAGE_API_KEY", DEFAULT_API_KEY)
            .secret_env(
                "SESSION_AUTH_TOKEN",
                self.session.auth_token.expose_secret(),
            )
            .env("SESSION_USER_ID", &self.session_user)
            .env("DEVICE_USER_ID", &self.device_user)
            .env("INACTIVE_USER_ID", &self.inactive_user)
            .env("DOOMED_USER_ID", &self.doomed_user)
    }

    /// Checks every step of `run` this module knows (each suite asserts which steps it ran).
    pub async fn check(&self, sdk: &SdkEnv, run: &SdkRun) {
        let env = &sdk.env;
        for step in ["validate_jwt", "authenticate_header", "authenticate_cookie"] {
            if has(run, step) {
                let values = ok(run, step);
                run.check(
                    step,
                    values["user_id"] == json!(self.session_user),
                    "the token's user is the session's user",
                );
            }
        }
        run.err("validate_tampered_jwt");

        if has(run, "get_app") {
            let values = ok(run, "get_app");
            let app = env
                .management
                .get_app()
                .app_id(&env.app_id)
                .send()
                .await
                .expect("get_app")
                .into_inner()
                .app;
            run.check(
                "get_app",
                values["id"] == json!(app.id)
                    && values["name"] == json!(app.name)
                    && values["auth_origin"] == json!(app.auth_origin),
                "the SDK's app is the emulator's",
            );
        }

        // The created user: updated, then deactivated; each answer decoded as sent.
        let created = ok(run, "create_user")["id"]
            .as_str()
            .expect("create_user gives an id")
            .to_owned();
        for step in [
            "create_user",
            "update_user",
            "deactivate_user",
            "activate_user",
        ] {
            check_user_as_answered(run, step);
        }
        let now = get_user(sdk, &created).await;
        assert_eq!(now.email, UPDATED_EMAIL, "update_user changed the e-mail");
        assert_eq!(now.status.as_str(), "inactive", "deactivate_user held");
        assert_eq!(find(sdk, UPDATED_EMAIL).await.id, created);
        run.check(
            "create_user",
            ok(run, "create_user")["email"] == json!(CREATED_EMAIL),
            "the created user has the e-mail given",
        );
        run.check(
            "update_user",
            ok(run, "update_user")["email"] == json!(UPDATED_EMAIL),
            "the update's answer has the new e-mail",
        );
        assert_eq!(
            get_user(sdk, &self.inactive_user).await.status.as_str(),
            "active",
            "activate_user held"
        );

        // get_user: the user with the passkey, as the emulator holds it.
        let device_user = get_user(sdk, &self.device_user).await;
        let values = ok(run, "get_user");
        let device_ids: Vec<&str> = self.devices.iter().map(|d| d.id.as_str()).collect();
        run.check(
            "get_user",
            values["id"] == json!(device_user.id)
                && values["email"] == json!(device_user.email)
                && values["webauthn"] == json!(true)
                && values["webauthn_devices"] == json!(device_ids),
            "the SDK's user is the emulator's, with its passkey",
        );

        // Deleting: gone from the emulator, and the SDK's next get is a 404.
        run.ok("delete_user");
        let gone = env
            .management
            .get_user()
            .app_id(&env.app_id)
            .user_id(&self.doomed_user)
            .send()
            .await
            .expect_err("the deleted user is gone");
        assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
        let error = run.err("get_deleted_user");
        let answered_code = run
            .step("get_deleted_user")
            .exchanges
            .last()
            .and_then(|e| serde_json::from_slice::<Value>(&e.body).ok())
            .map(|body| body["code"].clone());
        run.check(
            "get_deleted_user",
            error["status"] == json!(404) && Some(&error["code"]) == answered_code.as_ref(),
            "the SDK reports the 404 with the code the emulator answered",
        );

        // Devices: listed as the emulator held them, then the one revoked is gone.
        let listed = ok(run, "list_devices");
        let expected: Vec<Value> = self
            .devices
            .iter()
            .map(|d| json!({"id": d.id, "cred_id": d.cred_id, "type": d.type_.as_str()}))
            .collect();
        run.check(
            "list_devices",
            listed["devices"] == json!(expected),
            "the SDK lists the emulator's devices",
        );
        run.ok("revoke_device");
        assert!(
            list_devices(sdk, &self.device_user).await.is_empty(),
            "revoke_device removed the passkey"
        );

        // Revoked refresh tokens: the session's refresh is refused.
        run.ok("revoke_refresh_tokens");
        let refused = env
            .client
            .refresh_auth_token()
            .app_id(&env.app_id)
            .body(
                types::RefreshAuthTokenRequest::builder().refresh_token(
                    self.session
                        .refresh_token
                        .clone()
                        .expect("the session has a refresh token"),
                ),
            )
            .send()
            .await
            .expect_err("a revoked refresh token is refused");
        assert_eq!(refused.status().map(|s| s.as_u16()), Some(401));

        // The magic link: sent to the session's user, and it logs that user in.
        let link = ok(run, "create_magic_link");
        run.check(
            "create_magic_link",
            link["identifier"] == json!(SESSION_EMAIL)
                && link["user_id"] == json!(self.session_user)
                && link["activated"] == json!(false),
            "the link is for the session's user, not yet used",
        );
        let sent = env.last_message(SESSION_EMAIL);
        let secret = sent.magic_link_secret.expect("the link was sent");
        let activated = env
            .client
            .activate_magic_link()
            .app_id(&env.app_id)
            .body(types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::from(secret)))
            .send()
            .await
            .expect("the sent link activates")
            .into_inner()
            .auth_result;
        let (_, claims) = jwt_parts(activated.auth_token.expose_secret());
        assert_eq!(claims["sub"], json!(self.session_user));
    }
}

/// The values of `step`, which must have succeeded (a missing key reads as `null`).
#[track_caller]
fn ok(run: &SdkRun, step: &str) -> Value {
    Value::Object(run.ok(step).clone())
}

/// Whether `run` began `step`.
fn has(run: &SdkRun, step: &str) -> bool {
    run.steps().iter().any(|s| s.name == step)
}

/// Checks that the user values of `step` are those of the last user the emulator answered in it.
fn check_user_as_answered(run: &SdkRun, step: &str) {
    let values = ok(run, step);
    let outcome = run.step(step);
    let answered = Value::Object(answered_user(outcome));
    let devices: Vec<Value> = answered["webauthn_devices"]
        .as_array()
        .map(|devices| devices.iter().map(|d| d["id"].clone()).collect())
        .unwrap_or_default();
    run.check(
        step,
        values["id"] == answered["id"]
            && values["email"] == answered["email"]
            && values["status"] == answered["status"]
            && values["webauthn"] == answered["webauthn"]
            && values["webauthn_devices"] == Value::Array(devices),
        "the SDK's user is the one the emulator answered",
    );
}

/// The `user` of the last answer of `step` that had one.
fn answered_user(step: &StepOutcome) -> Map<String, Value> {
    step.exchanges
        .iter()
        .rev()
        .filter_map(|e| serde_json::from_slice::<Value>(&e.body).ok())
        .find_map(|body| body.get("user").and_then(Value::as_object).cloned())
        .unwrap_or_else(|| panic!("no answer of the step had a user\n{}", step.report()))
}

async fn find(sdk: &SdkEnv, email: &str) -> management::UserInfo {
    sdk.env
        .management
        .find_user_by_identifier(&sdk.env.app_id, email)
        .await
        .expect("find_user_by_identifier")
        .unwrap_or_else(|| panic!("no user {email}"))
}

async fn get_user(sdk: &SdkEnv, user_id: &str) -> management::UserInfo {
    sdk.env
        .management
        .get_user()
        .app_id(&sdk.env.app_id)
        .user_id(user_id)
        .send()
        .await
        .expect("get_user")
        .into_inner()
        .user
}

async fn create_user(sdk: &SdkEnv, email: &str) -> String {
    sdk.env
        .management
        .create_user()
        .app_id(&sdk.env.app_id)
        .body(management::CreateUserRequest::builder().email(Some(email.to_owned())))
        .send()
        .await
        .expect("create_user")
        .into_inner()
        .user
        .id
}

async fn list_devices(sdk: &SdkEnv, user_id: &str) -> Vec<management::WebAuthnDevice> {
    sdk.env
        .management
        .list_user_devices()
        .app_id(&sdk.env.app_id)
        .user_id(user_id)
        .send()
        .await
        .expect("list_user_devices")
        .into_inner()
        .devices
}

/// Signs a new user up with a passkey through the Auth API; returns the user's id.
async fn register_passkey(sdk: &SdkEnv, email: &str) -> String {
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    sdk.env.register_passkey(&mut authenticator, email).await
}
