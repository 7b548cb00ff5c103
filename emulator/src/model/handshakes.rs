//! WebAuthn ceremonies in progress (kept in memory only, never in the state file).

use crate::relying_party::{DiscoverableState, LoginState, RegistrationState};

/// What a WebAuthn ceremony in progress is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Registration of a new user.
    Register,
    /// Adding a device to the signed-in user.
    AddDevice,
    /// Login.
    Login,
    /// A transaction ceremony.
    Transaction(Option<String>),
}

/// Server-side state of a WebAuthn ceremony in progress (not in the state file).
#[derive(Debug, Clone)]
pub enum Handshake {
    /// A registration.
    Register {
        /// App.
        app_id: String,
        /// User being registered.
        user_id: String,
        /// What for.
        purpose: CeremonyPurpose,
        /// Engine state.
        state: RegistrationState,
        /// Expiry.
        expires_at: i64,
    },
    /// A login for a known user.
    Login {
        /// App.
        app_id: String,
        /// User logging in.
        user_id: String,
        /// What for.
        purpose: CeremonyPurpose,
        /// Engine state.
        state: LoginState,
        /// Expiry.
        expires_at: i64,
    },
    /// A usernameless login.
    Discoverable {
        /// App.
        app_id: String,
        /// What for.
        purpose: CeremonyPurpose,
        /// Engine state.
        state: DiscoverableState,
        /// Expiry.
        expires_at: i64,
    },
}

impl Handshake {
    /// When the ceremony expires.
    pub fn expires_at(&self) -> i64 {
        match self {
            Self::Register { expires_at, .. }
            | Self::Login { expires_at, .. }
            | Self::Discoverable { expires_at, .. } => *expires_at,
        }
    }

    /// The app of the ceremony.
    pub fn app_id(&self) -> &str {
        match self {
            Self::Register { app_id, .. }
            | Self::Login { app_id, .. }
            | Self::Discoverable { app_id, .. } => app_id,
        }
    }

    /// The user of the ceremony (none for a usernameless login).
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::Register { user_id, .. } | Self::Login { user_id, .. } => Some(user_id),
            Self::Discoverable { .. } => None,
        }
    }
}
