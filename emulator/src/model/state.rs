//! [`EmulatorState`]: everything the emulator knows, behind one lock (see [`crate::context`]).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::base::api_error::ApiError;
use crate::base::redact::redacted_debug;
use crate::model::app::AppRecord;
use crate::model::handshakes::Handshake;
use crate::model::outbox::Outbox;
use crate::model::records::SocialFlow;
use crate::model::tracking::{Table, Tracked};

/// The emulator's whole state: the apps and their records, the outbox, unfinished social flows,
/// the fake identity provider's secret and the WebAuthn ceremonies in progress.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct EmulatorState {
    /// Apps by id.
    pub apps: BTreeMap<String, AppRecord>,
    /// Sent messages.
    pub outbox: Outbox,
    /// Unfinished social flows by internal flow id.
    pub social_flows: Table<SocialFlow>,
    /// Secret of the fake identity provider (signs its HS256 ID tokens).
    #[serde(default)]
    pub fake_provider_secret: Tracked<String>,
    /// WebAuthn ceremonies in progress by handshake id (not in the state file).
    #[serde(skip)]
    pub handshakes: HashMap<String, Handshake>,
}

impl EmulatorState {
    /// The app with `id`, or 404 `app_not_found`.
    pub fn app(&self, id: &str) -> Result<&AppRecord, ApiError> {
        self.apps.get(id).ok_or_else(ApiError::app_not_found)
    }

    /// Mutable access to the app with `id`, or 404 `app_not_found`.
    pub fn app_mut(&mut self, id: &str) -> Result<&mut AppRecord, ApiError> {
        self.apps.get_mut(id).ok_or_else(ApiError::app_not_found)
    }
}

redacted_debug!(EmulatorState { apps, social_flows });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::OtpRecord;
    use crate::settings::app::AppConfig;

    #[test]
    fn debug_output_hides_secrets() {
        let otp = OtpRecord {
            id: "otp_1".into(),
            code_digest: "987654".into(),
            key_id: String::new(),
            user_id: "u".into(),
            identifier: "a@b.co".into(),
            expires_at: 0,
            failed_attempts: 0,
            used: false,
        };
        let text = format!("{otp:?}");
        assert!(text.contains("otp_1") && !text.contains("987654"), "{text}");
        let state = EmulatorState {
            fake_provider_secret: String::from("provider-secret-value").into(),
            ..EmulatorState::default()
        };
        assert!(!format!("{state:?}").contains("provider-secret-value"));
        let app = AppConfig::default();
        assert!(!format!("{app:?}").contains(&app.api_key));
    }
}
