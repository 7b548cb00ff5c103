//! HTTP routes: the `/v1` API of the spec and the `/_emulator` admin API.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{middleware, Router};

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::http::fault_injection::fault_middleware;

pub mod admin;
pub mod admin_users;
pub mod apps;
pub mod currentuser;
pub mod passwordless;
pub mod social;
pub mod tokens;
pub mod users;
pub mod webauthn;

/// Builds the complete router (API, admin API, fault middleware).
pub fn router(ctx: Arc<Context>) -> Router {
    let api = Router::new()
        .route("/apps/{app_id}", get(apps::get_app))
        .route("/apps/{app_id}/.well-known/jwks.json", get(apps::get_jwks))
        .route(
            "/apps/{app_id}/.well-known/openid-configuration",
            get(apps::get_openid_configuration),
        )
        .route(
            "/apps/{app_id}/currentuser",
            get(currentuser::get_currentuser),
        )
        .route(
            "/apps/{app_id}/currentuser/devices",
            get(currentuser::list_devices),
        )
        .route(
            "/apps/{app_id}/currentuser/devices/start",
            post(webauthn::add_device_start),
        )
        .route(
            "/apps/{app_id}/currentuser/devices/finish",
            post(webauthn::add_device_finish),
        )
        .route(
            "/apps/{app_id}/currentuser/devices/{device_id}",
            patch(currentuser::update_device).delete(currentuser::delete_device),
        )
        .route(
            "/apps/{app_id}/currentuser/email",
            patch(currentuser::update_email),
        )
        .route(
            "/apps/{app_id}/currentuser/phone",
            patch(currentuser::update_phone),
        )
        .route(
            "/apps/{app_id}/currentuser/user-metadata",
            get(currentuser::get_metadata).patch(currentuser::update_metadata),
        )
        .route(
            "/apps/{app_id}/currentuser/social-connections",
            get(currentuser::list_social_connections),
        )
        .route(
            "/apps/{app_id}/currentuser/social-connections/{social_connection_type}",
            axum::routing::delete(currentuser::delete_social_connection),
        )
        .route(
            "/apps/{app_id}/currentuser/social/link_account",
            get(social::link_account),
        )
        .route(
            "/apps/{app_id}/login/magic-link",
            post(passwordless::login_magic_link),
        )
        .route("/apps/{app_id}/login/otp", post(passwordless::login_otp))
        .route(
            "/apps/{app_id}/login/webauthn/start",
            post(webauthn::login_start),
        )
        .route(
            "/apps/{app_id}/login/webauthn/finish",
            post(webauthn::login_finish),
        )
        .route(
            "/apps/{app_id}/magic-link/activate",
            patch(passwordless::activate_magic_link),
        )
        .route(
            "/apps/{app_id}/magic-link/status",
            post(passwordless::magic_link_status),
        )
        .route(
            "/apps/{app_id}/otp/activate",
            post(passwordless::activate_otp),
        )
        .route(
            "/apps/{app_id}/register/magic-link",
            post(passwordless::register_magic_link),
        )
        .route(
            "/apps/{app_id}/register/otp",
            post(passwordless::register_otp),
        )
        .route(
            "/apps/{app_id}/register/webauthn/start",
            post(webauthn::register_start),
        )
        .route(
            "/apps/{app_id}/register/webauthn/finish",
            post(webauthn::register_finish),
        )
        .route(
            "/apps/{app_id}/tokens",
            post(tokens::refresh).delete(tokens::revoke),
        )
        .route(
            "/apps/{app_id}/users",
            get(users::check_identifier).post(users::create_user),
        )
        .route("/apps/{app_id}/social/authorize", get(social::authorize))
        .route(
            "/apps/{app_id}/social/oauth2_callback",
            get(social::callback).post(social::apple_callback),
        )
        .route("/apps/{app_id}/social/token", get(social::exchange_token))
        .route(
            "/apps/{app_id}/social/id_token",
            post(social::exchange_id_token),
        )
        .route(
            "/apps/{app_id}/authenticate/transactions/webauthn/start",
            post(webauthn::transaction_login_start),
        )
        .route(
            "/apps/{app_id}/authenticate/transactions/webauthn/finish",
            post(webauthn::transaction_login_finish),
        )
        .route(
            "/apps/{app_id}/register/transactions/webauthn/start",
            post(webauthn::transaction_register_start),
        )
        .route(
            "/apps/{app_id}/register/transactions/webauthn/finish",
            post(webauthn::transaction_register_finish),
        )
        .route(
            "/social/oauth2_callback",
            get(social::callback_default_dev).post(social::apple_callback_default_dev),
        )
        .route(
            "/analytics/passkey-readiness",
            post(apps::passkey_readiness),
        )
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/v1", api)
        .nest("/_emulator", admin::router(ctx.clone()))
        .nest("/_emulator/ui", crate::ui::router(ctx.clone()))
        .fallback(no_route)
        .layer(axum::extract::DefaultBodyLimit::max(
            ctx.options.max_body_bytes,
        ))
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            fault_middleware,
        ))
        // Outside the faults and the request log: preflights are answered here and never consume a fault.
        .layer(crate::http::cors::layer(ctx.clone()))
        .layer(middleware::from_fn(crate::http::cors::preflight_no_content))
        .with_state(ctx)
}

async fn no_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "invalid_request", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "method not allowed on this route",
    )
}
