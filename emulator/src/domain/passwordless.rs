//! Passwordless logins: one-time passcodes and magic links (sending them to the outbox, redeeming
//! them, polling a link's status) and identifier changes confirmed by a magic link.

use serde_json::json;

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::clock::rfc3339;
use crate::base::digest::{digest_hex, secret_eq};
use crate::base::enums::{LoginMethod, OutboxKind};
use crate::base::random::{random_id, random_otp, random_secret};
use crate::domain::accounts::{
    classify_identifier, ensure_can_login, identifier_taken, mark_verified, record_login,
    register_user,
};
use crate::domain::sessions::{issue_session, AuthResponse};
use crate::model::app::AppRecord;
use crate::model::outbox::OutboxMessage;
use crate::model::records::{LinkPurpose, MagicLinkRecord, OtpRecord};
use crate::model::state::EmulatorState;
use crate::settings::urls::Urls;

/// Finds the user for a login; returns (user id, normalized identifier).
fn login_user(app: &AppRecord, identifier: &str) -> ApiResult<(String, String)> {
    let (_, id) = classify_identifier(&app.config, identifier)?;
    let user = app
        .find_user_by_identifier(&id)
        .ok_or_else(ApiError::user_not_found)?;
    ensure_can_login(user)?;
    Ok((user.id.clone(), id))
}

/// Creates a passcode and puts it in the outbox; returns its id.
fn send_otp(
    state: &mut EmulatorState,
    app_id: &str,
    user_id: &str,
    identifier: &str,
    now: i64,
) -> ApiResult<String> {
    let app = state.app_mut(app_id)?;
    let code = random_otp();
    let otp = OtpRecord {
        id: random_id("otp_"),
        code_digest: app.passcode_key.key.digest_hex(&code),
        key_id: app.passcode_key.id.clone(),
        user_id: user_id.to_owned(),
        identifier: identifier.to_owned(),
        expires_at: now + app.config.otp_ttl_seconds,
        failed_attempts: 0,
        used: false,
    };
    let message = OutboxMessage {
        app_id: app_id.to_owned(),
        identifier: identifier.to_owned(),
        kind: OutboxKind::Otp,
        otp: Some(code),
        otp_id: Some(otp.id.clone()),
        magic_link_url: None,
        magic_link_secret: None,
        magic_link_id: None,
        created_at: rfc3339(now),
    };
    let id = otp.id.clone();
    app.otps.insert(id.clone(), otp);
    state.outbox.push(message);
    Ok(id)
}

/// Longest `magic_link_path` and `redirect_url` accepted (a link in the outbox stays bounded).
pub const MAX_URL_LEN: usize = 2048;

/// Creates a magic link and puts it in the outbox; returns its id.
#[allow(clippy::too_many_arguments)]
pub fn send_magic_link(
    state: &mut EmulatorState,
    app_id: &str,
    user_id: &str,
    identifier: &str,
    purpose: LinkPurpose,
    path: Option<&str>,
    redirect_url: Option<String>,
    now: i64,
) -> ApiResult<String> {
    let app = state.app_mut(app_id)?;
    let too_long =
        |what: &str| ApiError::bad_request(format!("{what} has at most {MAX_URL_LEN} characters"));
    if path.is_some_and(|p| p.len() > MAX_URL_LEN) {
        return Err(too_long("magic_link_path"));
    }
    if redirect_url.as_ref().is_some_and(|u| u.len() > MAX_URL_LEN) {
        return Err(too_long("redirect_url"));
    }
    let secret = random_secret(24);
    let path = path.unwrap_or(&app.config.login_url);
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let invalid_path = || ApiError::bad_request("magic_link_path is not a valid path");
    let origin = url::Url::parse(&app.config.auth_origin).map_err(|_| invalid_path())?;
    let mut url = origin.join(&path).map_err(|_| invalid_path())?;
    // `//host/x` joins as a scheme-relative URL: the link (and its secret) must stay on the app's origin.
    if url.origin() != origin.origin() {
        return Err(invalid_path());
    }
    url.query_pairs_mut().append_pair("psg_magic_link", &secret);
    let link = MagicLinkRecord {
        id: random_id("ml_"),
        secret_digest: digest_hex(&secret),
        user_id: user_id.to_owned(),
        identifier: identifier.to_owned(),
        purpose,
        expires_at: now + app.config.magic_link_ttl_seconds,
        activated: false,
        status_delivered: false,
        redirect_url,
    };
    let id = link.id.clone();
    app.magic_links.insert(id.clone(), link);
    state.outbox.push(OutboxMessage {
        app_id: app_id.to_owned(),
        identifier: identifier.to_owned(),
        kind: OutboxKind::MagicLink,
        otp: None,
        otp_id: None,
        magic_link_url: Some(url.to_string()),
        magic_link_secret: Some(secret),
        magic_link_id: Some(id.clone()),
        created_at: rfc3339(now),
    });
    Ok(id)
}

