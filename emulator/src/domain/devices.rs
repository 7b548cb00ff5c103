//! A user's devices (their registered passkeys): renaming and removing them.

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

/// Removes a device of `user_id` (404 when it is not theirs).
pub fn delete_device(app: &mut AppRecord, user_id: &str, device_id: &str) -> ApiResult<()> {
    if app
        .devices
        .get(device_id)
        .is_none_or(|d| d.user_id != user_id)
    {
        return Err(device_not_found());
    }
    app.devices.remove(device_id);
    Ok(())
}
