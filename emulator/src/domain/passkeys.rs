//! Passkey ceremonies: registration (of a new user, of a device for the signed-in user, for a
//! transaction), login (for a known user or usernameless) and the transaction ceremonies that
//! answer a nonce. The WebAuthn verification itself is [`crate::relying_party`]'s; this module keeps
//! the handshakes, users and devices.

use serde_json::Value;

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::{DeviceKind, LoginMethod, UserStatus};
use crate::base::random::random_id;
use crate::base::redact::redacted_debug;
use crate::domain::accounts::{classify_identifier, ensure_can_login, record_login, register_user};
use crate::domain::sessions::{issue_session, AuthResponse};
use crate::domain::transactions::{issue_nonce, open_transaction};
use crate::model::app::AppRecord;
use crate::model::handshakes::{CeremonyPurpose, Handshake};
use crate::model::records::{DeviceRecord, TransactionKind};
use crate::model::state::EmulatorState;
use crate::relying_party::{
    AttachmentPreference, CeremonyError, DiscoverableState, LoginState, RelyingParty,
    StoredCredential,
};
use crate::settings::urls::Urls;

/// Seconds a handshake stays valid.
const HANDSHAKE_TTL_SECONDS: i64 = 300;

fn relying_party(app: &AppRecord) -> ApiResult<RelyingParty> {
    let origin = url::Url::parse(&app.config.effective_rp_origin())
        .map_err(|e| ApiError::internal(format!("bad WebAuthn origin in app config: {e}")))?;
    RelyingParty::new(&app.config.effective_rp_id(), &origin, &app.config.name)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The authenticator attachment a registration asks for (`authenticator_attachment`: `platform`,
/// the default, `cross-platform` or `any`).
pub fn parse_attachment(value: Option<&str>) -> ApiResult<Option<AttachmentPreference>> {
    match value {
        None | Some("platform") => Ok(Some(AttachmentPreference::Platform)),
        Some("cross-platform") => Ok(Some(AttachmentPreference::CrossPlatform)),
        Some("any") => Ok(None),
        Some(_) => Err(ApiError::bad_request(
            "authenticator_attachment must be platform, cross-platform or any",
        )),
    }
}

/// Maps an engine error: bad input 400, verification failure 401 with `code`, no passkeys 409.
fn ceremony_error(err: CeremonyError, code: &'static str) -> ApiError {
    match err {
        CeremonyError::NoCredentials => {
            ApiError::conflict("user_has_no_passkeys", "the user has no passkeys")
        }
        e if e.is_bad_input() => ApiError::bad_request(e.to_string()),
        e if e.is_verification_failure() => ApiError::unauthorized(code, e.to_string()),
        e => ApiError::internal(e.to_string()),
    }
}

/// The user's stored credentials (decoded), with their device ids.
fn credentials_of(app: &AppRecord, user_id: &str) -> ApiResult<Vec<(String, StoredCredential)>> {
    app.devices_of(user_id)
        .map(|d| {
            serde_json::from_value::<StoredCredential>(d.credential.clone())
                .map(|c| (d.id.clone(), c))
                .map_err(|e| ApiError::internal(format!("stored credential is unreadable: {e}")))
        })
        .collect()
}

fn add_device(
    app: &mut AppRecord,
    user_id: &str,
    cred: &StoredCredential,
    now: i64,
) -> ApiResult<DeviceRecord> {
    let count = app.devices_of(user_id).count();
    let device = DeviceRecord {
        id: random_id("dev_"),
        cred_id: cred.id(),
        friendly_name: format!("Passkey {}", count + 1),
        user_id: user_id.to_owned(),
        kind: DeviceKind::Passkey,
        created_at: now,
        updated_at: now,
        last_login_at: now,
        usage_count: 0,
        credential: serde_json::to_value(cred).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    app.devices.insert(device.id.clone(), device.clone());
    Ok(device)
}

/// Forgets expired handshakes.
fn prune_handshakes(state: &mut EmulatorState, now: i64) {
    state.handshakes.retain(|_, h| now < h.expires_at());
}

/// Starts a registration for `user_id`, whose passkey is stored under `name` (by default the
/// user's e-mail address, else their phone number, else their external id); returns (handshake
/// id, options).
fn start_registration(
    state: &mut EmulatorState,
    app_id: &str,
    user_id: &str,
    name: Option<&str>,
    purpose: CeremonyPurpose,
    attachment_pref: Option<AttachmentPreference>,
    now: i64,
) -> ApiResult<(String, Value)> {
    let app = state.app(app_id)?;
    let user = app
        .users
        .get(user_id)
        .ok_or_else(ApiError::user_not_found)?;
    let name = name.unwrap_or_else(|| {
        [&user.email, &user.phone, &user.external_id, &user.id]
            .into_iter()
            .find(|n| !n.is_empty())
            .map_or("", String::as_str)
    });
    let (_, existing): (Vec<_>, Vec<StoredCredential>) =
        credentials_of(app, user_id)?.into_iter().unzip();
    let (options, reg_state) = relying_party(app)?
        .start_registration_with_attachment(
            user.webauthn_handle,
            name,
            name,
            &existing,
            attachment_pref,
        )
        .map_err(|e| ceremony_error(e, "webauthn_login_failed"))?;
    let id = random_id("hs_");
    prune_handshakes(state, now);
    state.handshakes.insert(
        id.clone(),
        Handshake::Register {
            app_id: app_id.to_owned(),
            user_id: user_id.to_owned(),
            purpose,
            state: reg_state,
            expires_at: now + HANDSHAKE_TTL_SECONDS,
        },
    );
    Ok((id, options))
}

/// Finishes a registration; returns (user id, new device).
fn finish_registration(
    state: &mut EmulatorState,
    app_id: &str,
    handshake_id: &str,
    response: &Value,
    expected: &CeremonyPurpose,
    now: i64,
) -> ApiResult<(String, DeviceRecord)> {
    let unknown = || ApiError::bad_request("unknown or expired handshake");
    let handshake = state.handshakes.remove(handshake_id).ok_or_else(unknown)?;
    let Handshake::Register {
        app_id: hs_app,
        user_id,
        purpose,
        state: reg_state,
        expires_at,
    } = handshake
    else {
        return Err(unknown());
    };
    if hs_app != app_id || &purpose != expected || now >= expires_at {
        return Err(unknown());
    }
    let app = state.app_mut(app_id)?;
    let cred = relying_party(app)?
        .finish_registration(response, &reg_state)
        .map_err(|e| ceremony_error(e, "webauthn_login_failed"))?;
    if app.devices.values().any(|d| d.cred_id == cred.id()) {
        return Err(ApiError::bad_request(
            "this credential is already registered",
        ));
    }
    let device = add_device(app, &user_id, &cred, now)?;
    Ok((user_id, device))
}

/// Starts a login: for `user_id` when given (their passkeys), else discoverable.
fn start_login(
    state: &mut EmulatorState,
    app_id: &str,
    user_id: Option<&str>,
    purpose: CeremonyPurpose,
    now: i64,
) -> ApiResult<(String, Value)> {
    let app = state.app(app_id)?;
    let rp = relying_party(app)?;
    let id = random_id("hs_");
    let expires_at = now + HANDSHAKE_TTL_SECONDS;
    let (options, handshake) = match user_id {
        Some(user_id) => {
            let (_, creds): (Vec<_>, Vec<StoredCredential>) =
                credentials_of(app, user_id)?.into_iter().unzip();
            let (options, login_state) = rp
                .start_login(&creds)
                .map_err(|e| ceremony_error(e, "webauthn_login_failed"))?;
            let hs = Handshake::Login {
                app_id: app_id.to_owned(),
                user_id: user_id.to_owned(),
                purpose,
                state: login_state,
                expires_at,
            };
            (options, hs)
        }
        None => {
            let (options, disc_state) = rp
                .start_discoverable_login()
                .map_err(|e| ceremony_error(e, "discoverable_login_failed"))?;
            let hs = Handshake::Discoverable {
                app_id: app_id.to_owned(),
                purpose,
                state: disc_state,
                expires_at,
            };
            (options, hs)
        }
    };
    prune_handshakes(state, now);
    state.handshakes.insert(id.clone(), handshake);
    Ok((id, options))
}

/// A login ceremony taken out of the state, to be verified without holding the state lock.
pub struct LoginCheck {
    user_id: String,
    rp: RelyingParty,
    state: LoginCheckState,
    device_ids: Vec<String>,
    creds: Vec<StoredCredential>,
    code: &'static str,
}

enum LoginCheckState {
    Known(LoginState),
    Discoverable(DiscoverableState),
}

/// Under the lock: takes the (single-use) handshake of a login and copies the user's credentials,
/// to be verified after the lock is released ([`LoginCheck::verify`]).
pub fn take_login(
    state: &mut EmulatorState,
    app_id: &str,
    handshake_id: &str,
    response: &Value,
    expected: &CeremonyPurpose,
    now: i64,
) -> ApiResult<LoginCheck> {
    let unknown =
        || ApiError::unauthorized("webauthn_login_failed", "unknown or expired handshake");
    let handshake = state.handshakes.remove(handshake_id).ok_or_else(unknown)?;
    let (user_id, check_state, code) = match handshake {
        Handshake::Login {
            app_id: hs_app,
            user_id,
            purpose,
            state: login_state,
            expires_at,
        } => {
            if hs_app != app_id || &purpose != expected || now >= expires_at {
                return Err(unknown());
            }
            (
                user_id,
                LoginCheckState::Known(login_state),
                "webauthn_login_failed",
            )
        }
        Handshake::Discoverable {
            app_id: hs_app,
            purpose,
            state: disc_state,
            expires_at,
        } => {
            let failed =
                |m: &str| ApiError::unauthorized("discoverable_login_failed", m.to_owned());
            if hs_app != app_id || &purpose != expected || now >= expires_at {
                return Err(failed("unknown or expired handshake"));
            }
            let app = state.app(app_id)?;
            // Reads the user handle only; nothing is verified here.
            let (handle, _) = relying_party(app)?
                .identify_discoverable(response)
                .map_err(|e| ceremony_error(e, "discoverable_login_failed"))?;
            let user_id = app
                .users
                .values()
                .find(|u| u.webauthn_handle == handle)
                .map(|u| u.id.clone())
                .ok_or_else(|| failed("no user owns this passkey"))?;
            (
                user_id,
                LoginCheckState::Discoverable(disc_state),
                "discoverable_login_failed",
            )
        }
        Handshake::Register { .. } => return Err(unknown()),
    };
    let app = state.app(app_id)?;
    let (device_ids, creds) = credentials_of(app, &user_id)?.into_iter().unzip();
    Ok(LoginCheck {
        user_id,
        rp: relying_party(app)?,
        state: check_state,
        device_ids,
        creds,
        code,
    })
}

/// A verified login: the user, and the credential used (to be written back with its new
/// signature counter by [`record_credential_use`]).
#[derive(Debug)]
pub struct VerifiedLogin {
    /// The user who logged in.
    pub user_id: String,
    /// The credential used, when it is one of the user's devices.
    pub used: Option<UsedCredential>,
}

/// A device's credential after a login verified with it.
pub struct UsedCredential {
    device_id: String,
    sign_count: u32,
    json: Value,
}
redacted_debug!(UsedCredential {
    device_id,
    sign_count
});

impl LoginCheck {
    /// Verifies the assertion `response` (without the state lock, so that verifications run on
    /// every core).
    pub fn verify(mut self, response: &Value) -> ApiResult<VerifiedLogin> {
        let used = match self.state {
            LoginCheckState::Known(login_state) => {
                self.rp
                    .finish_login(response, &login_state, &mut self.creds)
            }
            LoginCheckState::Discoverable(disc_state) => {
                self.rp
                    .finish_discoverable_login(response, disc_state, &mut self.creds)
            }
        }
        .map_err(|e| ceremony_error(e, self.code))?;
        let Some((device_id, cred)) = self
            .device_ids
            .iter()
            .zip(&self.creds)
            .find(|(_, c)| c.id() == used)
        else {
            return Ok(VerifiedLogin {
                user_id: self.user_id,
                used: None,
            });
        };
        let json = serde_json::to_value(cred).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(VerifiedLogin {
            used: Some(UsedCredential {
                device_id: device_id.clone(),
                sign_count: cred.sign_count(),
                json,
            }),
            user_id: self.user_id,
        })
    }
}

/// Writes back the credential a login used (its signature counter) and counts the use.
pub fn record_credential_use(app: &mut AppRecord, used: &UsedCredential, now: i64) {
    if let Some(device) = app.devices.get_mut(&used.device_id) {
        // Two logins verified at once: the higher signature counter wins.
        let stored = serde_json::from_value::<StoredCredential>(device.credential.clone())
            .map(|c| c.sign_count())
            .unwrap_or(0);
        if used.sign_count >= stored {
            device.credential = used.json.clone();
        }
        device.usage_count += 1;
        device.last_login_at = now;
        device.updated_at = now;
    }
}

/// Refuses a finish call whose `user_id` is not the one the handshake was started for.
fn check_handshake_user(state: &EmulatorState, handshake_id: &str, user_id: &str) -> ApiResult<()> {
    match state.handshakes.get(handshake_id) {
        Some(Handshake::Register {
            user_id: expected, ..
        }) if expected != user_id => Err(ApiError::bad_request(
            "user_id does not match the handshake",
        )),
        _ => Ok(()),
    }
}

/// A ceremony just started: the handshake id and the options for the browser.
#[derive(Debug)]
pub struct Started {
    /// Handshake id (single use).
    pub handshake_id: String,
    /// The `{"publicKey": {...}}` options.
    pub options: Value,
}

/// `register/webauthn/start`: creates (or reuses) a pending user and starts their registration;
/// returns the ceremony and the user id.
pub fn start_registration_of_new_user(
    state: &mut EmulatorState,
    app_id: &str,
    identifier: &str,
    attachment: Option<AttachmentPreference>,
    now: i64,
) -> ApiResult<(Started, String)> {
    state
        .app(app_id)?
        .config
        .ensure_offers(LoginMethod::Passkeys)?;
    let (user_id, _) = register_user(state.app_mut(app_id)?, identifier, now)?;
    let (handshake_id, options) = start_registration(
        state,
        app_id,
        &user_id,
        None,
        CeremonyPurpose::Register,
        attachment,
        now,
    )?;
    Ok((
        Started {
            handshake_id,
            options,
        },
        user_id,
    ))
}

/// `register/webauthn/finish`: registers the passkey and logs the new user in.
pub fn finish_registration_of_new_user(
    urls: &Urls,
    state: &mut EmulatorState,
    app_id: &str,
    handshake_id: &str,
    response: &Value,
    claimed_user_id: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    check_handshake_user(state, handshake_id, claimed_user_id)?;
    let (user_id, _) = finish_registration(
        state,
        app_id,
        handshake_id,
        response,
        &CeremonyPurpose::Register,
        now,
    )?;
    let app = state.app_mut(app_id)?;
    let user = app
        .users
        .get_mut(&user_id)
        .ok_or_else(ApiError::user_not_found)?;
    record_login(user, now);
    issue_session(urls, app, &user_id, now)
}

/// `login/webauthn/start`: with an identifier, a login for that user's passkeys (409
/// `user_has_no_passkeys` when none); without, a discoverable login. Returns the ceremony and the
/// user id (when known).
pub fn start_passkey_login(
    state: &mut EmulatorState,
    app_id: &str,
    identifier: Option<&str>,
    now: i64,
) -> ApiResult<(Started, Option<String>)> {
    let app = state.app(app_id)?;
    app.config.ensure_offers(LoginMethod::Passkeys)?;
    let user_id = match identifier.filter(|i| !i.trim().is_empty()) {
        Some(identifier) => {
            let (_, id) = classify_identifier(&app.config, identifier)?;
            let user = app
                .find_user_by_identifier(&id)
                .ok_or_else(ApiError::user_not_found)?;
            ensure_can_login(user)?;
            Some(user.id.clone())
        }
        None => None,
    };
    let (handshake_id, options) = start_login(
        state,
        app_id,
        user_id.as_deref(),
        CeremonyPurpose::Login,
        now,
    )?;
    Ok((
        Started {
            handshake_id,
            options,
        },
        user_id,
    ))
}

/// `currentuser/devices/start`: starts registering another passkey of the signed-in user.
pub fn start_adding_device(
    state: &mut EmulatorState,
    app_id: &str,
    user_id: &str,
    attachment: Option<AttachmentPreference>,
    now: i64,
) -> ApiResult<Started> {
    state
        .app(app_id)?
        .config
        .ensure_offers(LoginMethod::Passkeys)?;
    let (handshake_id, options) = start_registration(
        state,
        app_id,
        user_id,
        None,
        CeremonyPurpose::AddDevice,
        attachment,
        now,
    )?;
    Ok(Started {
        handshake_id,
        options,
    })
}

/// `currentuser/devices/finish`: registers the signed-in user's new passkey; `claimed_user_id`
/// (the request's `user_id`) must be theirs.
pub fn finish_adding_device(
    state: &mut EmulatorState,
    app_id: &str,
    user_id: &str,
    claimed_user_id: &str,
    handshake_id: &str,
    response: &Value,
    now: i64,
) -> ApiResult<DeviceRecord> {
    if claimed_user_id != user_id {
        return Err(ApiError::forbidden(
            "operation_not_allowed",
            "user_id is not the signed-in user",
        ));
    }
    check_handshake_user(state, handshake_id, user_id)?;
    let (_, device) = finish_registration(
        state,
        app_id,
        handshake_id,
        response,
        &CeremonyPurpose::AddDevice,
        now,
    )?;
    Ok(device)
}

/// `authenticate/transactions/webauthn/start`: a login for the transaction's user, or a
/// discoverable login when no transaction is given.
pub fn start_transaction_login(
    state: &mut EmulatorState,
    app_id: &str,
    transaction_id: Option<&str>,
    now: i64,
) -> ApiResult<Started> {
    let app = state.app(app_id)?;
    let user_id = match transaction_id {
        Some(id) => Some(
            open_transaction(app, id, TransactionKind::Authenticate)?
                .user_id
                .clone(),
        ),
        None => None,
    };
    let (handshake_id, options) = start_login(
        state,
        app_id,
        user_id.as_deref(),
        CeremonyPurpose::Transaction(transaction_id.map(str::to_owned)),
        now,
    )?;
    Ok(Started {
        handshake_id,
        options,
    })
}

/// `register/transactions/webauthn/start`: starts registering a passkey for the transaction's user.
pub fn start_transaction_registration(
    state: &mut EmulatorState,
    app_id: &str,
    transaction_id: &str,
    attachment: Option<AttachmentPreference>,
    now: i64,
) -> ApiResult<Started> {
    let tx = open_transaction(
        state.app(app_id)?,
        transaction_id,
        TransactionKind::Register,
    )?;
    let (user_id, name) = (tx.user_id.clone(), tx.passkey_display_name.clone());
    let (handshake_id, options) = start_registration(
        state,
        app_id,
        &user_id,
        name.as_deref(),
        CeremonyPurpose::Transaction(Some(transaction_id.to_owned())),
        attachment,
        now,
    )?;
    Ok(Started {
        handshake_id,
        options,
    })
}

/// `register/transactions/webauthn/finish`: registers the passkey, activates a pending user and
/// completes the transaction; returns its nonce.
pub fn finish_transaction_registration(
    state: &mut EmulatorState,
    app_id: &str,
    handshake_id: &str,
    response: &Value,
    transaction_id: &str,
    now: i64,
) -> ApiResult<String> {
    open_transaction(
        state.app(app_id)?,
        transaction_id,
        TransactionKind::Register,
    )?;
    let (user_id, _) = finish_registration(
        state,
        app_id,
        handshake_id,
        response,
        &CeremonyPurpose::Transaction(Some(transaction_id.to_owned())),
        now,
    )?;
    let app = state.app_mut(app_id)?;
    if let Some(user) = app.users.get_mut(&user_id) {
        if user.status == UserStatus::Pending {
            user.status = UserStatus::Active;
        }
    }
    Ok(issue_nonce(
        app,
        Some(transaction_id.to_owned()),
        &user_id,
        now,
    ))
}
