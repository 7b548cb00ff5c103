//! An app's API keys: the configured ones (in its settings) and the ones made through the admin API
//! (kept as digests, shown once), the Management API's bearer-token check, and listing, making and
//! revoking keys.

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::clock::rfc3339;
use crate::base::digest::{digest_hex, secret_eq};
use crate::base::random::{random_id, random_secret};
use crate::model::admin_api::{ApiKeyInfo, ApiKeySource};
use crate::model::app::AppRecord;
use crate::model::records::ApiKeyRecord;

/// Longest name of a made key.
const MAX_NAME_CHARS: usize = 100;

/// The id of a configured key: derived from its digest, so that it is stable across restarts and
/// never shows the key.
pub fn configured_key_id(key: &str) -> String {
    format!("apk_cfg_{}", &digest_hex(key)[..16])
}

/// The last four characters of a key.
fn hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// Whether `presented` is one of the app's API keys (configured or made), compared in constant
/// time.
pub fn accepts(app: &AppRecord, presented: &str) -> bool {
    // Every key is compared, so that the time taken does not tell which one matched.
    let configured = app
        .config
        .api_keys
        .iter()
        .fold(false, |found, key| secret_eq(key, presented) | found);
    let digest = digest_hex(presented);
    let made = app
        .api_keys
        .values()
        .fold(false, |found, key| secret_eq(&key.digest, &digest) | found);
    configured | made
}

/// Who may call a Management API operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRequirement {
    /// The app's API key as the bearer token.
    Required,
    /// No `Authorization` header at all, or the app's API key (`get_app`).
    AnonymousAllowed,
}

/// 401 `invalid_access_token` unless `authorization` (the `Authorization` header, when there is
/// one) is `Bearer <one of the app's API keys>` (the scheme in any case), or is absent where
/// `requirement` allows that.
pub fn authorize(
    app: &AppRecord,
    authorization: Option<&str>,
    requirement: KeyRequirement,
) -> ApiResult<()> {
    let Some(value) = authorization else {
        return match requirement {
            KeyRequirement::AnonymousAllowed => Ok(()),
            KeyRequirement::Required => Err(ApiError::invalid_access_token(
                "missing API key (Authorization: Bearer <API key>)",
            )),
        };
    };
    let key = value
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .ok_or_else(|| {
            ApiError::invalid_access_token("the Authorization header is not a bearer token")
        })?;
    if key.is_empty() || !accepts(app, key) {
        return Err(ApiError::invalid_access_token(
            "the API key is not one of this app's keys",
        ));
    }
    Ok(())
}

/// The app's keys: configured ones first (in full), then made ones (by creation time, without
/// the key).
pub fn list(app: &AppRecord) -> Vec<ApiKeyInfo> {
    let configured = app.config.api_keys.iter().map(|key| ApiKeyInfo {
        id: configured_key_id(key),
        source: ApiKeySource::Configured,
        key: Some(key.clone()),
        hint: hint(key),
        name: String::new(),
        created_at: None,
    });
    let mut made: Vec<&ApiKeyRecord> = app.api_keys.values().collect();
    made.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    configured
        .chain(made.into_iter().map(|record| made_info(record, None)))
        .collect()
}

fn made_info(record: &ApiKeyRecord, key: Option<String>) -> ApiKeyInfo {
    ApiKeyInfo {
        id: record.id.clone(),
        source: ApiKeySource::Created,
        key,
        hint: record.hint.clone(),
        name: record.name.clone(),
        created_at: Some(rfc3339(record.created_at)),
    }
}

/// Makes a new key named `name`; the answer is the only place the key is ever shown (the app
/// keeps its digest).
pub fn create(app: &mut AppRecord, name: &str, now: i64) -> ApiResult<ApiKeyInfo> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "name must have at most {MAX_NAME_CHARS} characters and no control characters"
        )));
    }
    let key = random_secret(32);
    let record = ApiKeyRecord {
        id: random_id("apk_"),
        digest: digest_hex(&key),
        hint: hint(&key),
        name: name.to_owned(),
        created_at: now,
    };
    let info = made_info(&record, Some(key));
    app.api_keys.insert(record.id.clone(), record);
    Ok(info)
}

