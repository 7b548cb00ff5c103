//! `create_magic_link`: magic links the app's backend makes (handed back, and delivered when
//! asked), redeemed through the Auth API.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::{MagicLinkChannel, MagicLinkType, MessageLanguage};
use crate::context::Context;
use crate::domain::passwordless::{create_backend_magic_link, LinkOrder, LinkRecipient};
use crate::http::extract::{not_null, ApiJson, ApiPath};

/// Body of `create_magic_link` (unknown members are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct MagicLinkRequest {
    #[serde(default, deserialize_with = "not_null")]
    email: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    user_id: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    channel: Option<MagicLinkChannel>,
    #[serde(default, deserialize_with = "not_null", rename = "type")]
    link_type: Option<MagicLinkType>,
    #[serde(default, deserialize_with = "not_null")]
    send: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    ttl: Option<i64>,
    #[serde(default, deserialize_with = "not_null")]
    redirect_url: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    magic_link_path: Option<String>,
    /// Checked against the languages Passage offers; the outbox keeps no language.
    #[serde(default)]
    #[allow(dead_code)]
    language: Option<MessageLanguage>,
}

impl MagicLinkRequest {
    /// Whom the link is for: exactly one of `email`, `phone` and `user_id`, with a channel that fits
    /// (needed with `user_id`).
    fn recipient(&self) -> ApiResult<LinkRecipient<'_>> {
        let given = [&self.email, &self.phone, &self.user_id]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if given != 1 {
            return Err(ApiError::bad_request(
                "give exactly one of email, phone and user_id",
            ));
        }
        let wrong_channel = || ApiError::bad_request("channel does not fit the identifier given");
        match (&self.email, &self.phone, &self.user_id, self.channel) {
            (Some(email), _, _, None | Some(MagicLinkChannel::Email)) => {
                Ok(LinkRecipient::Email(email))
            }
            (Some(_), _, _, Some(_)) => Err(wrong_channel()),
            (_, Some(phone), _, None | Some(MagicLinkChannel::Phone)) => {
                Ok(LinkRecipient::Phone(phone))
            }
            (_, Some(_), _, Some(_)) => Err(wrong_channel()),
            (_, _, Some(user_id), Some(channel)) if !user_id.is_empty() => {
                Ok(LinkRecipient::User { user_id, channel })
            }
            (_, _, Some(user_id), _) if user_id.is_empty() => {
                Err(ApiError::bad_request("user_id must not be empty"))
            }
            _ => Err(ApiError::bad_request("channel is required with user_id")),
        }
    }
}

/// `POST /apps/{app_id}/magic-links` -> 201 `{"magic_link": MagicLink}`.
pub async fn create_magic_link(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<MagicLinkRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let order = LinkOrder {
        recipient: body.recipient()?,
        send: body.send.unwrap_or(false),
        ttl_minutes: body.ttl,
        redirect_url: body.redirect_url.clone(),
        magic_link_path: body.magic_link_path.as_deref(),
    };
    let made = ctx
        .mutate(|state| create_backend_magic_link(state, &app_id, &order, now))
        .await?;
    let link = json!({
        "id": made.link.id,
        "secret": made.link.secret,
        "url": made.link.url,
        "activated": false,
        "app_id": app_id,
        "identifier": made.identifier,
        "redirect_url": made.redirect_url,
        "ttl": made.ttl_minutes,
        "type": body.link_type.unwrap_or_default(),
        "user_id": made.user_id,
    });
    Ok((StatusCode::CREATED, Json(json!({ "magic_link": link }))))
}
