//! User accounts: which identifiers an app accepts, creating users (by public sign-up, a login
//! method's registration, the Management API, a Flex transaction or seeding), metadata checked
//! against the app's schema, who may log in, changes by the Management API (identifiers, metadata,
//! status), and deletion with everything that belongs to a user.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::UserStatus;
use crate::base::identifiers::{
    is_email, is_phone, parse_identifier, IdentifierError, IdentifierKind,
};
use crate::base::random::random_id;
use crate::model::app::AppRecord;
use crate::model::records::UserRecord;
use crate::model::state::EmulatorState;
use crate::settings::app::{AllowedIdentifier, AppConfig, MetadataFieldConfig};
use crate::settings::seed::NewUser;

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
        external_id: String::new(),
        email_verified: false,
        phone_verified: false,
        status,
        user_metadata: Default::default(),
        login_count: 0,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        social: Default::default(),
        webauthn_handle: crate::base::random::random_uuid(),
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
/// transactions, nonces, WebAuthn ceremonies in progress; authorization codes stay unusable because
/// the user is gone).
pub fn delete_user(
    state: &mut EmulatorState,
    app_id: &str,
    user_id: &str,
) -> ApiResult<UserRecord> {
    let app = state.app_mut(app_id)?;
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
    state.handshakes.retain(|_, h| h.user_id() != Some(user_id));
    Ok(user)
}

/// Marks `identifier` verified on `user` when it is their e-mail or phone (a passcode or link sent
/// to it was redeemed).
pub fn mark_verified(user: &mut UserRecord, identifier: &str) {
    if user.email == identifier {
        user.email_verified = true;
    }
    if user.phone == identifier {
        user.phone_verified = true;
    }
}

/// A public sign-up (`POST users`): a pending user with `identifier` and `metadata`; returns the
/// new user's id. Existing identifiers give 400 `invalid_request`.
pub fn sign_up(
    app: &mut AppRecord,
    identifier: &str,
    metadata: Option<&Map<String, Value>>,
    now: i64,
) -> ApiResult<String> {
    ensure_public_signup(&app.config)?;
    let (kind, id) = classify_identifier(&app.config, identifier)?;
    ensure_identifier_free(app, &id, None)?;
    let mut user = new_user(kind, &id, UserStatus::Pending, now);
    if let Some(meta) = metadata {
        user.user_metadata =
            apply_metadata(&app.config.user_metadata_schema, &BTreeMap::new(), meta)?;
    }
    let user_id = user.id.clone();
    app.users.insert(user_id.clone(), user);
    Ok(user_id)
}

/// Checks a fixed user id: letters, digits, `-` and `_`, 1 to 64 characters.
fn valid_user_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Creates a seed user (`[[seed.users]]`, `--seed`): the app's identifier rules and metadata
/// schema apply, public sign-up does not. Returns the new user's id.
pub fn create_user(app: &mut AppRecord, body: &NewUser, now: i64) -> ApiResult<String> {
    let (kind, identifier) = classify_identifier(&app.config, &body.identifier)?;
    ensure_identifier_free(app, &identifier, None)?;
    let mut user = new_user(kind, &identifier, body.status, now);
    if let Some(id) = &body.id {
        if !valid_user_id(id) {
            return Err(ApiError::bad_request(
                "id may only contain letters, digits, '-' and '_' (at most 64)",
            ));
        }
        if app.users.contains_key(id) {
            return Err(ApiError::bad_request("a user with this id already exists"));
        }
        user.id = id.clone();
    }
    if body.email_verified && user.email.is_empty() {
        return Err(ApiError::bad_request(
            "email_verified needs an e-mail identifier",
        ));
    }
    if body.phone_verified && user.phone.is_empty() {
        return Err(ApiError::bad_request(
            "phone_verified needs a phone identifier",
        ));
    }
    user.email_verified = body.email_verified;
    user.phone_verified = body.phone_verified;
    let metadata: Map<String, Value> = body.user_metadata.clone().into_iter().collect();
    user.user_metadata = apply_metadata(
        &app.config.user_metadata_schema,
        &BTreeMap::new(),
        &metadata,
    )?;
    let user_id = user.id.clone();
    app.users.insert(user_id.clone(), user);
    Ok(user_id)
}

/// Sets a user's status (the Management API's activate and deactivate): `inactive` makes every
/// login answer 403 `user_not_active` until the user is active again, and ends their sessions
/// ([`deactivate_sessions`]). Returns the user.
pub fn set_status<'a>(
    app: &'a mut AppRecord,
    user_id: &str,
    status: UserStatus,
    now: i64,
) -> ApiResult<&'a UserRecord> {
    let user = app
        .users
        .get_mut(user_id)
        .ok_or_else(ApiError::user_not_found)?;
    let deactivated = status == UserStatus::Inactive && user.status != UserStatus::Inactive;
    if user.status != status {
        user.status = status;
        user.updated_at = now;
    }
    if deactivated {
        deactivate_sessions(app, user_id);
    }
    Ok(&app.users[user_id])
}

