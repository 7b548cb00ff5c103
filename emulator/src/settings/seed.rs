//! Users the emulator creates without a ceremony: the `[[seed.users]]` of a configuration, a
//! `--seed` file, and the body of the admin API's `POST /_emulator/apps/{app_id}/users`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base::enums::UserStatus;

/// The seed section of a configuration (or the whole of a `--seed` file).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedConfig {
    /// Users to create at start.
    #[serde(default)]
    pub users: Vec<SeedUser>,
}

impl SeedConfig {
    /// Reads a seed file: TOML with `[[users]]` tables (JSON `{"users": [...]}` when it ends in `.json`).
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(anyhow::Error::from)
        } else {
            toml::from_str(&text).map_err(anyhow::Error::from)
        };
        parsed.map_err(|e| anyhow::anyhow!("seed file {}: {e}", path.display()))
    }
}

/// A user created at start: the fields of `POST /_emulator/apps/{app_id}/users` plus the app.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct SeedUser {
    /// App of the user (default: the first app).
    #[serde(default)]
    pub app_id: Option<String>,
    /// The user.
    #[serde(flatten)]
    pub user: NewUser,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for SeedUser {
    type Error = String;

    /// Takes `app_id` out, then reads the rest as a [`NewUser`] (so unknown keys
    /// are refused, which `flatten` alone would not do).
    fn try_from(mut map: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let app_id = match map.remove("app_id") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(id)) => Some(id),
            Some(_) => return Err("app_id must be a string".into()),
        };
        let user = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| crate::base::api_error::json_error_text(&e))?;
        Ok(Self { app_id, user })
    }
}

/// Body of `POST /_emulator/apps/{app_id}/users`: a user created directly, without a ceremony.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// E-mail address or E.164 phone number (of a kind the app allows).
    pub identifier: String,
    /// Fixed user id (letters, digits, `-`, `_`; at most 64); a random `usr_...` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Whether the e-mail address counts as verified (only for an e-mail identifier).
    #[serde(default)]
    pub email_verified: bool,
    /// Whether the phone number counts as verified (only for a phone identifier).
    #[serde(default)]
    pub phone_verified: bool,
    /// Status (default `active`).
    #[serde(default = "active")]
    pub status: UserStatus,
    /// Metadata, checked against the app's schema.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_metadata: BTreeMap<String, Value>,
}

fn active() -> UserStatus {
    UserStatus::Active
}

impl NewUser {
    /// An active, unverified user with `identifier` and no metadata.
    pub fn new(identifier: impl Into<String>) -> Self {
        Self {
            identifier: identifier.into(),
            id: None,
            email_verified: false,
            phone_verified: false,
            status: UserStatus::Active,
            user_metadata: BTreeMap::new(),
        }
    }
}
