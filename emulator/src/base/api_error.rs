//! The API error model: every failure is `{"code": ..., "error": ...}` with an HTTP status (the
//! answer itself is made in [`crate::http`]).

use ::http::StatusCode;

/// An error answer of the emulated API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code from the spec's `ApiErrorCode` list.
    pub code: &'static str,
    /// Human-readable message (never contains secrets).
    pub message: String,
}

/// Result type of the route handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401 with the given code.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403 with the given code.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404 with the given code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409 with the given code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 404 `app_not_found`.
    pub fn app_not_found() -> Self {
        Self::not_found("app_not_found", "app not found")
    }

    /// 404 `user_not_found`.
    pub fn user_not_found() -> Self {
        Self::not_found("user_not_found", "user not found")
    }

    /// 401 `invalid_access_token`.
    pub fn invalid_access_token(message: impl Into<String>) -> Self {
        Self::unauthorized("invalid_access_token", message)
    }

    /// 500 `internal_server_error`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            message,
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// Describes a JSON deserialisation error without echoing the (possibly secret) input.
pub(crate) fn json_error_text(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match err.classify() {
        Category::Data => {
            let text = err.to_string();
            let text = text.find(" at line").map_or(text.as_str(), |i| &text[..i]);
            field_error_text(text)
        }
        Category::Syntax => "malformed JSON".to_owned(),
        Category::Eof => "truncated JSON".to_owned(),
        Category::Io => "unreadable body".to_owned(),
    }
}

/// Keeps deserialisation messages that only name fields; replaces ones that could echo a value.
pub(crate) fn field_error_text(text: &str) -> String {
    if text.starts_with("missing field") || text.starts_with("unknown field") {
        text.to_owned()
    } else {
        "a field has an invalid type or value".to_owned()
    }
}
