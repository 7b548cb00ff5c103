//! The Management API's answer shapes, built from the state. Every member the spec lists is
//! present: the official SDKs' strict decoders fail on a missing member or a null where none is
//! allowed (`last_login_at` of a user who never logged in is `0001-01-01T00:00:00Z`, `email`,
//! `phone` and `external_id` are `""` when unset, arrays are `[]`).

use serde_json::{json, Value};

use crate::base::clock::rfc3339;
use crate::base::enums::LoginMethod;
use crate::domain::user_listing::NEVER;
use crate::http::views::{metadata_schema_json, metadata_value, social_json, webauthn_types};
use crate::model::app::AppRecord;
use crate::model::records::{DeviceRecord, UserRecord};
use crate::settings::app::AllowedIdentifier;

/// When an app was made: the emulator does not record it, so every app answers the Unix epoch.
const APP_CREATED_AT: i64 = 0;

/// `AppInfo`.
pub fn app_info(app: &AppRecord) -> Value {
    let c = &app.config;
    let method = |m: LoginMethod, ttl: i64| json!({"enabled": c.offers(m), "ttl": ttl, "ttl_display_unit": "s"});
    // The legacy fallback setting: the magic link when offered, else the passcode, else none.
    let (fallback, fallback_ttl) = if c.offers(LoginMethod::MagicLink) {
        ("magic_link", c.magic_link_ttl_seconds)
    } else if c.offers(LoginMethod::Otp) {
        ("otp", c.otp_ttl_seconds)
    } else {
        ("none", 0)
    };
    let required = match c.allowed_identifier {
        AllowedIdentifier::Phone => "phone",
        _ => "email",
    };
    json!({
        "id": c.id,
        "name": c.name,
        "type": "complete",
        "created_at": rfc3339(APP_CREATED_AT),
        "role": "",
        "allowed_identifier": c.allowed_identifier.as_str(),
        "required_identifier": required,
        "require_email_verification": false,
        "require_identifier_verification": false,
        "auth_origin": c.auth_origin,
        "additional_auth_origins": [],
        "allowed_callback_urls": c.allowed_redirect_uris,
        "allowed_logout_urls": [],
        "application_login_uri": "",
        "login_url": c.login_url,
        "redirect_url": c.redirect_url,
        "default_language": "en",
        "public_signup": c.public_signup,
        "profile_management": true,
        "passage_branding": false,
        "hosted": false,
        "hosted_subdomain": "",
        "hosted_theme": "auto",
        "auto_theme_enabled": false,
        "rsa_public_key": app.active_key().map(|k| k.public_pem_b64()).unwrap_or_default(),
        "session_timeout_length": c.auth_token_ttl_seconds,
        "refresh_enabled": c.refresh_tokens,
        "refresh_absolute_lifetime": c.refresh_token_lifetime_seconds,
        "refresh_inactivity_lifetime": c.refresh_token_lifetime_seconds,
        "auth_methods": {
            "passkeys": {"enabled": c.offers(LoginMethod::Passkeys)},
            "otp": method(LoginMethod::Otp, c.otp_ttl_seconds),
            "magic_link": method(LoginMethod::MagicLink, c.magic_link_ttl_seconds),
        },
        "auth_fallback_method": fallback,
        "auth_fallback_method_ttl": fallback_ttl,
        "layouts": {"profile": [], "registration": []},
        "user_metadata_schema": metadata_schema_json(c),
        "technologies": [],
        "element_customization": {},
        "element_customization_dark": {},
    })
}

/// `WebAuthnDevice`.
pub fn device(device: &DeviceRecord) -> Value {
    json!({
        "id": device.id,
        "cred_id": device.cred_id,
        "friendly_name": device.friendly_name,
        "type": device.kind,
        "created_at": rfc3339(device.created_at),
        "updated_at": rfc3339(device.updated_at),
        "last_login_at": rfc3339(device.last_login_at),
        "usage_count": device.usage_count,
        "icons": {"light": null, "dark": null},
    })
}

/// `ListPaginatedUsersItem`: a user without devices, events and social accounts.
pub fn user_item(user: &UserRecord) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "external_id": user.external_id,
        "status": user.status,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
        "last_login_at": rfc3339(user.last_login_at.unwrap_or(NEVER)),
        // passage_flex reads a 32-bit integer.
        "login_count": user.login_count.clamp(0, i64::from(i32::MAX)),
        "user_metadata": metadata_value(user),
    })
}

/// `UserInfo`: everything about a user (the emulator keeps no authentication events, so
/// `recent_events` is `[]`).
pub fn user_info(app: &AppRecord, user: &UserRecord) -> Value {
    let devices: Vec<Value> = app.devices_of(&user.id).map(device).collect();
    let mut view = user_item(user);
    view["webauthn"] = json!(!devices.is_empty());
    view["webauthn_devices"] = json!(devices);
    view["webauthn_types"] = json!(webauthn_types(app, &user.id));
    view["recent_events"] = json!([]);
    view["social_connections"] = social_json(user);
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::enums::UserStatus;
    use crate::base::identifiers::IdentifierKind;
    use crate::domain::accounts::new_user;
    use crate::jwt::SigningKey;
    use crate::settings::app::AppConfig;

    #[test]
    fn a_new_user_has_every_member_and_the_zero_login_time() {
        let app = AppRecord::new(AppConfig::default(), SigningKey::default_key().unwrap());
        let user = new_user(IdentifierKind::Email, "a@b.co", UserStatus::Pending, 0);
        let view = user_info(&app, &user);
        assert_eq!(view["last_login_at"], "0001-01-01T00:00:00Z");
        assert_eq!(view["phone"], "");
        assert_eq!(view["external_id"], "");
        assert_eq!(view["user_metadata"], Value::Null);
        assert_eq!(view["webauthn_devices"], json!([]));
        assert_eq!(view["social_connections"], json!({}));
        assert_eq!(view["status"], "pending");
    }
}
