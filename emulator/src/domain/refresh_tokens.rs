//! Refresh tokens: rotation with reuse detection (and its grace window), and revocation.

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::{digest_hex, successor_secret};
use crate::base::enums::UserStatus;
use crate::domain::sessions::{auth_token, insert_refresh_token, AuthResponse};
use crate::jwt::PendingToken;
use crate::model::app::AppRecord;
use crate::model::records::RefreshState;
use crate::settings::urls::Urls;

fn invalid_refresh(message: &str) -> ApiError {
    ApiError::unauthorized("invalid_refresh_token", message)
}

/// Rotates the refresh token `presented`: a new auth token and refresh token. Presenting a rotated
/// token again revokes the whole family (401 `invalid_refresh_token`), except within the app's
/// reuse grace window, where the same new pair is returned again.
pub fn rotate(
    urls: &Urls,
    app: &mut AppRecord,
    presented: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    if !app.config.refresh_tokens {
        return Err(ApiError::forbidden(
            "operation_not_allowed",
            "refresh tokens are disabled for this app",
        ));
    }
    let digest = digest_hex(presented);
    let record = app
        .refresh_tokens
        .get(&digest)
        .cloned()
        .ok_or_else(|| invalid_refresh("unknown refresh token"))?;
    let family = app
        .families
        .get(&record.family_id)
        .cloned()
        .ok_or_else(|| invalid_refresh("unknown refresh token"))?;
    if family.revoked {
        return Err(invalid_refresh("refresh token was revoked"));
    }
    if now >= family.expires_at {
        return Err(invalid_refresh("refresh token expired"));
    }
    match &record.state {
        RefreshState::Revoked => Err(invalid_refresh("refresh token was revoked")),
        RefreshState::Rotated { at, successor } => {
            let grace = app.config.refresh_reuse_grace_seconds;
            let successor_active = app
                .refresh_tokens
                .get(successor)
                .is_some_and(|s| s.state == RefreshState::Active);
            if grace > 0 && now - at <= grace && successor_active {
                let replay = record.rotated_pair.as_ref().and_then(|issued| {
                    let key = app.key(&issued.kid)?;
                    PendingToken::new(key, issued.claims.clone()).ok()
                });
                if let Some(token) = replay {
                    let refresh = successor_secret(&app.refresh_key, presented);
                    let lifetime = family.expires_at - now;
                    return Ok(AuthResponse::new(app, token, Some((refresh, lifetime))));
                }
            }
            tracing::warn!(family = %record.family_id, "refresh token reuse detected; revoking the family");
            app.revoke_family(&record.family_id);
            Err(invalid_refresh(
                "refresh token was already used; the session has been revoked",
            ))
        }
        RefreshState::Active => {
            match app.users.get(&record.user_id) {
                None => return Err(invalid_refresh("the user no longer exists")),
                // Deactivation revokes the user's families; this also covers a user made inactive
                // some other way (a state file edited by hand, a seed).
                Some(user) if user.status == UserStatus::Inactive => {
                    app.revoke_family(&record.family_id);
                    return Err(invalid_refresh("the user is deactivated"));
                }
                Some(_) => {}
            }
            let token = auth_token(urls, app, &record.user_id, now)?;
            let new_secret = successor_secret(&app.refresh_key, presented);
            insert_refresh_token(app, &new_secret, &record.family_id, &record.user_id, now);
            let keep_pair = app.config.refresh_reuse_grace_seconds > 0;
            if let Some(old) = app.refresh_tokens.get_mut(&digest) {
                old.state = RefreshState::Rotated {
                    at: now,
                    successor: digest_hex(&new_secret),
                };
                old.rotated_pair = keep_pair.then(|| token.issued());
            }
            let lifetime = family.expires_at - now;
            Ok(AuthResponse::new(app, token, Some((new_secret, lifetime))))
        }
    }
}

/// Revokes the family of the refresh token `presented`; unknown tokens are accepted silently (as
/// OAuth2 revocation does).
pub fn revoke(app: &mut AppRecord, presented: &str) {
    let digest = digest_hex(presented);
    if let Some(record) = app.refresh_tokens.get_mut(&digest) {
        record.state = RefreshState::Revoked;
        let family_id = record.family_id.clone();
        app.revoke_family(&family_id);
    }
}
