//! The routers: the emulator's listener serves the Auth API under `/v1`, the Management API under
//! `/management/v1`, the `/_emulator` admin API and UI; the intercepting proxy serves the Auth API
//! as `auth.passage.id` and the Management API as `api.passage.id` (each under `/v1`, nothing
//! else). Around them: the `Host` check, the body limit, fault injection and the request log (in
//! front of each API), CORS (Auth API only), and the admin API's token and origin checks. Route
//! modules never import each other; this table is the one place that names them all.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::{middleware, Json, Router};
use serde_json::json;

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::http::admin_guard::{admin_guard, browser_guard};
use crate::http::cors;
use crate::http::fault_injection::{fault_middleware, FaultScope};
use crate::http::host_guard::{host_guard, HostVerified};
use crate::http::routes::management::{
    access, apps as m_apps, devices as m_devices, magic_links as m_magic_links,
    transactions as m_transactions, users as m_users,
};
use crate::http::routes::{
    admin, admin_api_keys, admin_apps, admin_sessions, apps, currentuser, fake_provider,
    passwordless, social, tokens, ui, users, webauthn,
};
use crate::settings::intercept::PassageHost;
use crate::settings::urls::{AUTH_API_PREFIX, MANAGEMENT_API_PREFIX};

/// The emulator's listener: the Auth API (`/v1`), the Management API (`/management/v1`), the admin
/// API (`/_emulator`) and the UI (`/_emulator/ui`).
pub fn router(ctx: Arc<Context>) -> Router {
    let routes = Router::new()
        .nest(AUTH_API_PREFIX, auth_api(ctx.clone()))
        .nest(MANAGEMENT_API_PREFIX, management_api(ctx.clone()))
        .nest("/_emulator", admin_routes(ctx.clone()))
        .nest("/_emulator/ui", ui_routes(ctx.clone()))
        .fallback(no_route);
    with_outer_layers(routes, ctx, true)
}

/// What the intercepting proxy serves for `host`: the Auth API (`auth.passage.id`) or the
/// Management API (`api.passage.id`) under `/v1`, as Passage's service does; no admin API, no UI.
pub fn intercepted_host_router(ctx: Arc<Context>, host: PassageHost) -> Router {
    let (api, cors) = match host {
        PassageHost::Auth => (auth_api(ctx.clone()), true),
        PassageHost::Api => (management_api(ctx.clone()), false),
    };
    let routes = Router::new().nest("/v1", api).fallback(no_route);
    // The proxy only tunnels to the hosts it intercepts and refuses a `Host` naming another one
    // (421), so its requests pass the `Host` check as verified.
    with_outer_layers(routes, ctx, cors).layer(axum::Extension(HostVerified))
}

/// The layers around a router: the body limit, with `cors` CORS for the Auth API's `/v1` paths
/// (preflights are answered there and never consume a fault; the Management API, called with a
/// secret key from servers, allows no cross-origin calls), and outermost the `Host` check (a
/// request for a host the emulator does not answer, DNS rebinding, gets nothing else).
fn with_outer_layers(routes: Router<Arc<Context>>, ctx: Arc<Context>, cors: bool) -> Router {
    let routes = routes.layer(axum::extract::DefaultBodyLimit::max(
        ctx.options.max_body_bytes,
    ));
    let routes = if cors {
        routes
            .layer(cors::layer(ctx.clone()))
            .layer(middleware::from_fn(cors::preflight_no_content))
    } else {
        routes
    };
    routes
        .layer(middleware::from_fn_with_state(ctx.clone(), host_guard))
        .with_state(ctx)
}

/// Fault injection and the request log in front of one API (`prefix`: its prefix on the listener).
fn with_faults(
    api: Router<Arc<Context>>,
    ctx: Arc<Context>,
    prefix: &'static str,
) -> Router<Arc<Context>> {
    api.layer(middleware::from_fn_with_state(
        FaultScope { ctx, prefix },
        fault_middleware,
    ))
}

/// The Auth API's routes (paths below its `/v1`).
pub fn auth_api(ctx: Arc<Context>) -> Router<Arc<Context>> {
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
            delete(currentuser::delete_social_connection),
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
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed);
    with_faults(api, ctx, AUTH_API_PREFIX)
}

/// The Management API's routes (paths below its `/management/v1`, or `/v1` on `api.passage.id`):
/// every operation behind the API-key check ([`access`]), `get_app` also open to anonymous callers.
pub fn management_api(ctx: Arc<Context>) -> Router<Arc<Context>> {
    let keyed = Router::new()
        .route(
            "/apps/{app_id}/magic-links",
            post(m_magic_links::create_magic_link),
        )
        .route(
            "/apps/{app_id}/users",
            get(m_users::list_paginated_users).post(m_users::create_user),
        )
        .route(
            "/apps/{app_id}/users/{user_id}",
            get(m_users::get_user)
                .patch(m_users::update_user)
                .delete(m_users::delete_user),
        )
        .route(
            "/apps/{app_id}/users/{user_id}/activate",
            patch(m_users::activate_user),
        )
        .route(
            "/apps/{app_id}/users/{user_id}/deactivate",
            patch(m_users::deactivate_user),
        )
        .route(
            "/apps/{app_id}/users/{user_id}/devices",
            get(m_devices::list_user_devices),
        )
        .route(
            "/apps/{app_id}/users/{user_id}/devices/{device_id}",
            delete(m_devices::delete_user_device),
        )
        .route(
            "/apps/{app_id}/users/{user_id}/tokens",
            delete(m_devices::revoke_user_refresh_tokens),
        )
        .route(
            "/apps/{app_id}/transactions/register",
            post(m_transactions::create_register_transaction),
        )
        .route(
            "/apps/{app_id}/transactions/authenticate",
            post(m_transactions::create_authenticate_transaction),
        )
        .route(
            "/apps/{app_id}/authenticate/verify",
            post(m_transactions::authenticate_verify_nonce),
        )
        .route_layer(middleware::from_fn_with_state(
            ctx.clone(),
            access::require_api_key,
        ));
    let open = Router::new()
        .route("/apps/{app_id}", get(m_apps::get_app))
        .route_layer(middleware::from_fn_with_state(
            ctx.clone(),
            access::allow_anonymous,
        ));
    let api = keyed
        .merge(open)
        .fallback(access::no_route)
        .method_not_allowed_fallback(access::method_not_allowed);
    with_faults(api, ctx, MANAGEMENT_API_PREFIX)
}

