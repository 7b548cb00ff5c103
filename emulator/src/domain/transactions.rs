//! Transactions (created through the admin API, standing in for an app backend) and the nonces
//! their passkey ceremonies answer.

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::digest_hex;
use crate::base::random::{random_id, random_secret};
use crate::domain::accounts::register_user;
use crate::model::app::AppRecord;
use crate::model::records::{NonceRecord, TransactionKind, TransactionRecord};

/// 404 `transaction_not_found`.
fn transaction_not_found() -> ApiError {
    ApiError::not_found("transaction_not_found", "transaction not found")
}

/// Looks up an open transaction of `kind`; returns its user id.
pub fn open_transaction(app: &AppRecord, id: &str, kind: TransactionKind) -> ApiResult<String> {
    let tx = app
        .transactions
        .get(id)
        .filter(|t| t.kind == kind && !t.completed)
        .ok_or_else(transaction_not_found)?;
    Ok(tx.user_id.clone())
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

/// Creates a transaction of `kind` for the user with `identifier` (for a registration, a new
/// pending user, or an existing active one adding a passkey); returns the transaction id and the
/// user id.
pub fn create_transaction(
    app: &mut AppRecord,
    identifier: &str,
    kind: TransactionKind,
    now: i64,
) -> ApiResult<(String, String)> {
    let user_id = match kind {
        TransactionKind::Register => {
            register_user(app, identifier, now)
                .or_else(|e| {
                    // An existing active user may add a passkey through a transaction too.
                    app.find_user_by_identifier(identifier)
                        .map(|u| (u.id.clone(), u.email.clone()))
                        .ok_or(e)
                })?
                .0
        }
        TransactionKind::Authenticate => app
            .find_user_by_identifier(identifier)
            .map(|u| u.id.clone())
            .ok_or_else(ApiError::user_not_found)?,
    };
    let id = random_id("txn_");
    app.transactions.insert(
        id.clone(),
        TransactionRecord {
            id: id.clone(),
            kind,
            user_id: user_id.clone(),
            created_at: now,
            completed: false,
        },
    );
    Ok((id, user_id))
}

/// Verifies a nonce once (it is forgotten): returns what it proves; 404 `invalid_request` for
/// unknown or already verified nonces.
pub fn redeem_nonce(app: &mut AppRecord, nonce: &str) -> ApiResult<NonceRecord> {
    app.nonces
        .remove(&digest_hex(nonce.trim()))
        .ok_or_else(|| ApiError::not_found("invalid_request", "unknown or already verified nonce"))
}