/// A registration by passcode: creates (or reuses) the pending user and sends a passcode; returns
/// its id.
pub fn send_registration_otp(
    state: &mut EmulatorState,
    app_id: &str,
    identifier: &str,
    now: i64,
) -> ApiResult<String> {
    state.app(app_id)?.config.ensure_offers(LoginMethod::Otp)?;
    let (user_id, id) = register_user(state.app_mut(app_id)?, identifier, now)?;
    send_otp(state, app_id, &user_id, &id, now)
}

/// A login by passcode: sends a passcode to a known user; returns its id.
pub fn send_login_otp(
    state: &mut EmulatorState,
    app_id: &str,
    identifier: &str,
    now: i64,
) -> ApiResult<String> {
    state.app(app_id)?.config.ensure_offers(LoginMethod::Otp)?;
    let (user_id, id) = login_user(state.app(app_id)?, identifier)?;
    send_otp(state, app_id, &user_id, &id, now)
}

/// A registration by magic link: creates (or reuses) the pending user and sends a link (to
/// `magic_link_path` on the app's auth origin, else its login URL); returns its id.
pub fn send_registration_magic_link(
    state: &mut EmulatorState,
    app_id: &str,
    identifier: &str,
    magic_link_path: Option<&str>,
    now: i64,
) -> ApiResult<String> {
    state
        .app(app_id)?
        .config
        .ensure_offers(LoginMethod::MagicLink)?;
    let (user_id, id) = register_user(state.app_mut(app_id)?, identifier, now)?;
    send_magic_link(
        state,
        app_id,
        &user_id,
        &id,
        LinkPurpose::Login,
        magic_link_path,
        None,
        now,
    )
}

/// A login by magic link: sends a link to a known user; returns its id.
pub fn send_login_magic_link(
    state: &mut EmulatorState,
    app_id: &str,
    identifier: &str,
    magic_link_path: Option<&str>,
    now: i64,
) -> ApiResult<String> {
    state
        .app(app_id)?
        .config
        .ensure_offers(LoginMethod::MagicLink)?;
    let (user_id, id) = login_user(state.app(app_id)?, identifier)?;
    send_magic_link(
        state,
        app_id,
        &user_id,
        &id,
        LinkPurpose::Login,
        magic_link_path,
        None,
        now,
    )
}

/// A passcode that cannot be redeemed: 400 `invalid_request`, which the official native SDKs show as
/// "the otp or the otp_id is invalid" (a 401 would read as "attempts used up" to the login element).
fn invalid_otp(message: &str) -> ApiError {
    ApiError::bad_request(message)
}

/// Redeems a passcode: a session for its user. Wrong, unknown, used or expired passcodes give 400
/// `invalid_request`; too many wrong tries give 401 `exceeded_attempts`.
pub fn activate_otp(
    urls: &Urls,
    app: &mut AppRecord,
    otp_id: &str,
    code: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    let max = app.config.otp_max_attempts;
    let otp = app
        .otps
        .get_mut(otp_id)
        .ok_or_else(|| invalid_otp("unknown one-time passcode"))?;
    if otp.failed_attempts >= max {
        return Err(ApiError::unauthorized(
            "exceeded_attempts",
            "too many wrong passcodes; request a new one",
        ));
    }
    if otp.used {
        return Err(invalid_otp("one-time passcode already used"));
    }
    if now >= otp.expires_at {
        return Err(invalid_otp("one-time passcode expired"));
    }
    if otp.key_id != app.passcode_key.id {
        return Err(invalid_otp(
            "one-time passcode expired (issued before the emulator restarted)",
        ));
    }
    let presented = app.passcode_key.key.digest_hex(code.trim());
    if !secret_eq(&otp.code_digest, &presented) {
        otp.failed_attempts += 1;
        if otp.failed_attempts >= max {
            return Err(ApiError::unauthorized(
                "exceeded_attempts",
                "too many wrong passcodes; request a new one",
            ));
        }
        return Err(invalid_otp("wrong one-time passcode"));
    }
    otp.used = true;
    let (user_id, identifier) = (otp.user_id.clone(), otp.identifier.clone());
    let user = app
        .users
        .get_mut(&user_id)
        .ok_or_else(ApiError::user_not_found)?;
    ensure_can_login(user)?;
    mark_verified(user, &identifier);
    record_login(user, now);
    issue_session(urls, app, &user_id, now)
}

