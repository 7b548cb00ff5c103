//! Rules about users shared by every way of signing up and logging in.

use crate::error::{ApiError, ApiResult};
use crate::identifiers::IdentifierKind;
use crate::state::UserRecord;
use crate::tokens::random_id;

/// A new user record.
pub fn new_user(kind: IdentifierKind, identifier: &str, status: &str, now: i64) -> UserRecord {
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
        status: status.to_owned(),
        user_metadata: Default::default(),
        login_count: 0,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        social: Default::default(),
        webauthn_handle: uuid::Uuid::new_v4(),
    }
}

/// Records a successful login: activates a pending user and counts the login.
pub fn record_login(user: &mut UserRecord, now: i64) {
    if user.status == "pending" {
        user.status = "active".to_owned();
    }
    user.login_count += 1;
    user.last_login_at = Some(now);
    user.updated_at = now;
}

/// Refuses users that may not log in (403 `user_not_active`).
pub fn ensure_can_login(user: &UserRecord) -> ApiResult<()> {
    if user.status == "inactive" {
        return Err(ApiError::forbidden("user_not_active", "user is not active"));
    }
    Ok(())
}
