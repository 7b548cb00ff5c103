//! User lookup and creation, and user metadata validation against the app's schema.

use std::sync::Arc;

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::UserStatus;
use crate::base::identifiers::{is_email, is_phone};
use crate::context::Context;
use crate::domain::accounts::classify_identifier;
use crate::domain::accounts::{ensure_identifier_free, ensure_public_signup, new_user};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::settings::app::MetadataFieldConfig;
use crate::views::{apply_status_quirk, user_json};

/// Applies `update` to `current` after checking every field against `schema`; nothing changes on error.
/// A `null` value removes the field.
pub fn apply_metadata(
    schema: &[MetadataFieldConfig],
    current: &BTreeMap<String, Value>,
    update: &Map<String, Value>,
) -> ApiResult<BTreeMap<String, Value>> {
    let mut next = current.clone();
    for (name, value) in update {
        let field = schema
            .iter()
            .find(|f| &f.field_name == name)
            .ok_or_else(|| {
                ApiError::bad_request(format!("unknown user metadata field `{name}`"))
            })?;
        if value.is_null() {
            next.remove(name);
            continue;
        }
        let ok = match field.field_type.as_str() {
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "email" => value.as_str().is_some_and(is_email),
            "phone" => value.as_str().is_some_and(is_phone),
            "date" => value
                .as_str()
                .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
            _ => value.is_string(),
        };
        if !ok {
            return Err(ApiError::bad_request(format!(
                "user metadata field `{name}` must be of type {}",
                field.field_type
            )));
        }
        next.insert(name.clone(), value.clone());
    }
    Ok(next)
}

/// Query of `GET users`.
#[derive(Debug, Deserialize)]
pub struct CheckQuery {
    identifier: String,
}

/// `GET /apps/{app_id}/users?identifier=` (200; `{"user": null}` when unknown).
pub async fn check_identifier(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<CheckQuery>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    // A `+` left unencoded in a query string arrives as a space: accept ` 15551234567` as a phone.
    let raw = match query.identifier.strip_prefix(' ') {
        Some(rest) if !rest.is_empty() && rest.trim_end().chars().all(|c| c.is_ascii_digit()) => {
            format!("+{}", rest.trim_end())
        }
        _ => query.identifier.clone(),
    };
    let (_, id) = classify_identifier(&app.config, &raw)?;
    let user = app.find_user_by_identifier(&id).map(|u| user_json(app, u));
    Ok(Json(json!({ "user": user })))
}

/// Body of `POST users`.
#[derive(Debug, Deserialize)]
pub struct CreateUserRequest {
    identifier: String,
    #[serde(default)]
    user_metadata: Option<Map<String, Value>>,
}

/// `POST /apps/{app_id}/users` (201). Existing identifiers give 400 `invalid_request`.
pub async fn create_user(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let quirks = ctx.options.quirks;
    let user = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            ensure_public_signup(&app.config)?;
            let (kind, id) = classify_identifier(&app.config, &body.identifier)?;
            ensure_identifier_free(app, &id, None)?;
            let mut user = new_user(kind, &id, UserStatus::Pending, now);
            if let Some(meta) = &body.user_metadata {
                user.user_metadata =
                    apply_metadata(&app.config.user_metadata_schema, &BTreeMap::new(), meta)?;
            }
            let mut view = user_json(app, &user);
            if quirks {
                apply_status_quirk(&mut view);
            }
            app.users.insert(user.id.clone(), user);
            Ok(view)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "user": user }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Vec<MetadataFieldConfig> {
        vec![
            MetadataFieldConfig {
                field_name: "nickname".into(),
                field_type: "string".into(),
                friendly_name: None,
                profile: true,
                registration: false,
            },
            MetadataFieldConfig {
                field_name: "age".into(),
                field_type: "integer".into(),
                friendly_name: None,
                profile: true,
                registration: false,
            },
        ]
    }

    #[test]
    fn metadata_is_all_or_nothing() {
        let current = BTreeMap::from([("nickname".to_owned(), json!("old"))]);
        let update = json!({"nickname": "new", "shoe_size": 42});
        assert!(apply_metadata(&schema(), &current, update.as_object().unwrap()).is_err());
        let bad_type = json!({"nickname": "new", "age": "x"});
        assert!(apply_metadata(&schema(), &current, bad_type.as_object().unwrap()).is_err());
        let good = json!({"nickname": "new", "age": 30});
        let next = apply_metadata(&schema(), &current, good.as_object().unwrap()).unwrap();
        assert_eq!(next["nickname"], json!("new"));
        assert_eq!(next["age"], json!(30));
        let clear = json!({"nickname": null});
        let next = apply_metadata(&schema(), &next, clear.as_object().unwrap()).unwrap();
        assert!(!next.contains_key("nickname"));
    }
}
