//! Rules about users shared by every way of signing up and logging in (and by the admin API).

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::UserStatus;
use crate::base::identifiers::{is_email, is_phone, normalize_identifier, IdentifierKind};
use crate::base::random::random_id;
use crate::model::app::AppRecord;
use crate::model::records::UserRecord;
use crate::settings::app::{AllowedIdentifier, AppConfig};

/// A new user record with a random id.
pub fn new_user(
    kind: IdentifierKind,
    identifier: &str,
    status: UserStatus,
    now: i64,
) -> UserRecord {
    let (email, phone) = match kind {
        IdentifierKind::Email => (identifier.to_owned(), String::new()),
        IdentifierKind::Phone => (String::new(), identifier.to_owned()),
    };
    UserRecord {
        id: random_id("usr_"),
        email,
        phone,
        email_verified: false,
        phone_verified: false,
        status,
        user_metadata: Default::default(),
        login_count: 0,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        social: Default::default(),
        webauthn_handle: uuid::Uuid::new_v4(),
    }
}

/// Refuses a sign-up through the public API when the app has public registration off
/// (403 `operation_not_allowed`).
pub fn ensure_public_signup(config: &AppConfig) -> ApiResult<()> {
    if !config.public_signup {
        return Err(ApiError::forbidden(
            "operation_not_allowed",
            "public registration is disabled for this app",
        ));
    }
    Ok(())
}

/// Whether a user other than `except_user` already has `identifier` (normalised) as e-mail or phone.
pub fn identifier_taken(app: &AppRecord, identifier: &str, except_user: Option<&str>) -> bool {
    // Through the users table's identifier index: O(1) whatever the number of users.
    app.find_user_by_identifier(identifier)
        .is_some_and(|u| Some(u.id.as_str()) != except_user)
}

/// 400 `invalid_request` when another user has `identifier`.
pub fn ensure_identifier_free(
    app: &AppRecord,
    identifier: &str,
    except_user: Option<&str>,
) -> ApiResult<()> {
    if identifier_taken(app, identifier, except_user) {
        return Err(identifier_exists());
    }
    Ok(())
}

/// 400 `invalid_request`: a user with this identifier already exists.
pub fn identifier_exists() -> ApiError {
    ApiError::bad_request("a user with this identifier already exists")
}

/// Creates (or, when still pending, reuses) the user for a public registration; returns the user id and
/// the normalised identifier.
pub fn register_user(
    app: &mut AppRecord,
    identifier: &str,
    now: i64,
) -> ApiResult<(String, String)> {
    ensure_public_signup(&app.config)?;
    let (kind, id) = classify_identifier(&app.config, identifier)?;
    if let Some(existing) = app.find_user_by_identifier(&id) {
        if existing.status != UserStatus::Pending {
            return Err(identifier_exists());
        }
        return Ok((existing.id.clone(), id));
    }
    let user = new_user(kind, &id, UserStatus::Pending, now);
    let user_id = user.id.clone();
    app.users.insert(user_id.clone(), user);
    Ok((user_id, id))
}

/// Records a successful login: activates a pending user and counts the login.
pub fn record_login(user: &mut UserRecord, now: i64) {
    if user.status == UserStatus::Pending {
        user.status = UserStatus::Active;
    }
    user.login_count += 1;
    user.last_login_at = Some(now);
    user.updated_at = now;
}

/// Refuses users that may not log in (403 `user_not_active`).
pub fn ensure_can_login(user: &UserRecord) -> ApiResult<()> {
    if user.status == UserStatus::Inactive {
        return Err(ApiError::forbidden("user_not_active", "user is not active"));
    }
    Ok(())
}

/// Removes a user and everything that belongs to them (devices, sessions, links, passcodes,
/// transactions, nonces, authorization codes stay unusable because the user is gone).
pub fn delete_user(app: &mut AppRecord, user_id: &str) -> ApiResult<UserRecord> {
    let user = app
        .users
        .remove(user_id)
        .ok_or_else(ApiError::user_not_found)?;
    app.devices.retain(|_, d| d.user_id != user_id);
    app.refresh_tokens.retain(|_, r| r.user_id != user_id);
    app.families.retain(|_, f| f.user_id != user_id);
    app.magic_links.retain(|_, l| l.user_id != user_id);
    app.otps.retain(|_, o| o.user_id != user_id);
    app.transactions.retain(|_, t| t.user_id != user_id);
    app.nonces.retain(|_, n| n.user_id != user_id);
    Ok(user)
}

/// Classifies and normalizes an identifier, checking the app allows its kind.
pub fn classify_identifier(
    config: &AppConfig,
    identifier: &str,
) -> ApiResult<(IdentifierKind, String)> {
    let id = normalize_identifier(identifier);
    let kind = if is_email(&id) {
        IdentifierKind::Email
    } else if is_phone(&id) {
        IdentifierKind::Phone
    } else {
        return Err(ApiError::bad_request(
            "identifier must be an e-mail address or an E.164 phone number",
        ));
    };
    let allowed = match config.allowed_identifier {
        AllowedIdentifier::Both => true,
        AllowedIdentifier::Email => kind == IdentifierKind::Email,
        AllowedIdentifier::Phone => kind == IdentifierKind::Phone,
    };
    if !allowed {
        return Err(ApiError::bad_request(format!(
            "this app only accepts {} identifiers",
            config.allowed_identifier.as_str()
        )));
    }
    Ok((kind, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_checks() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.d"));
        assert!(is_phone("+15551234567"));
        assert!(!is_phone("15551234567"));
        let cfg = AppConfig {
            allowed_identifier: AllowedIdentifier::Email,
            ..AppConfig::default()
        };
        assert!(classify_identifier(&cfg, "+15551234567").is_err());
        assert_eq!(
            classify_identifier(&cfg, " A@B.co ").unwrap(),
            (IdentifierKind::Email, "a@b.co".to_owned())
        );
    }
}
