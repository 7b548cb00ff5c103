//! Passwordless logins: one-time passcodes and magic links (sending them to the outbox, redeeming
//! them, polling a link's status), identifier changes confirmed by a magic link, and magic links
//! an app's backend makes through the Management API (delivered or handed back).

use serde_json::json;

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::clock::{rfc3339, MAX_EMULATOR_TIME};
use crate::base::digest::{digest_hex, secret_eq};
use crate::base::enums::{LoginMethod, MagicLinkChannel, OutboxKind, UserStatus};
use crate::base::identifiers::IdentifierKind;
use crate::base::random::{random_id, random_otp, random_secret};
use crate::base::redact::redacted_debug;
use crate::domain::accounts::{
    classify_identifier, ensure_can_login, identifier_taken, managed_email, managed_phone,
    mark_verified, new_user, record_login, register_user,
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

/// A magic link just made: its id, the secret its URL carries, and the URL.
pub struct MadeLink {
    /// Link id (for status polling).
    pub id: String,
    /// The one-time secret (only its digest is kept).
    pub secret: String,
    /// The URL to hand to the user (the secret in its query).
    pub url: String,
}
redacted_debug!(MadeLink { id });

/// Makes a magic link to `path` on the app's auth origin (else its login URL), valid for
/// `lifetime` seconds (the app's magic-link lifetime when `None`), and stores it (the secret as a
/// digest); delivers nothing.
#[allow(clippy::too_many_arguments)]
fn make_magic_link(
    app: &mut AppRecord,
    user_id: &str,
    identifier: &str,
    purpose: LinkPurpose,
    path: Option<&str>,
    redirect_url: Option<String>,
    lifetime: Option<i64>,
    now: i64,
) -> ApiResult<MadeLink> {
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
    let lifetime = lifetime.unwrap_or(app.config.magic_link_ttl_seconds);
    let link = MagicLinkRecord {
        id: random_id("ml_"),
        secret_digest: digest_hex(&secret),
        user_id: user_id.to_owned(),
        identifier: identifier.to_owned(),
        purpose,
        expires_at: now.saturating_add(lifetime).min(MAX_EMULATOR_TIME),
        activated: false,
        status_delivered: false,
        redirect_url,
    };
    let id = link.id.clone();
    app.magic_links.insert(id.clone(), link);
    Ok(MadeLink {
        id,
        secret,
        url: url.to_string(),
    })
}

/// Puts a made magic link in the outbox, as sent to `identifier`.
fn deliver_magic_link(
    state: &mut EmulatorState,
    app_id: &str,
    identifier: &str,
    link: &MadeLink,
    now: i64,
) {
    state.outbox.push(OutboxMessage {
        app_id: app_id.to_owned(),
        identifier: identifier.to_owned(),
        kind: OutboxKind::MagicLink,
        otp: None,
        otp_id: None,
        magic_link_url: Some(link.url.clone()),
        magic_link_secret: Some(link.secret.clone()),
        magic_link_id: Some(link.id.clone()),
        created_at: rfc3339(now),
    });
}

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
    let link = make_magic_link(
        app,
        user_id,
        identifier,
        purpose,
        path,
        redirect_url,
        None,
        now,
    )?;
    deliver_magic_link(state, app_id, identifier, &link, now);
    Ok(link.id)
}

/// Whom a magic link made through the Management API is for: exactly one of these.
#[derive(Debug, Clone, Copy)]
pub enum LinkRecipient<'a> {
    /// An e-mail address (a pending user is made for it when no user has it).
    Email(&'a str),
    /// A phone number (likewise).
    Phone(&'a str),
    /// An existing user, reached on `channel`.
    User {
        /// The user's id.
        user_id: &'a str,
        /// Which of their identifiers the link is for.
        channel: MagicLinkChannel,
    },
}

/// A magic link the app's backend asks for (the Management API's `create_magic_link`).
#[derive(Debug, Clone)]
pub struct LinkOrder<'a> {
    /// Whom it is for.
    pub recipient: LinkRecipient<'a>,
    /// Whether the emulator delivers it (to the outbox).
    pub send: bool,
    /// Minutes it stays valid (the app's magic-link lifetime, rounded up, when `None`).
    pub ttl_minutes: Option<i64>,
    /// Where the user goes once it is redeemed (the app's redirect URL when `None`).
    pub redirect_url: Option<String>,
    /// Path on the app's auth origin the link opens (its login page when `None`).
    pub magic_link_path: Option<&'a str>,
}

