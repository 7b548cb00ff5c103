//! The admin API's (and the UI's) access check, as a middleware: the configured token, or a
//! loopback bind without one.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::settings::admin_access::{admin_allowed, AdminRefusal, ADMIN_TOKEN_HEADER};

/// Refuses admin calls without the configured token (401), or on a non-loopback bind without a token
/// configured (403).
pub async fn admin_guard(State(ctx): State<Arc<Context>>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    match admin_allowed(&ctx.options.admin, presented) {
        Ok(()) => next.run(req).await,
        Err(AdminRefusal::BadToken) => {
            ApiError::invalid_access_token("missing or wrong x-emulator-admin-token")
                .into_response()
        }
        Err(AdminRefusal::NotLoopback) => ApiError::forbidden(
            "operation_not_allowed",
            "the admin API is disabled on a non-loopback address unless admin_token is configured",
        )
        .into_response(),
    }
}
