//! The redirect answer (302 with `Location`) of the browser legs of a social login.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A 302 to `location`.
pub fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}
