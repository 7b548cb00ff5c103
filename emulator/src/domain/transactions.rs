//! Flex transactions, opened by an app's backend through the Management API for a user known by
//! their `external_id`, and the nonces their passkey ceremonies (on the Auth API) answer, which the
//! backend redeems once for the user's external id.

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::digest_hex;
use crate::base::enums::UserStatus;
use crate::base::random::{random_id, random_secret};
use crate::domain::accounts::new_flex_user;
use crate::domain::pruning::TRANSACTION_LIFETIME_SECONDS;
use crate::model::app::AppRecord;
use crate::model::records::{NonceRecord, TransactionKind, TransactionRecord, UserRecord};

/// 404 `transaction_not_found`.
fn transaction_not_found() -> ApiError {
    ApiError::not_found("transaction_not_found", "transaction not found")
}

/// Looks up an open transaction of `kind`; returns it.
pub fn open_transaction<'a>(
    app: &'a AppRecord,
    id: &str,
    kind: TransactionKind,
) -> ApiResult<&'a TransactionRecord> {
    app.transactions
        .get(id)
        .filter(|t| t.kind == kind && !t.completed)
        .ok_or_else(transaction_not_found)
}

/// Issues a nonce for a completed transaction ceremony.
pub fn issue_nonce(
    app: &mut AppRecord,
    transaction_id: Option<String>,
    user_id: &str,
    now: i64,
) -> String {
    if let Some(tx) = transaction_id
        .as_ref()
        .and_then(|id| app.transactions.get_mut(id))
    {
        tx.completed = true;
    }
    let nonce = random_secret(24);
    app.nonces.insert(
        digest_hex(&nonce),
        NonceRecord {
            transaction_id,
            user_id: user_id.to_owned(),
            issued_at: now,
        },
    );
    nonce
}

/// 400 `invalid_request` unless `value` (the member `name`) has a non-blank value.
fn required<'a>(name: &str, value: &'a str) -> ApiResult<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_request(format!("{name} must not be empty")));
    }
    Ok(value)
}

/// 403 `cannot_create_transaction` for a deactivated user.
fn ensure_may_transact(user: &UserRecord) -> ApiResult<()> {
    if user.status == UserStatus::Inactive {
        return Err(ApiError::forbidden(
            "cannot_create_transaction",
            "the user is not active",
        ));
    }
    Ok(())
}

fn insert_transaction(
    app: &mut AppRecord,
    kind: TransactionKind,
    user_id: String,
    passkey_display_name: Option<String>,
    now: i64,
) -> String {
    let id = random_id("txn_");
    app.transactions.insert(
        id.clone(),
        TransactionRecord {
            id: id.clone(),
            kind,
            user_id,
            created_at: now,
            completed: false,
            passkey_display_name,
        },
    );
    id
}

/// Opens a registration for the user with `external_id` (a new pending user when there is none,
/// an extra passkey for the existing one), whose passkey is stored under `passkey_display_name`;
/// returns the transaction id. 400 for blank members, 403 `cannot_create_transaction` for a
/// deactivated user.
pub fn open_register_transaction(
    app: &mut AppRecord,
    external_id: &str,
    passkey_display_name: &str,
    now: i64,
) -> ApiResult<String> {
    let external_id = required("external_id", external_id)?;
    let display_name = required("passkey_display_name", passkey_display_name)?;
    let user_id = match app.find_user_by_external_id(external_id) {
        Some(user) => {
            ensure_may_transact(user)?;
            user.id.clone()
        }
        None => {
            let user = new_flex_user(external_id, now);
            let user_id = user.id.clone();
            app.users.insert(user_id.clone(), user);
            user_id
        }
    };
    Ok(insert_transaction(
        app,
        TransactionKind::Register,
        user_id,
        Some(display_name.to_owned()),
        now,
    ))
}

/// Opens an authentication for the user with `external_id`; returns the transaction id. 404
/// `user_not_found` when no user has it, 409 `user_has_no_passkeys` when they have no passkey, 403
/// `cannot_create_transaction` for a deactivated user.
pub fn open_authenticate_transaction(
    app: &mut AppRecord,
    external_id: &str,
    now: i64,
) -> ApiResult<String> {
    let external_id = required("external_id", external_id)?;
    let user = app
        .find_user_by_external_id(external_id)
        .ok_or_else(ApiError::user_not_found)?;
    ensure_may_transact(user)?;
    let user_id = user.id.clone();
    if app.devices_of(&user_id).next().is_none() {
        return Err(ApiError::conflict(
            "user_has_no_passkeys",
            "the user has no passkeys",
        ));
    }
    Ok(insert_transaction(
        app,
        TransactionKind::Authenticate,
        user_id,
        None,
        now,
    ))
}

