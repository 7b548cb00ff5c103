//! The WebAuthn relying party: real passkey registration and login verification.
//!
//! A pure layer over `webauthn-rs` (no HTTP, no global state). The passkey ceremonies
//! ([`crate::domain::passkeys`]) call [`RelyingParty`] to produce the `{"publicKey": {...}}` options a browser would receive, keep
//! the returned state under a handshake id (single use: remove it before finishing), and verify the
//! browser's `PublicKeyCredential` JSON. User verification is always required (passkeys).
//!
//! Errors are split for HTTP mapping: [`CeremonyError::is_bad_input`] (400 `invalid_request`),
//! [`CeremonyError::is_verification_failure`] (401 `webauthn_login_failed` /
//! `discoverable_login_failed`), [`CeremonyError::NoCredentials`] (409 `user_has_no_passkeys`).
//!
//! Architecture invariant: imports only the base layer; the model keeps its ceremony states
//! ([`crate::model::handshakes`]), so it knows nothing of apps, users or HTTP.

use std::fmt;

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::base::redact::redacted_debug;

/// The only credential type WebAuthn defines.
const PUBLIC_KEY_TYPE: &str = "public-key";

/// A relying party (one Passage app): its RP id, allowed origin and display name.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    webauthn: Webauthn,
    rp_id: String,
}

/// The authenticator attachment a registration asks for (Passage's `authenticator_attachment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttachmentPreference {
    /// A platform authenticator (Touch ID, Windows Hello, a password manager).
    Platform,
    /// A roaming authenticator (security key, phone via hybrid transport).
    CrossPlatform,
}

impl AttachmentPreference {
    /// The WebAuthn JSON spelling (`platform` / `cross-platform`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentPreference::Platform => "platform",
            AttachmentPreference::CrossPlatform => "cross-platform",
        }
    }
}

/// Server-side state of a pending registration. Single use; serialisable as JSON.
#[derive(Clone, Serialize, Deserialize)]
pub struct RegistrationState {
    inner: PasskeyRegistration,
    user_uuid: Uuid,
    /// Raw ids of the excluded credentials (webauthn-rs reports exclusion as an algorithm error).
    #[serde(default)]
    excluded: Vec<Vec<u8>>,
}

impl RegistrationState {
    /// The WebAuthn user handle (Passage user id as UUID) this registration is for.
    pub fn user_uuid(&self) -> Uuid {
        self.user_uuid
    }
}

redacted_debug!(RegistrationState { user_uuid });

/// Server-side state of a pending login for a known user. Single use; serialisable as JSON.
#[derive(Clone, Serialize, Deserialize)]
pub struct LoginState {
    inner: PasskeyAuthentication,
}

redacted_debug!(LoginState {});

/// Server-side state of a pending usernameless (discoverable) login. Single use.
#[derive(Clone, Serialize, Deserialize)]
pub struct DiscoverableState {
    inner: DiscoverableAuthentication,
}

redacted_debug!(DiscoverableState {});

/// A registered passkey: the verified public key plus the owner and usage bookkeeping.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCredential {
    passkey: Passkey,
    user_uuid: Uuid,
    usage_count: u64,
    #[serde(default)]
    sign_count: u32,
    #[serde(default)]
    authenticator_attachment: Option<String>,
}

impl StoredCredential {
    /// The credential id, base64url without padding (as browsers send `id`).
    pub fn id(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.passkey.cred_id())
    }

    /// The raw credential id bytes.
    pub fn raw_id(&self) -> &[u8] {
        self.passkey.cred_id()
    }

    /// The owner's WebAuthn user handle (Passage user id as UUID).
    pub fn user_uuid(&self) -> Uuid {
        self.user_uuid
    }

    /// Successful logins with this credential.
    pub fn usage_count(&self) -> u64 {
        self.usage_count
    }

    /// The last signature counter the authenticator reported (0 if it keeps none).
    pub fn sign_count(&self) -> u32 {
        self.sign_count
    }

    /// `platform` / `cross-platform` as reported by the browser at registration, if any.
    pub fn authenticator_attachment(&self) -> Option<&str> {
        self.authenticator_attachment.as_deref()
    }

    /// The verified `webauthn-rs` passkey (public key, counter, flags).
    pub fn passkey(&self) -> &Passkey {
        &self.passkey
    }
}

impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id())
            .field("user_uuid", &self.user_uuid)
            .field("usage_count", &self.usage_count)
            .field("sign_count", &self.sign_count)
            .field("authenticator_attachment", &self.authenticator_attachment)
            .finish_non_exhaustive()
    }
}

/// Why a well-formed WebAuthn response was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationFailure {
    /// The client data challenge is not the one issued for this ceremony (stale or replayed).
    ChallengeMismatch,
    /// The client data origin is not the relying party's origin.
    OriginMismatch,
    /// The authenticator data is bound to another RP id.
    RpIdMismatch,
    /// The client data type is not `webauthn.create` / `webauthn.get` as expected.
    WrongCeremonyType,
    /// The assertion signature does not verify with the stored public key.
    SignatureInvalid,
    /// The authenticator did not report user presence.
    UserNotPresent,
    /// The authenticator did not report user verification (required for passkeys).
    UserNotVerified,
    /// The new credential is one of the excluded (already registered) credentials.
    CredentialExcluded,
    /// The credential is not registered (or not allowed for this ceremony).
    UnknownCredential,
    /// The response's user handle is missing or does not own the credential.
    UserHandleMismatch,
    /// The signature counter did not increase (possible cloned authenticator or replay).
    CounterNotIncreased,
    /// Any other verification failure reported by `webauthn-rs`.
    Other(String),
}

impl fmt::Display for VerificationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            VerificationFailure::ChallengeMismatch => "challenge mismatch",
            VerificationFailure::OriginMismatch => "origin not allowed",
            VerificationFailure::RpIdMismatch => "RP id hash mismatch",
            VerificationFailure::WrongCeremonyType => "wrong client data type",
            VerificationFailure::SignatureInvalid => "invalid signature",
            VerificationFailure::UserNotPresent => "user not present",
            VerificationFailure::UserNotVerified => "user not verified",
            VerificationFailure::CredentialExcluded => "credential excluded",
            VerificationFailure::UnknownCredential => "unknown credential",
            VerificationFailure::UserHandleMismatch => "user handle mismatch",
            VerificationFailure::CounterNotIncreased => "signature counter did not increase",
            VerificationFailure::Other(reason) => reason,
        };
        f.write_str(text)
    }
}

/// A ceremony failure, classified for HTTP mapping.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CeremonyError {
    /// The relying party configuration is invalid (RP id not a suffix of the origin host, ...).
    #[error("invalid WebAuthn relying party configuration: {0}")]
    Configuration(String),
    /// The request is malformed (not a credential JSON, bad base64url/CBOR/JSON, bad user name).
    #[error("malformed WebAuthn request: {0}")]
    BadInput(String),
    /// A login was started for a user without passkeys.
    #[error("the user has no registered passkeys")]
    NoCredentials,
    /// The response is well-formed but failed verification.
    #[error("WebAuthn verification failed: {0}")]
    Verification(VerificationFailure),
}

impl CeremonyError {
    /// True for a well-formed response that failed verification (HTTP 401).
    pub fn is_verification_failure(&self) -> bool {
        matches!(self, CeremonyError::Verification(_))
    }

    /// True for malformed input (HTTP 400 `invalid_request`).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, CeremonyError::BadInput(_))
    }

    /// The verification failure reason, if this is one.
    pub fn verification_failure(&self) -> Option<&VerificationFailure> {
        match self {
            CeremonyError::Verification(reason) => Some(reason),
            _ => None,
        }
    }
}