/// Activates a magic link: a session for its user (and, for an identifier change, the new
/// identifier). Unknown, used or expired links give 401 `invalid_magic_link`.
pub fn activate_magic_link(
    urls: &Urls,
    app: &mut AppRecord,
    secret: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    let wanted = digest_hex(secret.trim());
    let link = app
        .magic_links
        .values()
        .find(|l| secret_eq(&l.secret_digest, &wanted))
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("invalid_magic_link", "unknown magic link"))?;
    if link.activated {
        return Err(ApiError::unauthorized(
            "invalid_magic_link",
            "magic link already used",
        ));
    }
    if now >= link.expires_at {
        return Err(ApiError::unauthorized(
            "invalid_magic_link",
            "magic link expired",
        ));
    }
    // An identifier change must not take an identifier another user has meanwhile.
    let new_identifier = match &link.purpose {
        LinkPurpose::ChangeEmail { new_email } => Some(new_email),
        LinkPurpose::ChangePhone { new_phone } => Some(new_phone),
        LinkPurpose::Login => None,
    };
    if let Some(id) = new_identifier {
        if identifier_taken(app, id, Some(&link.user_id)) {
            return Err(ApiError::bad_request(
                "the new identifier is already in use",
            ));
        }
    }
    let user = app
        .users
        .get_mut(&link.user_id)
        .ok_or_else(ApiError::user_not_found)?;
    ensure_can_login(user)?;
    if let Some(stored) = app.magic_links.get_mut(&link.id) {
        stored.activated = true;
    }
    let user = app
        .users
        .get_mut(&link.user_id)
        .ok_or_else(ApiError::user_not_found)?;
    match &link.purpose {
        LinkPurpose::Login => mark_verified(user, &link.identifier),
        LinkPurpose::ChangeEmail { new_email } => {
            user.email = new_email.clone();
            user.email_verified = true;
        }
        LinkPurpose::ChangePhone { new_phone } => {
            user.phone = new_phone.clone();
            user.phone_verified = true;
        }
    }
    record_login(user, now);
    let mut response = issue_session(urls, app, &link.user_id, now)?;
    if let Some(redirect) = link.redirect_url {
        response.body["auth_result"]["redirect_url"] = json!(redirect);
    }
    Ok(response)
}

/// A poll of a magic link's status: 404 `magic_link_not_found` until the link is activated, then a
/// new session on every poll until the link expires (so a poll whose answer was lost can be
/// repeated), then 404 again.
pub fn magic_link_status(
    urls: &Urls,
    app: &mut AppRecord,
    link_id: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    let not_found = || {
        ApiError::not_found(
            "magic_link_not_found",
            "magic link not found or not activated yet",
        )
    };
    let link = app.magic_links.get_mut(link_id).ok_or_else(not_found)?;
    if !link.activated || now >= link.expires_at {
        return Err(not_found());
    }
    link.status_delivered = true;
    let user_id = link.user_id.clone();
    issue_session(urls, app, &user_id, now)
}

/// Starts the signed-in user's change of e-mail or phone (`purpose`): sends a magic link to the new
/// identifier, which applies the change when activated; returns the link's id.
#[allow(clippy::too_many_arguments)]
pub fn start_identifier_change(
    state: &mut EmulatorState,
    app_id: &str,
    user_id: &str,
    new_identifier: &str,
    purpose: LinkPurpose,
    magic_link_path: Option<&str>,
    redirect_url: Option<String>,
    now: i64,
) -> ApiResult<String> {
    let app = state.app(app_id)?;
    if identifier_taken(app, new_identifier, Some(user_id)) {
        return Err(ApiError::bad_request("this identifier is already in use"));
    }
    send_magic_link(
        state,
        app_id,
        user_id,
        new_identifier,
        purpose,
        magic_link_path,
        redirect_url,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::SigningKey;
    use crate::settings::app::AppConfig;

    fn model() -> (EmulatorState, String) {
        let config = AppConfig::default();
        let app_id = config.id.clone();
        let mut state = EmulatorState::default();
        let key = SigningKey::default_key().expect("key");
        state
            .apps
            .insert(app_id.clone(), AppRecord::new(config, key));
        (state, app_id)
    }

    fn send(state: &mut EmulatorState, app_id: &str, path: &str) -> ApiResult<String> {
        send_magic_link(
            state,
            app_id,
            "usr_1",
            "a@b.co",
            LinkPurpose::Login,
            Some(path),
            None,
            0,
        )
    }

    #[test]
    fn magic_link_stays_on_the_auth_origin() {
        let (mut state, app_id) = model();
        let origin = state.apps[&app_id].config.auth_origin.clone();
        send(&mut state, &app_id, "welcome").expect("relative path");
        let url = state.outbox[0].magic_link_url.clone().expect("url");
        assert!(
            url.starts_with(&format!("{origin}/welcome?psg_magic_link=")),
            "{url}"
        );
        for path in ["//evil.example/steal", "/\\evil.example/steal"] {
            let err = send(&mut state, &app_id, path).expect_err(path);
            assert_eq!(err.code, "invalid_request", "{path}");
        }
        assert_eq!(state.outbox.len(), 1, "refused links are not sent");
    }
}
