//! The router: every route of the `/v1` API, the `/_emulator` admin API and UI, and the layers
//! around them (the `Host` check, body limit, fault injection and the request log, CORS, and the
//! admin API's token and origin checks). Route modules never import
//! each other; this table is the one place that names them all.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{middleware, Json, Router};
use serde_json::json;

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::http::admin_guard::{admin_guard, browser_guard};
use crate::http::cors;
use crate::http::fault_injection::fault_middleware;
use crate::http::host_guard::host_guard;
use crate::http::routes::{
    admin, admin_apps, admin_transactions, admin_users, apps, currentuser, fake_provider,
    passwordless, social, tokens, ui, users, webauthn,
};

/// Builds the complete router (API, admin API, UI, fault middleware, CORS).
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
        .nest("/_emulator", admin_routes(ctx.clone()))
        .nest("/_emulator/ui", ui_routes(ctx.clone()))
        .fallback(no_route)
        .layer(axum::extract::DefaultBodyLimit::max(
            ctx.options.max_body_bytes,
        ))
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            fault_middleware,
        ))
        // Outside the faults and the request log: preflights are answered here and never consume a fault.
        .layer(cors::layer(ctx.clone()))
        .layer(middleware::from_fn(cors::preflight_no_content))
        // Outermost: a request for a host the emulator does not answer (DNS rebinding) gets nothing else.
        .layer(middleware::from_fn_with_state(ctx.clone(), host_guard))
        .with_state(ctx)
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
            "/apps/{app_id}/users",
            get(admin_users::list_users).post(admin_users::create_user),
        )
        .route(
            "/apps/{app_id}/users/{user_id}",
            get(admin_users::get_user)
                .patch(admin_users::update_user)
                .delete(admin_users::delete_user),
        )
        .route(
            "/apps/{app_id}/users/{user_id}/sessions",
            post(admin_users::create_session),
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
        .route(
            "/requests",
            get(admin::list_requests).delete(admin::clear_requests),
        )
        .route(
            "/apps/{app_id}/transactions",
            post(admin_transactions::create_transaction),
        )
        .route(
            "/apps/{app_id}/nonces/verify",
            post(admin_transactions::verify_nonce),
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