impl From<WebauthnError> for CeremonyError {
    fn from(err: WebauthnError) -> Self {
        use VerificationFailure as V;
        let failure = match err {
            WebauthnError::Configuration => return CeremonyError::Configuration(err.to_string()),
            WebauthnError::InvalidUsername
            | WebauthnError::ParseBase64Failure(_)
            | WebauthnError::ParseCBORFailure(_)
            | WebauthnError::ParseJSONFailure(_)
            | WebauthnError::ParseNOMFailure
            | WebauthnError::ParseInsufficientBytesAvailable
            | WebauthnError::COSEKeyInvalidCBORValue
            | WebauthnError::MissingAttestationCredentialData
            | WebauthnError::AttestationStatementMapInvalid => {
                return CeremonyError::BadInput(err.to_string())
            }
            WebauthnError::MismatchedChallenge | WebauthnError::ChallengeNotFound => {
                V::ChallengeMismatch
            }
            WebauthnError::InvalidRPOrigin | WebauthnError::CredentialCrossOrigin => {
                V::OriginMismatch
            }
            WebauthnError::InvalidRPIDHash => V::RpIdMismatch,
            WebauthnError::InvalidClientDataType => V::WrongCeremonyType,
            WebauthnError::SignatureInvalid | WebauthnError::AuthenticationFailure => {
                V::SignatureInvalid
            }
            WebauthnError::UserNotPresent => V::UserNotPresent,
            WebauthnError::UserNotVerified => V::UserNotVerified,
            WebauthnError::CredentialExcludedFromRequest
            | WebauthnError::CredentialAlreadyExists => V::CredentialExcluded,
            WebauthnError::CredentialNotFound => V::UnknownCredential,
            WebauthnError::InvalidUserUniqueId => V::UserHandleMismatch,
            WebauthnError::CredentialPossibleCompromise => V::CounterNotIncreased,
            other => V::Other(other.to_string()),
        };
        CeremonyError::Verification(failure)
    }
}

impl RelyingParty {
    /// A relying party for `rp_id` (a registrable suffix of the origin's host) and `origin`,
    /// accepting any port on that origin.
    pub fn new(rp_id: &str, origin: &Url, rp_name: &str) -> Result<Self, CeremonyError> {
        if rp_id.is_empty() || rp_name.is_empty() {
            return Err(CeremonyError::Configuration(
                "rp id and rp name must be non-empty".to_owned(),
            ));
        }
        let webauthn = WebauthnBuilder::new(rp_id, origin)
            .map_err(|_| {
                CeremonyError::Configuration(format!(
                    "rp id {rp_id:?} is not an effective domain of origin {origin}"
                ))
            })?
            .rp_name(rp_name)
            .allow_any_port(true)
            .build()?;
        Ok(RelyingParty {
            webauthn,
            rp_id: rp_id.to_owned(),
        })
    }

    /// The RP id credentials are bound to.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// Begin registering a passkey for `user_uuid`; `exclude` are the user's existing credentials.
    ///
    /// Returns the `{"publicKey": {...}}` creation options and the state to keep server-side.
    pub fn start_registration(
        &self,
        user_uuid: Uuid,
        user_name: &str,
        display_name: &str,
        exclude: &[StoredCredential],
    ) -> Result<(Value, RegistrationState), CeremonyError> {
        self.start_registration_with_attachment(user_uuid, user_name, display_name, exclude, None)
    }

    /// [`Self::start_registration`] also asking for an authenticator attachment.
    pub fn start_registration_with_attachment(
        &self,
        user_uuid: Uuid,
        user_name: &str,
        display_name: &str,
        exclude: &[StoredCredential],
        attachment: Option<AttachmentPreference>,
    ) -> Result<(Value, RegistrationState), CeremonyError> {
        if user_name.trim().is_empty() {
            return Err(CeremonyError::BadInput("user name is empty".to_owned()));
        }
        let display_name = if display_name.trim().is_empty() {
            user_name
        } else {
            display_name
        };
        let excluded: Vec<Vec<u8>> = exclude
            .iter()
            .map(|c| c.passkey.cred_id().to_vec())
            .collect();
        let (ccr, inner) = self.webauthn.start_passkey_registration(
            user_uuid,
            user_name,
            display_name,
            (!excluded.is_empty()).then(|| excluded.clone()),
        )?;
        let mut options = to_json(&ccr)?;
        // Passage logs users in without a username, so ask for a discoverable credential.
        // webauthn-rs does not verify resident-key or attachment choices, only UV (required).
        if let Some(selection) = options
            .get_mut("publicKey")
            .and_then(|pk| pk.get_mut("authenticatorSelection"))
            .and_then(Value::as_object_mut)
        {
            selection.insert("residentKey".to_owned(), Value::from("preferred"));
            selection.insert("requireResidentKey".to_owned(), Value::from(false));
            if let Some(attachment) = attachment {
                selection.insert(
                    "authenticatorAttachment".to_owned(),
                    Value::from(attachment.as_str()),
                );
            }
        }
        Ok((
            options,
            RegistrationState {
                inner,
                user_uuid,
                excluded,
            },
        ))
    }