/// A magic link made for the app's backend.
#[derive(Debug)]
pub struct BackendLink {
    /// The link.
    pub link: MadeLink,
    /// The user it logs in.
    pub user_id: String,
    /// The e-mail address or phone number it is for.
    pub identifier: String,
    /// Where the user goes once it is redeemed.
    pub redirect_url: String,
    /// Minutes it stays valid.
    pub ttl_minutes: i64,
}

/// The user and identifier a link is for: an existing user (404 `user_not_found`; 400 when they
/// have no identifier of the channel's kind), or the user with an e-mail address or phone number,
/// made (pending, unverified) when there is none.
fn link_recipient(
    app: &mut AppRecord,
    recipient: LinkRecipient<'_>,
    now: i64,
) -> ApiResult<(String, String)> {
    let (kind, identifier) = match recipient {
        LinkRecipient::User { user_id, channel } => {
            let user = app
                .users
                .get(user_id)
                .ok_or_else(ApiError::user_not_found)?;
            let identifier = match channel {
                MagicLinkChannel::Email => &user.email,
                MagicLinkChannel::Phone => &user.phone,
            };
            if identifier.is_empty() {
                return Err(ApiError::bad_request(
                    "the user has no identifier for this channel",
                ));
            }
            return Ok((user.id.clone(), identifier.clone()));
        }
        LinkRecipient::Email(raw) => (IdentifierKind::Email, managed_email(raw)?),
        LinkRecipient::Phone(raw) => (IdentifierKind::Phone, managed_phone(raw)?),
    };
    if let Some(user) = app.find_user_by_identifier(&identifier) {
        return Ok((user.id.clone(), identifier));
    }
    let user = new_user(kind, &identifier, UserStatus::Pending, now);
    let user_id = user.id.clone();
    app.users.insert(user_id.clone(), user);
    Ok((user_id, identifier))
}

/// The Management API's `create_magic_link`: makes a link for the recipient (see
/// [`LinkRecipient`]), redeemable through the Auth API's magic-link activation (which logs the user
/// in and marks the identifier verified, whatever the link's type), and delivers it to the outbox
/// when `send` is set. 400 for a ttl below one minute or a path off the auth origin.
pub fn create_backend_magic_link(
    state: &mut EmulatorState,
    app_id: &str,
    order: &LinkOrder<'_>,
    now: i64,
) -> ApiResult<BackendLink> {
    let app = state.app_mut(app_id)?;
    let ttl_minutes = match order.ttl_minutes {
        Some(minutes) if minutes < 1 => {
            return Err(ApiError::bad_request("ttl must be at least 1 (minutes)"))
        }
        Some(minutes) => minutes,
        None => (app.config.magic_link_ttl_seconds + 59) / 60,
    };
    if let Some(path) = order.magic_link_path {
        if path.contains("://") || path.starts_with("//") || path.starts_with("\\") {
            return Err(ApiError::bad_request(
                "magic_link_path must be a path on the app's auth origin",
            ));
        }
    }
    let (user_id, identifier) = link_recipient(app, order.recipient, now)?;
    let redirect_url = order
        .redirect_url
        .clone()
        .unwrap_or_else(|| app.config.redirect_url.clone());
    let link = make_magic_link(
        app,
        &user_id,
        &identifier,
        LinkPurpose::Login,
        order.magic_link_path,
        Some(redirect_url.clone()),
        Some(ttl_minutes.saturating_mul(60)),
        now,
    )?;
    if order.send {
        deliver_magic_link(state, app_id, &identifier, &link, now);
    }
    Ok(BackendLink {
        link,
        user_id,
        identifier,
        redirect_url,
        ttl_minutes,
    })
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