/// What deactivating a user does to their sessions: every refresh-token family is revoked (a
/// refresh then answers 401 `invalid_refresh_token`). Their auth tokens are refused by the
/// signed-in user's operations while the user is inactive ([`crate::domain::sessions::bearer_user`],
/// 403 `user_not_active`). Their open Flex transactions are closed (a ceremony on one then answers
/// 404 `transaction_not_found`) and the nonces they have not redeemed are forgotten (401
/// `invalid_nonce`), so that a login begun before the deactivation cannot finish after it.
/// Passage's documentation only says a deactivated user "will not be able to login"; it is silent
/// on existing sessions, so the emulator does not let them outlive the deactivation (see the
/// emulator README).
pub fn deactivate_sessions(app: &mut AppRecord, user_id: &str) {
    app.revoke_families_of(user_id);
    app.transactions.retain(|_, t| t.user_id != user_id);
    app.nonces.retain(|_, n| n.user_id != user_id);
}

/// A new pending user known only by a Flex `external_id` (the app's own id for them).
pub fn new_flex_user(external_id: &str, now: i64) -> UserRecord {
    let mut user = new_user(IdentifierKind::Email, "", UserStatus::Pending, now);
    user.external_id = external_id.to_owned();
    user
}

/// An identifier of `kind` given to the Management API, normalised and checked against the
/// identifier rules ([`crate::base::identifiers`]); 400 `invalid_request` otherwise.
fn managed_identifier(raw: &str, kind: IdentifierKind, wrong_kind: &str) -> ApiResult<String> {
    match parse_identifier(raw) {
        Ok((parsed, id)) if parsed == kind => Ok(id),
        Ok(_) => Err(ApiError::bad_request(wrong_kind.to_owned())),
        Err(e) => Err(invalid_identifier(e)),
    }
}

/// An e-mail address given to the Management API, lower-cased (400 `invalid_request` when it is not
/// one).
pub fn managed_email(raw: &str) -> ApiResult<String> {
    managed_identifier(raw, IdentifierKind::Email, "email is not an e-mail address")
}

/// A phone number given to the Management API (400 `invalid_request` unless E.164).
pub fn managed_phone(raw: &str) -> ApiResult<String> {
    managed_identifier(
        raw,
        IdentifierKind::Phone,
        "phone must be an E.164 phone number (+ and 7 to 15 digits)",
    )
}

/// What the Management API's create and update give for a user (absent members stay as they are).
#[derive(Debug, Clone, Default)]
pub struct ManagedUserChange<'a> {
    /// A new e-mail address.
    pub email: Option<&'a str>,
    /// A new phone number.
    pub phone: Option<&'a str>,
    /// Metadata values to merge (a `null` removes a field).
    pub user_metadata: Option<&'a Map<String, Value>>,
}

/// Applies `change` to `user` after checking every member (identifiers free for this user,
/// metadata against the app's schema); nothing changes on error. A changed identifier is
/// unverified.
fn apply_managed_change(
    app: &AppRecord,
    mut user: UserRecord,
    change: &ManagedUserChange<'_>,
    now: i64,
) -> ApiResult<UserRecord> {
    if let Some(raw) = change.email {
        let email = managed_email(raw)?;
        ensure_identifier_free(app, &email, Some(&user.id))?;
        if email != user.email {
            user.email = email;
            user.email_verified = false;
        }
    }
    if let Some(raw) = change.phone {
        let phone = managed_phone(raw)?;
        ensure_identifier_free(app, &phone, Some(&user.id))?;
        if phone != user.phone {
            user.phone = phone;
            user.phone_verified = false;
        }
    }
    if let Some(update) = change.user_metadata {
        user.user_metadata = apply_metadata(
            &app.config.user_metadata_schema,
            &user.user_metadata,
            update,
        )?;
    }
    user.updated_at = now;
    Ok(user)
}

