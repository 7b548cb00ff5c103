//! A user's devices (their registered passkeys): renaming and removing them, by the signed-in user
//! (Auth API) or by the app's backend (Management API).

use crate::base::api_error::{ApiError, ApiResult};
use crate::model::app::AppRecord;
use crate::model::records::DeviceRecord;

fn device_not_found() -> ApiError {
    // The spec's 404 codes name no device code; `invalid_request` is the closest listed one.
    ApiError::not_found("invalid_request", "device not found")
}

/// A device's new display name, trimmed: 1 to 255 characters (400 `invalid_request` otherwise).
pub fn friendly_name(name: &str) -> ApiResult<String> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ApiError::bad_request(
            "friendly_name must have 1 to 255 characters",
        ));
    }
    Ok(name)
}

/// Renames a device of `user_id` (404 when it is not theirs); returns the device.
pub fn rename_device(
    app: &mut AppRecord,
    user_id: &str,
    device_id: &str,
    name: String,
    now: i64,
) -> ApiResult<DeviceRecord> {
    let device = app
        .devices
        .get_mut(device_id)
        .filter(|d| d.user_id == user_id)
        .ok_or_else(device_not_found)?;
    device.friendly_name = name;
    device.updated_at = now;
    Ok(device.clone())
}

/// Removes a device of `user_id`; false when there is no such device of theirs.
fn remove_device_of(app: &mut AppRecord, user_id: &str, device_id: &str) -> bool {
    if app
        .devices
        .get(device_id)
        .is_none_or(|d| d.user_id != user_id)
    {
        return false;
    }
    app.devices.remove(device_id);
    true
}

/// Removes a device of the signed-in `user_id` (404 when it is not theirs).
pub fn delete_device(app: &mut AppRecord, user_id: &str, device_id: &str) -> ApiResult<()> {
    if !remove_device_of(app, user_id, device_id) {
        return Err(device_not_found());
    }
    Ok(())
}

/// The Management API's removal of a user's device: 404 `user_not_found` for an unknown user,
/// 404 `device_not_found` for a device that is not theirs. The credential can no longer log in.
pub fn delete_user_device(app: &mut AppRecord, user_id: &str, device_id: &str) -> ApiResult<()> {
    if !app.users.contains_key(user_id) {
        return Err(ApiError::user_not_found());
    }
    if !remove_device_of(app, user_id, device_id) {
        return Err(ApiError::not_found("device_not_found", "device not found"));
    }
    Ok(())
}
