//! JSON views of the state in the answers' shapes: the Auth API's (`User`, `CurrentUser`,
//! `Credential`, social connections, metadata fields) and the admin API's (apps). The Management
//! API's views are [`crate::http::routes::management`]'s, built from the same pieces.

use serde_json::{json, Value};

use crate::base::clock::rfc3339;
use crate::base::enums::DeviceKind;
use crate::model::admin_api::AppSummary;
use crate::model::app::AppRecord;
use crate::model::records::{DeviceRecord, UserRecord};
use crate::settings::app::AppConfig;
use crate::settings::urls::Urls;

/// The kinds of a user's devices, each once.
pub fn webauthn_types(app: &AppRecord, user_id: &str) -> Vec<DeviceKind> {
    let mut types: Vec<DeviceKind> = app.devices_of(user_id).map(|d| d.kind).collect();
    types.sort();
    types.dedup();
    types
}

/// A user's metadata, `null` when they have none.
pub fn metadata_value(user: &UserRecord) -> Value {
    if user.user_metadata.is_empty() {
        Value::Null
    } else {
        json!(user.user_metadata)
    }
}

/// The spec's `User` view.
pub fn user_json(app: &AppRecord, user: &UserRecord) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "status": user.status,
        "user_metadata": metadata_value(user),
        "webauthn": app.devices_of(&user.id).next().is_some(),
        "webauthn_types": webauthn_types(app, &user.id),
    })
}

/// The `user` of WebAuthn start answers; with the hosted service's quirks on, its `status` is `""`
/// and `webauthn_types` is left out, as the hosted service sends it.
pub fn start_user_json(app: &AppRecord, user: &UserRecord, quirks: bool) -> Value {
    let mut view = user_json(app, user);
    if quirks {
        apply_status_quirk(&mut view);
        if let Some(object) = view.as_object_mut() {
            object.remove("webauthn_types");
        }
    }
    view
}

/// The hosted service's quirk of an unreported status: `status: ""`.
pub fn apply_status_quirk(view: &mut Value) {
    view["status"] = json!("");
}

/// The spec's `Credential` view.
pub fn device_json(device: &DeviceRecord) -> Value {
    json!({
        "id": device.id,
        "cred_id": device.cred_id,
        "friendly_name": device.friendly_name,
        "user_id": device.user_id,
        "type": device.kind,
        "created_at": rfc3339(device.created_at),
        "updated_at": rfc3339(device.updated_at),
        "last_login_at": rfc3339(device.last_login_at),
        "usage_count": device.usage_count,
        "icons": {"light": null, "dark": null},
    })
}

/// The spec's `UserSocialConnections` view.
pub fn social_json(user: &UserRecord) -> Value {
    let mut map = serde_json::Map::new();
    for (kind, link) in &user.social {
        map.insert(
            kind.as_str().to_owned(),
            json!({
                "provider_id": link.provider_id,
                "provider_identifier": link.provider_identifier,
                "created_at": rfc3339(link.created_at),
                "last_login_at": rfc3339(link.last_login_at),
            }),
        );
    }
    Value::Object(map)
}

/// The spec's `CurrentUser` view.
pub fn current_user_json(app: &AppRecord, user: &UserRecord) -> Value {
    let devices: Vec<Value> = app.devices_of(&user.id).map(device_json).collect();
    json!({
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
        "last_login_at": user.last_login_at.map(rfc3339).unwrap_or_default(),
        "login_count": user.login_count,
        "status": user.status,
        "social_connections": social_json(user),
        "user_metadata": metadata_value(user),
        "webauthn": !devices.is_empty(),
        "webauthn_devices": devices,
        "webauthn_types": webauthn_types(app, &user.id),
    })
}

/// The app's metadata fields (`UserMetadataField`s of both APIs).
pub fn metadata_schema_json(config: &AppConfig) -> Vec<Value> {
    config
        .user_metadata_schema
        .iter()
        .map(|f| {
            json!({
                "id": format!("fld_{}", f.field_name),
                "field_name": f.field_name,
                "friendly_name": f.friendly_name.clone().unwrap_or_else(|| f.field_name.clone()),
                "type": f.field_type,
                "profile": f.profile,
                "registration": f.registration,
            })
        })
        .collect()
}

/// The admin view of an app.
pub fn app_summary(urls: &Urls, app: &AppRecord) -> AppSummary {
    let c = &app.config;
    AppSummary {
        id: c.id.clone(),
        name: c.name.clone(),
        auth_origin: c.auth_origin.clone(),
        rp_id: c.effective_rp_id(),
        rp_origin: c.effective_rp_origin(),
        base_url: urls.base_url(),
        management_base_url: urls.management_base_url(),
        issuer: urls.issuer(&c.id),
        active_kid: app.active_key().map(|k| k.kid.clone()),
        config: (**c).clone(),
    }
}