    /// Verify the browser's registration `PublicKeyCredential` JSON against `state`.
    pub fn finish_registration(
        &self,
        response: &Value,
        state: &RegistrationState,
    ) -> Result<StoredCredential, CeremonyError> {
        let credential: RegisterPublicKeyCredential = parse_credential(response)?;
        check_id_matches(&credential.id, &credential.raw_id, &credential.type_)?;
        if state.excluded.contains(&credential.raw_id) {
            return Err(CeremonyError::Verification(
                VerificationFailure::CredentialExcluded,
            ));
        }
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, &state.inner)?;
        if passkey.cred_id().as_slice() != credential.raw_id.as_slice() {
            return Err(CeremonyError::Verification(VerificationFailure::Other(
                "rawId is not the attested credential id".to_owned(),
            )));
        }
        let authenticator_attachment = response
            .get("authenticatorAttachment")
            .and_then(Value::as_str)
            .filter(|a| matches!(*a, "platform" | "cross-platform"))
            .map(str::to_owned);
        Ok(StoredCredential {
            passkey,
            user_uuid: state.user_uuid,
            usage_count: 0,
            sign_count: 0,
            authenticator_attachment,
        })
    }

    /// Begin a login for a known user with their `credentials` (sent as `allowCredentials`).
    pub fn start_login(
        &self,
        credentials: &[StoredCredential],
    ) -> Result<(Value, LoginState), CeremonyError> {
        if credentials.is_empty() {
            return Err(CeremonyError::NoCredentials);
        }
        let passkeys: Vec<Passkey> = credentials.iter().map(|c| c.passkey.clone()).collect();
        let (rcr, inner) = self.webauthn.start_passkey_authentication(&passkeys)?;
        Ok((to_json(&rcr)?, LoginState { inner }))
    }

    /// Verify a login assertion; updates the used credential's counter and usage count.
    ///
    /// Returns the base64url id of the credential used.
    pub fn finish_login(
        &self,
        response: &Value,
        state: &LoginState,
        credentials: &mut [StoredCredential],
    ) -> Result<String, CeremonyError> {
        let credential: PublicKeyCredential = parse_credential(response)?;
        check_id_matches(&credential.id, &credential.raw_id, &credential.type_)?;
        let stored = credentials
            .iter_mut()
            .find(|c| c.passkey.cred_id().as_slice() == credential.raw_id.as_slice())
            .ok_or(CeremonyError::Verification(
                VerificationFailure::UnknownCredential,
            ))?;
        // WebAuthn §7.2 step 6: a present user handle must map to the credential's owner.
        if let Some(handle) = credential.response.user_handle.as_deref() {
            if handle != stored.user_uuid.as_bytes() {
                return Err(CeremonyError::Verification(
                    VerificationFailure::UserHandleMismatch,
                ));
            }
        }
        let result = self
            .webauthn
            .finish_passkey_authentication(&credential, &state.inner)?;
        record_use(stored, &result)
    }

    /// Begin a usernameless login (discoverable credentials, no `allowCredentials`).
    pub fn start_discoverable_login(&self) -> Result<(Value, DiscoverableState), CeremonyError> {
        let (rcr, inner) = self.webauthn.start_discoverable_authentication()?;
        Ok((to_json(&rcr)?, DiscoverableState { inner }))
    }

    /// Read the user handle (as UUID) and base64url credential id from a discoverable assertion,
    /// so the caller can look up the user's credentials. Verifies nothing.
    pub fn identify_discoverable(&self, response: &Value) -> Result<(Uuid, String), CeremonyError> {
        let credential: PublicKeyCredential = parse_credential(response)?;
        check_id_matches(&credential.id, &credential.raw_id, &credential.type_)?;
        let (user_uuid, raw_id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)?;
        Ok((user_uuid, URL_SAFE_NO_PAD.encode(raw_id)))
    }

    /// Verify a discoverable assertion against `credentials` (the candidate owner's passkeys);
    /// checks the user handle owns the credential, updates counters, returns the credential id.
    pub fn finish_discoverable_login(
        &self,
        response: &Value,
        state: DiscoverableState,
        credentials: &mut [StoredCredential],
    ) -> Result<String, CeremonyError> {
        let credential: PublicKeyCredential = parse_credential(response)?;
        check_id_matches(&credential.id, &credential.raw_id, &credential.type_)?;
        let (user_uuid, _) = self
            .webauthn
            .identify_discoverable_authentication(&credential)?;
        let stored = credentials
            .iter_mut()
            .find(|c| c.passkey.cred_id().as_slice() == credential.raw_id.as_slice())
            .ok_or(CeremonyError::Verification(
                VerificationFailure::UnknownCredential,
            ))?;
        if stored.user_uuid != user_uuid {
            return Err(CeremonyError::Verification(
                VerificationFailure::UserHandleMismatch,
            ));
        }
        let result = self.webauthn.finish_discoverable_authentication_v2(
            &credential,
            state.inner,
            &stored.passkey,
        )?;
        record_use(stored, &result)
    }
}

