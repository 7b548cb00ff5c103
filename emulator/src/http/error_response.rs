//! The answer of an [`ApiError`]: its status with `{"code": ..., "error": ...}`.

use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::base::api_error::ApiError;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "error": self.message });
        (self.status, Json(body)).into_response()
    }
}
