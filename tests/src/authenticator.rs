//! A software passkey authenticator standing in for a browser plus platform authenticator.
//!
//! [`SoftAuthenticator`] wraps 1Password's `passkey` client and authenticator: it takes the
//! `{"publicKey": {...}}` options a relying party sends and returns the `PublicKeyCredential`
//! JSON a browser would post back. The user always confirms presence and verification, and
//! credentials are discoverable when the RP asks for a resident key (required or preferred), so
//! usernameless login works.

use std::fmt;

use passkey::authenticator::{
    Authenticator, CredentialStore, DiscoverabilitySupport, StoreInfo, UiHint, UserCheck,
    UserValidationMethod,
};
use passkey::client::{Client, DefaultClientData, WebauthnError};
use passkey::crypto::rust_crypto::RustCryptoBackend;
use passkey_types::ctap2::make_credential::{
    Options, PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity,
};
use passkey_types::ctap2::{Aaguid, Ctap2Error, StatusCode};
use passkey_types::webauthn::{
    CredentialCreationOptions, CredentialRequestOptions, PublicKeyCredentialDescriptor,
};
use passkey_types::{encoding, Passkey};
use serde_json::Value;
use url::Url;

/// Why the software authenticator refused or failed a ceremony.
#[derive(Debug)]
pub enum AuthenticatorError {
    /// The options JSON is not valid WebAuthn creation/request options.
    InvalidOptions(String),
    /// The client or authenticator refused (RP id mismatch, excluded credential, no credential).
    Client(WebauthnError),
    /// The created credential could not be serialised to JSON.
    Serialize(String),
}

impl AuthenticatorError {
    /// True when registration was refused because the authenticator already holds an excluded
    /// credential (CTAP2 `CTAP2_ERR_CREDENTIAL_EXCLUDED`).
    pub fn is_credential_excluded(&self) -> bool {
        matches!(
            self,
            AuthenticatorError::Client(WebauthnError::AuthenticatorError(code))
                if *code == u8::from(StatusCode::from(Ctap2Error::CredentialExcluded))
        )
    }

    /// True when no stored credential matched the request.
    pub fn is_credential_not_found(&self) -> bool {
        matches!(
            self,
            AuthenticatorError::Client(WebauthnError::CredentialNotFound)
        )
    }
}

impl fmt::Display for AuthenticatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthenticatorError::InvalidOptions(e) => write!(f, "invalid WebAuthn options: {e}"),
            AuthenticatorError::Client(e) => write!(f, "passkey client refused: {e:?}"),
            AuthenticatorError::Serialize(e) => write!(f, "cannot serialise credential: {e}"),
        }
    }
}

impl std::error::Error for AuthenticatorError {}

/// An in-memory passkey authenticator bound to one web origin.
pub struct SoftAuthenticator {
    origin: Url,
    passkeys: Vec<Passkey>,
}

impl fmt::Debug for SoftAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftAuthenticator")
            .field("origin", &self.origin.as_str())
            .field("credentials", &self.passkeys.len())
            .finish()
    }
}

impl SoftAuthenticator {
    /// An empty authenticator acting for pages on `origin` (e.g. `https://app.passage.test`).
    ///
    /// # Panics
    /// If `origin` is not an absolute URL.
    pub fn new(origin: &str) -> Self {
        SoftAuthenticator {
            origin: parse_origin(origin),
            passkeys: Vec::new(),
        }
    }

    /// The origin the client reports in `clientDataJSON`.
    pub fn origin(&self) -> &Url {
        &self.origin
    }

    /// Act for another origin from now on (e.g. a phishing page), keeping the credentials.
    ///
    /// # Panics
    /// If `origin` is not an absolute URL.
    pub fn set_origin(&mut self, origin: &str) {
        self.origin = parse_origin(origin);
    }

    /// Base64url ids of the stored credentials, oldest first.
    pub fn credential_ids(&self) -> Vec<String> {
        self.passkeys
            .iter()
            .map(|p| encoding::base64url(&p.credential_id))
            .collect()
    }

    /// Number of stored credentials.
    pub fn credential_count(&self) -> usize {
        self.passkeys.len()
    }

    /// Delete a stored credential by base64url id; returns whether it existed.
    pub fn forget(&mut self, credential_id: &str) -> bool {
        let before = self.passkeys.len();
        self.passkeys
            .retain(|p| encoding::base64url(&p.credential_id) != credential_id);
        before != self.passkeys.len()
    }