/// 404 `api_key_not_found`.
fn api_key_not_found() -> ApiError {
    ApiError::not_found("api_key_not_found", "API key not found")
}

/// Revokes the key with id `key_id`: a made key is forgotten; a configured key is taken out of the
/// app's settings (until the next start, when the configuration file is read again).
pub fn revoke(app: &mut AppRecord, key_id: &str) -> ApiResult<()> {
    if app.api_keys.remove(key_id).is_some() {
        return Ok(());
    }
    let position = app
        .config
        .api_keys
        .iter()
        .position(|key| configured_key_id(key) == key_id)
        .ok_or_else(api_key_not_found)?;
    app.config.api_keys.remove(position);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::SigningKey;
    use crate::settings::app::{AppConfig, DEFAULT_API_KEY};

    fn app() -> AppRecord {
        AppRecord::new(AppConfig::default(), SigningKey::default_key().unwrap())
    }

    #[test]
    fn configured_and_made_keys_are_accepted_until_revoked() {
        let mut app = app();
        let bearer = |key: &str| format!("Bearer {key}");
        let check = |app: &AppRecord, header: Option<&str>| {
            authorize(app, header, KeyRequirement::Required).map_err(|e| (e.status, e.code))
        };
        assert!(check(&app, Some(&bearer(DEFAULT_API_KEY))).is_ok());
        assert!(check(&app, Some(&format!("bEaReR   {DEFAULT_API_KEY} "))).is_ok());
        for wrong in [
            None,
            Some("Bearer"),
            Some("Bearer "),
            Some("Basic emulator-api-key"),
            Some("emulator-api-key"),
            Some("Bearer emulator-api-kez"),
        ] {
            let err = check(&app, wrong).expect_err(&format!("{wrong:?}"));
            assert_eq!(err.1, "invalid_access_token", "{wrong:?}");
            assert_eq!(err.0.as_u16(), 401);
        }
        assert!(authorize(&app, None, KeyRequirement::AnonymousAllowed).is_ok());
        assert!(authorize(&app, Some("Bearer x"), KeyRequirement::AnonymousAllowed).is_err());

        let made = create(&mut app, " ci ", 100).unwrap();
        let key = made.key.clone().expect("shown once");
        assert_eq!(made.name, "ci");
        assert_eq!(made.hint, key[key.len() - 4..]);
        assert!(check(&app, Some(&bearer(&key))).is_ok());
        let listed = list(&app);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].key.as_deref(), Some(DEFAULT_API_KEY));
        assert_eq!(listed[1].key, None, "a made key is never listed again");
        assert!(!app.api_keys.values().any(|r| r.digest.contains(&key)));

        revoke(&mut app, &made.id).unwrap();
        assert!(check(&app, Some(&bearer(&key))).is_err());
        revoke(&mut app, &configured_key_id(DEFAULT_API_KEY)).unwrap();
        assert!(check(&app, Some(&bearer(DEFAULT_API_KEY))).is_err());
        assert_eq!(
            revoke(&mut app, &made.id).unwrap_err().code,
            "api_key_not_found"
        );
        assert!(create(&mut app, &"x".repeat(101), 0).is_err());
    }

    #[test]
    fn debug_output_never_shows_a_key() {
        let mut app = app();
        let made = create(&mut app, "", 0).unwrap();
        let key = made.key.clone().unwrap();
        let text = format!("{made:?} {:?} {:?}", list(&app), app.config);
        assert!(
            !text.contains(&key) && !text.contains(DEFAULT_API_KEY),
            "{text}"
        );
    }
}
