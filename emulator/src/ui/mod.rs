//! The emulator UI at `/_emulator/ui`: one server-rendered page for a developer clicking through their
//! own app (apps and their settings, users with their devices and sessions, the outbox with passcodes
//! and clickable magic links, the clock, faults and the request log).
//!
//! The page works without script for reading. Its small inline script (no build step) refreshes the
//! live parts from `GET /_emulator/ui/panels` (the same HTML, rendered per panel, as JSON) once a
//! second (`?refresh_ms=` changes that), and sends the buttons' and forms' actions to the `/_emulator`
//! admin API.
//!
//! Access follows the admin API's rule: open on a loopback bind without an admin token; with a token,
//! the page is served without any state and its script asks for the token, then sends it with every
//! call (`/panels` is guarded like the admin API); on a non-loopback bind without a token, refused.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use serde::Deserialize;

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::extract::ApiQuery;
use crate::settings::admin_access::{admin_allowed, AdminRefusal};

mod render;

/// The UI routes (mounted under `/_emulator/ui`).
pub fn router(ctx: Arc<Context>) -> Router<Arc<Context>> {
    Router::new()
        .route("/panels", get(panels))
        .route_layer(middleware::from_fn_with_state(
            ctx,
            crate::routes::admin::admin_guard,
        ))
        .route("/", get(page))
}

/// Query of the page.
#[derive(Debug, Deserialize)]
struct PageQuery {
    /// Milliseconds between live refreshes (clamped to 100..=60000; 1000 by default).
    #[serde(default)]
    refresh_ms: Option<u64>,
}

/// `GET /_emulator/ui[?refresh_ms=N]`: the whole page (or, when an admin token is required, the page
/// without state, which asks for the token).
async fn page(State(ctx): State<Arc<Context>>, ApiQuery(q): ApiQuery<PageQuery>) -> Response {
    let refresh_ms = q.refresh_ms.unwrap_or(1000).clamp(100, 60_000);
    // A browser navigating here cannot send the token header, so none is presented.
    let view = match admin_allowed(&ctx.options.admin, None) {
        Ok(()) => render::View::Full,
        Err(AdminRefusal::BadToken) => render::View::NeedsToken,
        Err(AdminRefusal::NotLoopback) => {
            return ApiError::forbidden(
                "operation_not_allowed",
                "the emulator UI is disabled on a non-loopback address unless admin_token is configured",
            )
            .into_response()
        }
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(render::page(&ctx, refresh_ms, view)),
    )
        .into_response()
}

/// `GET /_emulator/ui/panels` -> `{"<panel>": "<html>", ...}`, for the page's live refresh.
async fn panels(State(ctx): State<Arc<Context>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(render::panels(&ctx)),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use crate::context::Context;
    use crate::jwt::SigningKey;
    use crate::model::app::AppRecord;
    use crate::model::state::EmulatorState;
    use crate::settings::admin_access::AdminAccess;
    use crate::settings::admin_access::ADMIN_TOKEN_HEADER;
    use crate::settings::app::AppConfig;
    use crate::settings::instance::ServerOptions;

    const TOKEN: &str = "a-long-enough-admin-token";

    fn router(admin: AdminAccess) -> axum::Router {
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
        crate::routes::router(Arc::new(ctx))
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
        let router = router(AdminAccess::default());
        let (status, page) = get(&router, "/_emulator/ui", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Secret Name") && page.contains(r#"data-needs-token="0""#));
        let (status, panels) = get(&router, "/_emulator/ui/panels", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(panels.contains("Secret Name"));
    }

    #[tokio::test]
    async fn with_a_token_the_page_has_no_state_and_the_panels_need_the_token() {
        let router = router(AdminAccess {
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
        let router = router(AdminAccess {
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
