//! App administration (the admin API's knobs): adding apps, changing their settings at runtime,
//! rotating signing keys, resetting users and sessions (an app keeps its settings, signing keys and
//! API keys), and recognising an app's API key.

use serde_json::{Map, Value};

use crate::base::api_error::{json_error_text, ApiError, ApiResult};
use crate::domain::api_keys::accepts;
use crate::jwt::SigningKey;
use crate::model::admin_api::RotatedKey;
use crate::model::app::AppRecord;
use crate::model::state::EmulatorState;
use crate::settings::app::AppConfig;

/// 400 `invalid_request` when `config` would make an app unusable.
pub fn check_config(config: &AppConfig) -> ApiResult<()> {
    config
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Adds an app signing with `key` (400 when its id is taken).
pub fn add_app(state: &mut EmulatorState, config: AppConfig, key: SigningKey) -> ApiResult<()> {
    if state.apps.contains_key(&config.id) {
        return Err(ApiError::bad_request("an app with this id already exists"));
    }
    let id = config.id.clone();
    state.apps.insert(id, AppRecord::new(config, key));
    Ok(())
}

/// Changes an app's settings: `patch` holds configuration keys (as in an `[[apps]]` table); the
/// app keeps its users, sessions and keys. Unknown keys, a different `id` or invalid values give
/// 400.
pub fn update_settings(
    app: &mut AppRecord,
    app_id: &str,
    patch: &Map<String, Value>,
) -> ApiResult<()> {
    let mut merged =
        serde_json::to_value(&app.config).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(object) = merged.as_object_mut() {
        object.extend(patch.clone());
    }
    let config: AppConfig = serde_json::from_value(merged).map_err(|e| {
        ApiError::bad_request(format!("invalid app settings: {}", json_error_text(&e)))
    })?;
    if config.id != app_id {
        return Err(ApiError::bad_request("an app's id cannot change"));
    }
    check_config(&config)?;
    *app.config = config;
    Ok(())
}

/// Makes `key` the app's signing key; the keys it replaces are retired at `now` (and stay
/// published for the app's `key_grace_seconds`).
pub fn rotate_key(app: &mut AppRecord, key: SigningKey, now: i64) -> RotatedKey {
    let previous = app.active_key().map(|k| k.kid.clone());
    for k in app.keys.iter_mut().filter(|k| k.retired_at.is_none()) {
        k.retired_at = Some(now);
    }
    let kid = key.kid.clone();
    app.keys.push(key);
    RotatedKey {
        kid,
        previous_kid: previous,
    }
}

/// Empties an app's users and everything that hangs off them, keeping its settings and keys.
fn clear_app(app: &mut AppRecord) {
    app.users.clear();
    app.devices.clear();
    app.magic_links.clear();
    app.otps.clear();
    app.refresh_tokens.clear();
    app.families.clear();
    app.oauth_codes.clear();
    app.nonces.clear();
    app.transactions.clear();
}

/// Empties every app's users and sessions, the outbox, social flows and ceremonies in progress.
pub fn reset_all(state: &mut EmulatorState) {
    state.apps.values_mut().for_each(clear_app);
    state.outbox.clear();
    state.social_flows.clear();
    state.handshakes.clear();
}

/// Empties one app's users and sessions, with its outbox messages, social flows and ceremonies.
pub fn reset_app(state: &mut EmulatorState, app_id: &str) -> ApiResult<()> {
    clear_app(state.app_mut(app_id)?);
    state.outbox.retain(|m| m.app_id != app_id);
    state.social_flows.retain(|_, f| f.app_id != app_id);
    state.handshakes.retain(|_, h| h.app_id() != app_id);
    Ok(())
}

/// Whether `key` is an API key of one of the apps.
pub fn api_key_known(state: &EmulatorState, key: &str) -> bool {
    state.apps.values().any(|app| accepts(app, key))
}