/// The admin routes (mounted under `/_emulator`).
fn admin_routes(ctx: Arc<Context>) -> Router<Arc<Context>> {
    Router::new()
        .route(
            "/apps",
            get(admin_apps::list_apps).post(admin_apps::create_app),
        )
        .route("/reset", post(admin::reset))
        .route("/apps/{app_id}", patch(admin_apps::update_app))
        .route(
            "/apps/{app_id}/api-keys",
            get(admin_api_keys::list_api_keys).post(admin_api_keys::create_api_key),
        )
        .route(
            "/apps/{app_id}/api-keys/{key_id}",
            delete(admin_api_keys::revoke_api_key),
        )
        .route(
            "/apps/{app_id}/users/{user_id}/sessions",
            post(admin_sessions::create_session),
        )
        .route("/apps/{app_id}/rotate-key", post(admin_apps::rotate_key))
        .route("/clock", get(admin::get_clock))
        .route("/clock/advance", post(admin::advance_clock))
        .route(
            "/outbox",
            get(admin::get_outbox).delete(admin::clear_outbox),
        )
        .route(
            "/faults",
            get(admin::list_faults)
                .post(admin::add_fault)
                .delete(admin::clear_faults),
        )
        .route("/faults/release", post(admin::release_held_answers))
        .route(
            "/requests",
            get(admin::list_requests).delete(admin::clear_requests),
        )
        .route("/fake-provider/id-token", post(fake_provider::id_token))
        .route_layer(middleware::from_fn_with_state(ctx, admin_guard))
        .route_layer(middleware::from_fn(browser_guard))
        // Not admin calls: the health probe and the fake provider's page, which browsers reach in a
        // social login (no admin token to send).
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/fake-provider/authorize", get(fake_provider::authorize))
}

/// The UI routes (mounted under `/_emulator/ui`): the page itself is served without the admin
/// check (it asks for the token when one is needed), its panels are guarded like the admin API;
/// both refuse other web pages ([`browser_guard`]).
fn ui_routes(ctx: Arc<Context>) -> Router<Arc<Context>> {
    Router::new()
        .route("/panels", get(ui::panels))
        .route_layer(middleware::from_fn_with_state(ctx, admin_guard))
        .route("/", get(ui::page))
        .route_layer(middleware::from_fn(browser_guard))
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::router;
    use crate::context::Context;
    use crate::jwt::SigningKey;
    use crate::model::app::AppRecord;
    use crate::model::state::EmulatorState;
    use crate::settings::admin_access::AdminAccess;
    use crate::settings::admin_access::ADMIN_TOKEN_HEADER;
    use crate::settings::app::AppConfig;
    use crate::settings::instance::ServerOptions;

    const TOKEN: &str = "a-long-enough-admin-token";

    fn with_admin_access(admin: AdminAccess) -> axum::Router {
        let mut state = EmulatorState::default();
        let config = AppConfig {
            name: "Secret Name".into(),
            ..AppConfig::default()
        };
        let key = SigningKey::default_key().expect("key");
        state
            .apps
            .insert(config.id.clone(), AppRecord::new(config, key));
        let ctx =
            Context::new(state, "http://127.0.0.1:1".into(), None).with_options(ServerOptions {
                admin,
                ..ServerOptions::default()
            });
        router(Arc::new(ctx))
    }

    async fn get(router: &axum::Router, uri: &str, token: Option<&str>) -> (StatusCode, String) {
        let mut req = Request::get(uri);
        if let Some(t) = token {
            req = req.header(ADMIN_TOKEN_HEADER, t);
        }
        let resp = router
            .clone()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("answer");
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn open_on_loopback_without_a_token() {
        let router = with_admin_access(AdminAccess::default());
        let (status, page) = get(&router, "/_emulator/ui", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Secret Name") && page.contains(r#"data-needs-token="0""#));
        let (status, panels) = get(&router, "/_emulator/ui/panels", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(panels.contains("Secret Name"));
    }

    #[tokio::test]
    async fn with_a_token_the_page_has_no_state_and_the_panels_need_the_token() {
        let router = with_admin_access(AdminAccess {
            token: Some(TOKEN.into()),
            loopback_bind: true,
        });
        let (status, page) = get(&router, "/_emulator/ui", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(r#"data-needs-token="1""#));
        assert!(!page.contains("Secret Name"));
        for wrong in [None, Some("not-the-admin-token")] {
            let (status, panels) = get(&router, "/_emulator/ui/panels", wrong).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert!(!panels.contains("Secret Name"));
        }
        let (status, panels) = get(&router, "/_emulator/ui/panels", Some(TOKEN)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(panels.contains("Secret Name"));
    }

    #[tokio::test]
    async fn refused_beyond_loopback_without_a_token() {
        let router = with_admin_access(AdminAccess {
            token: None,
            loopback_bind: false,
        });
        for uri in ["/_emulator/ui", "/_emulator/ui/panels"] {
            let (status, body) = get(&router, uri, None).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
            assert!(body.contains("operation_not_allowed") && !body.contains("Secret Name"));
        }
    }
}