/// Redeems a nonce once (it is forgotten in the same change): the external id of the user it
/// proves (`""` for a user without one). An unknown, used, expired or empty nonce answers 401
/// `invalid_nonce`.
pub fn verify_nonce(app: &mut AppRecord, nonce: &str, now: i64) -> ApiResult<String> {
    let invalid = || ApiError::unauthorized("invalid_nonce", "unknown, used or expired nonce");
    let nonce = nonce.trim();
    if nonce.is_empty() {
        return Err(invalid());
    }
    let record = app.nonces.remove(&digest_hex(nonce)).ok_or_else(invalid)?;
    if now
        >= record
            .issued_at
            .saturating_add(TRANSACTION_LIFETIME_SECONDS)
    {
        return Err(invalid());
    }
    Ok(app
        .users
        .get(&record.user_id)
        .map(|u| u.external_id.clone())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::SigningKey;
    use crate::settings::app::AppConfig;

    fn app() -> AppRecord {
        AppRecord::new(AppConfig::default(), SigningKey::default_key().unwrap())
    }

    #[test]
    fn a_register_transaction_makes_a_flex_user_once() {
        let mut app = app();
        let first = open_register_transaction(&mut app, "ext-1", "Ada", 10).unwrap();
        let second = open_register_transaction(&mut app, "ext-1", "Ada", 11).unwrap();
        assert_ne!(first, second);
        assert_eq!(app.users.len(), 1);
        let user = app.find_user_by_external_id("ext-1").unwrap();
        assert_eq!(user.status, UserStatus::Pending);
        assert!(user.email.is_empty() && user.phone.is_empty());
        assert_eq!(
            app.transactions[&first].passkey_display_name.as_deref(),
            Some("Ada")
        );
        for (ext, name) in [("", "Ada"), ("ext", " "), (" ", "x")] {
            let err = open_register_transaction(&mut app, ext, name, 0).unwrap_err();
            assert_eq!(err.code, "invalid_request");
        }
        let err = open_authenticate_transaction(&mut app, "ext-1", 0).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.code),
            (409, "user_has_no_passkeys")
        );
        let err = open_authenticate_transaction(&mut app, "nobody", 0).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (404, "user_not_found"));
    }

    #[test]
    fn a_nonce_verifies_once_and_not_after_it_expired() {
        let mut app = app();
        open_register_transaction(&mut app, "ext-2", "Bo", 0).unwrap();
        let user_id = app.find_user_by_external_id("ext-2").unwrap().id.clone();
        let nonce = issue_nonce(&mut app, None, &user_id, 100);
        assert_eq!(verify_nonce(&mut app, &nonce, 101).unwrap(), "ext-2");
        let again = verify_nonce(&mut app, &nonce, 101).unwrap_err();
        assert_eq!((again.status.as_u16(), again.code), (401, "invalid_nonce"));
        let late = issue_nonce(&mut app, None, &user_id, 100);
        let expired = verify_nonce(&mut app, &late, 100 + TRANSACTION_LIFETIME_SECONDS);
        assert_eq!(expired.unwrap_err().code, "invalid_nonce");
        assert_eq!(
            verify_nonce(&mut app, "", 0).unwrap_err().code,
            "invalid_nonce"
        );
    }

    #[test]
    fn deactivation_closes_open_transactions_and_forgets_unredeemed_nonces() {
        let mut app = app();
        let open = open_register_transaction(&mut app, "ext-1", "Ada", 10).unwrap();
        let done = open_register_transaction(&mut app, "ext-1", "Ada", 10).unwrap();
        let user_id = app.find_user_by_external_id("ext-1").unwrap().id.clone();
        let nonce = issue_nonce(&mut app, Some(done), &user_id, 11);
        // Another user's transaction stays open.
        let other = open_register_transaction(&mut app, "ext-2", "Bob", 10).unwrap();

        crate::domain::accounts::set_status(&mut app, &user_id, UserStatus::Inactive, 12).unwrap();

        let err = open_transaction(&app, &open, TransactionKind::Register).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.code),
            (404, "transaction_not_found")
        );
        let err = verify_nonce(&mut app, &nonce, 13).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (401, "invalid_nonce"));
        assert!(open_transaction(&app, &other, TransactionKind::Register).is_ok());
        // And no new one is opened while the user is inactive.
        let err = open_register_transaction(&mut app, "ext-1", "Ada", 14).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.code),
            (403, "cannot_create_transaction")
        );
    }
}