    /// `navigator.credentials.create()`: `creation_options` is `{"publicKey": {...}}` (a bare
    /// `publicKey` object is accepted too). Returns the registration `PublicKeyCredential` JSON.
    pub async fn register(
        &mut self,
        creation_options: &Value,
    ) -> Result<Value, AuthenticatorError> {
        let options: CredentialCreationOptions = parse_options(creation_options)?;
        let mut client = Client::new(self.authenticator()).allows_insecure_localhost(true);
        let result = client
            .register(&self.origin, options, DefaultClientData)
            .await;
        self.passkeys = std::mem::take(&mut client.authenticator_mut().store_mut().passkeys);
        let credential = result.map_err(AuthenticatorError::Client)?;
        serde_json::to_value(&credential).map_err(|e| AuthenticatorError::Serialize(e.to_string()))
    }

    /// `navigator.credentials.get()`: `request_options` is `{"publicKey": {...}}` (a bare
    /// `publicKey` object is accepted too). With an empty `allowCredentials` the most recent
    /// discoverable credential for the RP id is used. Returns the assertion JSON.
    pub async fn login(&mut self, request_options: &Value) -> Result<Value, AuthenticatorError> {
        let options: CredentialRequestOptions = parse_options(request_options)?;
        let mut client = Client::new(self.authenticator()).allows_insecure_localhost(true);
        let result = client
            .authenticate(&self.origin, options, DefaultClientData)
            .await;
        self.passkeys = std::mem::take(&mut client.authenticator_mut().store_mut().passkeys);
        let credential = result.map_err(AuthenticatorError::Client)?;
        serde_json::to_value(&credential).map_err(|e| AuthenticatorError::Serialize(e.to_string()))
    }

    /// An authenticator over this one's credentials (moved in; the caller moves them back).
    fn authenticator(&mut self) -> Authenticator<VecStore, AlwaysVerified, RustCryptoBackend> {
        let store = VecStore {
            passkeys: std::mem::take(&mut self.passkeys),
        };
        let mut authenticator = Authenticator::new(
            Aaguid::new_empty(),
            store,
            AlwaysVerified,
            RustCryptoBackend,
        );
        authenticator.set_make_credentials_with_signature_counter(true);
        authenticator
    }
}

fn parse_origin(origin: &str) -> Url {
    Url::parse(origin).unwrap_or_else(|e| panic!("invalid origin {origin:?}: {e}"))
}

/// Parse `{"publicKey": {...}}` or a bare `publicKey` object.
fn parse_options<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, AuthenticatorError> {
    let wrapped = if value.get("publicKey").is_some() {
        value.clone()
    } else {
        serde_json::json!({ "publicKey": value })
    };
    serde_json::from_value(wrapped).map_err(|e| AuthenticatorError::InvalidOptions(e.to_string()))
}

/// The user: always present, always verified; refuses to re-register an excluded credential,
/// as real authenticators do.
struct AlwaysVerified;

#[async_trait::async_trait]
impl UserValidationMethod for AlwaysVerified {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        hint: UiHint<'a, Passkey>,
        _presence: bool,
        _verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        if matches!(hint, UiHint::InformExcludedCredentialFound(_)) {
            return Err(Ctap2Error::CredentialExcluded);
        }
        Ok(UserCheck {
            presence: true,
            verification: true,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

/// Credentials of one authenticator, filtered by RP id; discoverable when `rk` was requested.
struct VecStore {
    passkeys: Vec<Passkey>,
}

#[async_trait::async_trait]
impl CredentialStore for VecStore {
    type PasskeyItem = Passkey;

    async fn find_credentials(
        &self,
        ids: Option<&[PublicKeyCredentialDescriptor]>,
        rp_id: &str,
        _user_handle: Option<&[u8]>,
    ) -> Result<Vec<Passkey>, StatusCode> {
        let found: Vec<Passkey> = self
            .passkeys
            .iter()
            .rev()
            .filter(|p| p.rp_id == rp_id)
            .filter(|p| match ids {
                Some(ids) => ids.iter().any(|d| d.id == p.credential_id),
                None => p.user_handle.is_some(),
            })
            .cloned()
            .collect();
        if found.is_empty() {
            Err(Ctap2Error::NoCredentials.into())
        } else {
            Ok(found)
        }
    }

    async fn save_credential(
        &mut self,
        cred: Passkey,
        _user: PublicKeyCredentialUserEntity,
        _rp: PublicKeyCredentialRpEntity,
        _options: Options,
    ) -> Result<(), StatusCode> {
        self.passkeys
            .retain(|p| p.credential_id != cred.credential_id);
        self.passkeys.push(cred);
        Ok(())
    }

    async fn update_credential(&mut self, cred: &Passkey) -> Result<(), StatusCode> {
        match self
            .passkeys
            .iter_mut()
            .find(|p| p.credential_id == cred.credential_id)
        {
            Some(stored) => {
                *stored = cred.clone();
                Ok(())
            }
            None => Err(Ctap2Error::NoCredentials.into()),
        }
    }

    async fn get_info(&self) -> StoreInfo {
        StoreInfo {
            discoverability: DiscoverabilitySupport::Full,
        }
    }
}