/// Check the signature counter moved forward (the state snapshots counters at start time, so a
/// response replayed after a successful login is caught here), then record the use.
fn record_use(
    stored: &mut StoredCredential,
    result: &AuthenticationResult,
) -> Result<String, CeremonyError> {
    let counter = result.counter();
    if (counter != 0 || stored.sign_count != 0) && counter <= stored.sign_count {
        return Err(CeremonyError::Verification(
            VerificationFailure::CounterNotIncreased,
        ));
    }
    stored.passkey.update_credential(result);
    stored.sign_count = counter;
    stored.usage_count += 1;
    Ok(stored.id())
}

/// Serialise webauthn-rs options to JSON.
fn to_json<T: Serialize>(value: &T) -> Result<Value, CeremonyError> {
    serde_json::to_value(value)
        .map_err(|e| CeremonyError::Configuration(format!("cannot serialise options: {e}")))
}

/// Binary members of a `PublicKeyCredential` JSON.
const BINARY_FIELDS: [&str; 7] = [
    "/id",
    "/rawId",
    "/response/attestationObject",
    "/response/clientDataJSON",
    "/response/authenticatorData",
    "/response/signature",
    "/response/userHandle",
];

/// Deserialise a browser credential JSON, mapping failures to bad input. Binary members may be
/// base64url or standard base64, padded or not (as Passage accepts); they are normalised to
/// unpadded base64url first.
fn parse_credential<T: serde::de::DeserializeOwned>(response: &Value) -> Result<T, CeremonyError> {
    if !response.is_object() {
        return Err(CeremonyError::BadInput(
            "credential must be a JSON object".to_owned(),
        ));
    }
    let mut normalised = response.clone();
    for pointer in BINARY_FIELDS {
        if let Some(field) = normalised.pointer_mut(pointer) {
            if let Some(bytes) = field.as_str().and_then(decode_lenient) {
                *field = Value::from(URL_SAFE_NO_PAD.encode(bytes));
            }
        }
    }
    T::deserialize(&normalised).map_err(|e| {
        CeremonyError::BadInput(format!(
            "credential JSON: {}",
            crate::base::api_error::json_error_text(&e)
        ))
    })
}

/// Decode base64url or standard base64, with or without padding.
fn decode_lenient(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim().trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| STANDARD_NO_PAD.decode(trimmed))
        .ok()
}

