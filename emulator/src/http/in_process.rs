//! Requests to an emulator in the same process, through its router, without a socket (what the
//! admin client's in-process transport uses).

use axum::body::Body;
use axum::http::{Request, Response};
use axum::Router;
use tower::ServiceExt;

/// An emulator's router, callable with plain requests and answers.
#[derive(Clone)]
pub struct InProcess {
    router: Router,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcess").finish_non_exhaustive()
    }
}

impl InProcess {
    /// Calls `router` in process.
    pub fn new(router: Router) -> Self {
        Self { router }
    }

    /// Sends `request` through the router (the same handlers and layers as over HTTP) and reads
    /// the whole answer; the error is a description of what failed.
    pub async fn call(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, String> {
        let response = self
            .router
            .clone()
            .oneshot(request.map(Body::from))
            .await
            .map_err(|e| e.to_string())?;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Response::from_parts(parts, bytes.to_vec()))
    }
}
