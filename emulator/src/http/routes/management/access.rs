//! The Management API's access check, as middleware in front of its operations: the app must exist
//! (404 `app_not_found`), then the `Authorization` header must carry one of its API keys (401
//! `invalid_access_token`); `get_app` also admits a request without the header.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::domain::api_keys::{authorize, KeyRequirement};
use crate::http::extract::{authorization, ApiPath};

/// Checks the caller of an operation that requires the API key.
pub async fn require_api_key(
    State(ctx): State<Arc<Context>>,
    ApiPath(path): ApiPath<HashMap<String, String>>,
    req: Request,
    next: Next,
) -> Response {
    check(&ctx, &path, req, next, KeyRequirement::Required).await
}

/// Checks the caller of `get_app`, which also admits anonymous requests.
pub async fn allow_anonymous(
    State(ctx): State<Arc<Context>>,
    ApiPath(path): ApiPath<HashMap<String, String>>,
    req: Request,
    next: Next,
) -> Response {
    check(&ctx, &path, req, next, KeyRequirement::AnonymousAllowed).await
}

async fn check(
    ctx: &Context,
    path: &HashMap<String, String>,
    req: Request,
    next: Next,
    requirement: KeyRequirement,
) -> Response {
    let app_id = path.get("app_id").map(String::as_str).unwrap_or_default();
    let allowed = {
        let state = ctx.lock();
        state
            .app(app_id)
            .and_then(|app| authorize(app, authorization(req.headers()), requirement))
    };
    match allowed {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// 404 `invalid_request` for a path under the Management API that names no operation.
pub async fn no_route() -> ApiError {
    ApiError::not_found("invalid_request", "no such route in the Management API")
}

/// 405 `invalid_request` for an operation's path with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "method not allowed on this route",
    )
}