/// The Management API's create: a pending user with an e-mail address, a phone number or both
/// (400 `invalid_request` with neither, for a malformed or taken identifier, or metadata against
/// the schema). Neither public sign-up nor the app's identifier kinds apply: the app's backend
/// creates the user. Returns the new user's id.
pub fn create_managed_user(
    app: &mut AppRecord,
    change: &ManagedUserChange<'_>,
    now: i64,
) -> ApiResult<String> {
    if change.email.is_none() && change.phone.is_none() {
        return Err(ApiError::bad_request(
            "a user needs an email or a phone (or both)",
        ));
    }
    let blank = new_user(IdentifierKind::Email, "", UserStatus::Pending, now);
    let user = apply_managed_change(app, blank, change, now)?;
    let user_id = user.id.clone();
    app.users.insert(user_id.clone(), user);
    Ok(user_id)
}

/// The Management API's update: the members given change (an identifier the user already has is
/// not "taken"); 404 `user_not_found`, 400 `invalid_request` as for
/// [`create_managed_user`]. Returns the user.
pub fn update_managed_user<'a>(
    app: &'a mut AppRecord,
    user_id: &str,
    change: &ManagedUserChange<'_>,
    now: i64,
) -> ApiResult<&'a UserRecord> {
    let current = app
        .users
        .get(user_id)
        .cloned()
        .ok_or_else(ApiError::user_not_found)?;
    let next = apply_managed_change(app, current, change, now)?;
    app.users.insert(user_id.to_owned(), next);
    Ok(&app.users[user_id])
}

/// The signed-in user's metadata change: unknown fields or wrong types give 400 and change nothing.
pub fn update_metadata(
    app: &mut AppRecord,
    user_id: &str,
    update: &Map<String, Value>,
    now: i64,
) -> ApiResult<()> {
    let schema = app.config.user_metadata_schema.clone();
    let user = app
        .users
        .get_mut(user_id)
        .ok_or_else(ApiError::user_not_found)?;
    user.user_metadata = apply_metadata(&schema, &user.user_metadata, update)?;
    user.updated_at = now;
    Ok(())
}

/// Applies `update` to `current` after checking every field against `schema`; nothing changes on error.
/// A `null` value removes the field.
pub fn apply_metadata(
    schema: &[MetadataFieldConfig],
    current: &BTreeMap<String, Value>,
    update: &Map<String, Value>,
) -> ApiResult<BTreeMap<String, Value>> {
    let mut next = current.clone();
    for (name, value) in update {
        let field = schema
            .iter()
            .find(|f| &f.field_name == name)
            .ok_or_else(|| {
                ApiError::bad_request(format!("unknown user metadata field `{name}`"))
            })?;
        if value.is_null() {
            next.remove(name);
            continue;
        }
        let ok = match field.field_type.as_str() {
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "email" => value.as_str().is_some_and(is_email),
            "phone" => value.as_str().is_some_and(is_phone),
            "date" => value
                .as_str()
                .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
            _ => value.is_string(),
        };
        if !ok {
            return Err(ApiError::bad_request(format!(
                "user metadata field `{name}` must be of type {}",
                field.field_type
            )));
        }
        next.insert(name.clone(), value.clone());
    }
    Ok(next)
}

/// 400 `invalid_request` for a string that breaks the identifier rules ([`crate::base::identifiers`]).
pub fn invalid_identifier(error: IdentifierError) -> ApiError {
    ApiError::bad_request(error.to_string())
}

/// Classifies and normalizes an identifier (400 `invalid_request` when it breaks the identifier
/// rules of [`crate::base::identifiers`]), checking the app allows its kind.
pub fn classify_identifier(
    config: &AppConfig,
    identifier: &str,
) -> ApiResult<(IdentifierKind, String)> {
    let (kind, id) = parse_identifier(identifier).map_err(invalid_identifier)?;
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
    use serde_json::json;

    use super::*;

    fn schema() -> Vec<MetadataFieldConfig> {
        vec![
            MetadataFieldConfig {
                field_name: "nickname".into(),
                field_type: "string".into(),
                friendly_name: None,
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
        ]
    }

    #[test]
    fn metadata_is_all_or_nothing() {
        let current = BTreeMap::from([("nickname".to_owned(), json!("old"))]);
        let update = json!({"nickname": "new", "shoe_size": 42});
        assert!(apply_metadata(&schema(), &current, update.as_object().unwrap()).is_err());
        let bad_type = json!({"nickname": "new", "age": "x"});
        assert!(apply_metadata(&schema(), &current, bad_type.as_object().unwrap()).is_err());
        let good = json!({"nickname": "new", "age": 30});
        let next = apply_metadata(&schema(), &current, good.as_object().unwrap()).unwrap();
        assert_eq!(next["nickname"], json!("new"));
        assert_eq!(next["age"], json!(30));
        let clear = json!({"nickname": null});
        let next = apply_metadata(&schema(), &next, clear.as_object().unwrap()).unwrap();
        assert!(!next.contains_key("nickname"));
    }

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