/// `type` must be `public-key` and `id` must be the base64url form of `rawId`.
fn check_id_matches(id: &str, raw_id: &[u8], type_: &str) -> Result<(), CeremonyError> {
    if type_ != PUBLIC_KEY_TYPE {
        return Err(CeremonyError::BadInput(format!(
            "credential type must be {PUBLIC_KEY_TYPE:?}"
        )));
    }
    if raw_id.is_empty() {
        return Err(CeremonyError::BadInput("rawId is empty".to_owned()));
    }
    if decode_lenient(id).as_deref() != Some(raw_id) {
        return Err(CeremonyError::BadInput(
            "credential id does not match rawId".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rp() -> RelyingParty {
        let origin = Url::parse("https://app.passage.test").expect("origin");
        RelyingParty::new("app.passage.test", &origin, "Passage Test").expect("rp")
    }

    #[test]
    fn rp_id_must_be_suffix_of_origin() {
        let origin = Url::parse("https://app.passage.test").expect("origin");
        let err = RelyingParty::new("other.test", &origin, "x").expect_err("bad rp id");
        assert!(matches!(err, CeremonyError::Configuration(_)), "{err:?}");
        assert!(!err.is_bad_input() && !err.is_verification_failure());
        assert!(RelyingParty::new("passage.test", &origin, "x").is_ok());
        assert!(RelyingParty::new("", &origin, "x").is_err());
    }

    #[test]
    fn registration_options_require_user_verification_and_ask_for_resident_key() {
        let user = Uuid::new_v4();
        let (options, state) = rp()
            .start_registration(user, "ada@example.com", "Ada", &[])
            .expect("start");
        let pk = &options["publicKey"];
        assert_eq!(pk["rp"]["id"], "app.passage.test");
        assert_eq!(pk["rp"]["name"], "Passage Test");
        assert_eq!(pk["user"]["id"], URL_SAFE_NO_PAD.encode(user.as_bytes()));
        assert_eq!(pk["user"]["name"], "ada@example.com");
        let selection = &pk["authenticatorSelection"];
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(selection["residentKey"], "preferred");
        assert!(selection.get("authenticatorAttachment").is_none());
        assert!(pk["challenge"].as_str().is_some_and(|c| c.len() >= 43));
        assert_eq!(state.user_uuid(), user);
        // The state survives a JSON snapshot.
        let snapshot = serde_json::to_string(&state).expect("serialise");
        let restored: RegistrationState = serde_json::from_str(&snapshot).expect("deserialise");
        assert_eq!(restored.user_uuid(), user);
        assert!(!format!("{state:?}").contains(pk["challenge"].as_str().expect("challenge")));
    }

    #[test]
    fn attachment_preference_is_forwarded() {
        let (options, _) = rp()
            .start_registration_with_attachment(
                Uuid::new_v4(),
                "ada",
                "",
                &[],
                Some(AttachmentPreference::CrossPlatform),
            )
            .expect("start");
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["authenticatorAttachment"], "cross-platform");
        assert_eq!(options["publicKey"]["user"]["displayName"], "ada");
    }

    #[test]
    fn empty_user_name_is_bad_input() {
        let err = rp()
            .start_registration(Uuid::new_v4(), "  ", "Ada", &[])
            .expect_err("empty name");
        assert!(err.is_bad_input(), "{err:?}");
    }

    #[test]
    fn login_without_credentials_is_no_credentials() {
        let err = rp().start_login(&[]).expect_err("no creds");
        assert!(matches!(err, CeremonyError::NoCredentials));
        assert!(!err.is_bad_input() && !err.is_verification_failure());
    }

    #[test]
    fn discoverable_options_have_no_allow_list_and_require_uv() {
        let (options, _state) = rp().start_discoverable_login().expect("start");
        let pk = &options["publicKey"];
        assert_eq!(pk["rpId"], "app.passage.test");
        assert_eq!(pk["userVerification"], "required");
        assert_eq!(pk["allowCredentials"], json!([]));
    }

    fn registration_bad_inputs() -> Vec<Value> {
        vec![
            json!(null),
            json!("a string"),
            json!({}),
            json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key"}),
            json!({"id": "AAAA", "rawId": "!!not base64!!", "type": "public-key",
                   "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}}),
            // id does not match rawId
            json!({"id": "BBBB", "rawId": "AAAA", "type": "public-key",
                   "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}}),
            // wrong type
            json!({"id": "AAAA", "rawId": "AAAA", "type": "password",
                   "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}}),
            // clientDataJSON is not JSON
            json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                   "response": {"attestationObject": "AAAA",
                                "clientDataJSON": URL_SAFE_NO_PAD.encode(b"not json")}}),
        ]
    }

    #[test]
    fn malformed_registration_responses_are_bad_input() {
        let rp = rp();
        let (_, state) = rp
            .start_registration(Uuid::new_v4(), "ada", "Ada", &[])
            .expect("start");
        for (i, input) in registration_bad_inputs().into_iter().enumerate() {
            let err = rp
                .finish_registration(&input, &state)
                .expect_err("must fail");
            assert!(err.is_bad_input(), "case {i}: {err:?}");
            assert!(!err.is_verification_failure(), "case {i}");
        }
    }

    #[test]
    fn garbage_attestation_object_is_bad_input() {
        let rp = rp();
        let (options, state) = rp
            .start_registration(Uuid::new_v4(), "ada", "Ada", &[])
            .expect("start");
        let client_data = json!({
            "type": "webauthn.create",
            "challenge": options["publicKey"]["challenge"],
            "origin": "https://app.passage.test",
        });
        let input = json!({
            "id": "AAAA", "rawId": "AAAA", "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode([0xff, 0x00, 0x13]),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.to_string()),
            }
        });
        let err = rp.finish_registration(&input, &state).expect_err("garbage");
        assert!(err.is_bad_input(), "{err:?}");
    }

    fn assertion(user_handle: Option<&str>) -> Value {
        json!({
            "id": "AAAA", "rawId": "AAAA", "type": "public-key",
            "response": {
                "authenticatorData": "AAAA",
                "clientDataJSON": "AAAA",
                "signature": "AAAA",
                "userHandle": user_handle,
            }
        })
    }

    #[test]
    fn malformed_login_responses_are_bad_input() {
        let rp = rp();
        let (_, state) = rp.start_discoverable_login().expect("start");
        for input in [
            json!([]),
            json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key"}),
            json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                   "response": {"authenticatorData": 5, "clientDataJSON": "AAAA", "signature": "AAAA"}}),
        ] {
            let err = rp.identify_discoverable(&input).expect_err("identify");
            assert!(err.is_bad_input(), "{err:?}");
            let err = rp
                .finish_discoverable_login(&input, state.clone(), &mut [])
                .expect_err("finish");
            assert!(err.is_bad_input(), "{err:?}");
        }
    }

    #[test]
    fn discoverable_assertion_without_user_handle_is_a_verification_failure() {
        let err = rp()
            .identify_discoverable(&assertion(None))
            .expect_err("no handle");
        assert_eq!(
            err.verification_failure(),
            Some(&VerificationFailure::UserHandleMismatch)
        );
        let handle = URL_SAFE_NO_PAD.encode(Uuid::nil().as_bytes());
        let (user, cred) = rp()
            .identify_discoverable(&assertion(Some(&handle)))
            .expect("identify");
        assert_eq!((user, cred.as_str()), (Uuid::nil(), "AAAA"));
    }

    #[test]
    fn unknown_credential_is_a_verification_failure() {
        let rp = rp();
        let (_, state) = rp.start_discoverable_login().expect("start");
        let handle = URL_SAFE_NO_PAD.encode(Uuid::nil().as_bytes());
        let err = rp
            .finish_discoverable_login(&assertion(Some(&handle)), state, &mut [])
            .expect_err("unknown");
        assert_eq!(
            err.verification_failure(),
            Some(&VerificationFailure::UnknownCredential)
        );
        assert!(err.is_verification_failure());
    }

    #[test]
    fn bad_input_messages_do_not_echo_submitted_values() {
        let mut input = assertion(None);
        input["extensions"] = json!("nonce-value-that-must-not-leak");
        let err = rp()
            .identify_discoverable(&input)
            .expect_err("bad extensions");
        assert!(err.is_bad_input(), "{err:?}");
        assert!(!err.to_string().contains("nonce-value"), "{err}");
    }

    #[test]
    fn error_classification() {
        assert!(CeremonyError::from(WebauthnError::MismatchedChallenge).is_verification_failure());
        assert!(CeremonyError::from(WebauthnError::ParseNOMFailure).is_bad_input());
        assert!(matches!(
            CeremonyError::from(WebauthnError::Configuration),
            CeremonyError::Configuration(_)
        ));
        assert_eq!(
            CeremonyError::from(WebauthnError::CredentialExcludedFromRequest)
                .verification_failure(),
            Some(&VerificationFailure::CredentialExcluded)
        );
    }
}
