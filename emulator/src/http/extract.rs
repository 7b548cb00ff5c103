//! Request extractors whose rejections are API errors (400 `invalid_request`), never axum's plain text.

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use crate::base::api_error::{field_error_text, json_error_text, ApiError};

/// A JSON body of the Auth or Management API: malformed JSON, missing fields and a body that is
/// not a JSON object give 400 `invalid_request` (optional members that must not be `null` say so
/// with [`not_null`]).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        decode_body(&read_body(req, state).await?, ApiRules::Yes, || None).map(ApiJson)
    }
}

/// An optional JSON body of the Auth or Management API: an empty body gives `T::default()`, any
/// other is held to [`ApiJson`]'s rules.
#[derive(Debug, Clone)]
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        decode_body(&read_body(req, state).await?, ApiRules::Yes, || {
            Some(T::default())
        })
        .map(OptionalJson)
    }
}

/// A JSON body as serde reads it (`null` for an absent option included), for the admin API and
/// the fake identity provider, which are not Passage's APIs; an empty body gives `T::default()`
/// when `T` has one (see [`PlainOptionalJson`]).
#[derive(Debug, Clone)]
pub struct PlainJson<T>(pub T);

impl<S, T> FromRequest<S> for PlainJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        decode_body(&read_body(req, state).await?, ApiRules::No, || None).map(PlainJson)
    }
}

/// An optional [`PlainJson`] body: an empty body gives `T::default()`.
#[derive(Debug, Clone)]
pub struct PlainOptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for PlainOptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        decode_body(&read_body(req, state).await?, ApiRules::No, || {
            Some(T::default())
        })
        .map(PlainOptionalJson)
    }
}

/// Whether a body is held to the Passage APIs' shape ([`check_api_body`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ApiRules {
    Yes,
    No,
}

/// The one decoding of the JSON extractors: an empty (or all-whitespace) body gives `empty()`
/// when that is `Some`, else the body is checked under `rules` and parsed.
fn decode_body<T: DeserializeOwned>(
    bytes: &[u8],
    rules: ApiRules,
    empty: impl FnOnce() -> Option<T>,
) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        if let Some(value) = empty() {
            return Ok(value);
        }
    }
    if rules == ApiRules::Yes {
        check_api_body(bytes)?;
    }
    parse_json(bytes)
}

/// The shape every request body of the two APIs has: a JSON object (the specs declare no other).
fn check_api_body(bytes: &[u8]) -> Result<(), ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => Err(ApiError::bad_request(
            "invalid JSON body: the body must be a JSON object",
        )),
    }
}

/// For `#[serde(default, deserialize_with = "not_null")]` on an optional member the specs do not
/// declare nullable: absent is `None`, `null` is an error (400 `invalid_request`), like any other
/// value of the wrong type.
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Query parameters; missing or malformed ones give 400 `invalid_request`.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded_from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::bad_request(format!("invalid query parameters: {e}")))
    }
}

/// An `application/x-www-form-urlencoded` body; bad forms give 400 `invalid_request`.
#[derive(Debug, Clone)]
pub struct ApiForm<T>(pub T);

impl<S, T> FromRequest<S> for ApiForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ApiError::bad_request("form body is not UTF-8"))?;
        serde_urlencoded_from_str(text)
            .map(ApiForm)
            .map_err(|e| ApiError::bad_request(format!("invalid form body: {e}")))
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_urlencoded::from_str(text).map_err(|e| field_error_text(&e.to_string()))
}

/// Parses a JSON body; failures name at most the field, never the submitted value.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {}", json_error_text(&e))))
}

/// Reads the whole request body; over the configured limit (`max_body_bytes`) it is 413.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e| unreadable_body(e.status() == StatusCode::PAYLOAD_TOO_LARGE))
}

/// The error of a request body that could not be read: 413 when it is over the configured limit
/// (`too_large`), 400 otherwise.
pub fn unreadable_body(too_large: bool) -> ApiError {
    if too_large {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the request body is too large",
        )
    } else {
        ApiError::bad_request("could not read the request body")
    }
}

/// Path parameters (a string or a tuple of strings).
///
/// A parameter whose percent-encoding is not UTF-8 (`/v1/apps/%ff%fe`) is read with U+FFFD in place
/// of the bad bytes: no id holds that character, so the operation answers as for any unknown id
/// (404 `app_not_found`, ...), a status every operation declares, instead of a 400 that seven
/// operations do not. Other undecodable parameters give 400 `invalid_request`.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = || ApiError::bad_request("invalid path parameters");
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(path) => Ok(ApiPath(path.0)),
            Err(PathRejection::FailedToDeserializePathParams(e))
                if matches!(e.kind(), ErrorKind::InvalidUtf8InPathParam { .. }) =>
            {
                lossy_path_params(parts)
                    .and_then(|params| {
                        let value = match <[String; 1]>::try_from(params) {
                            Ok([one]) => serde_json::Value::from(one),
                            Err(many) => serde_json::Value::from(many),
                        };
                        serde_json::from_value(value).ok()
                    })
                    .map(ApiPath)
                    .ok_or_else(invalid)
            }
            Err(_) => Err(invalid()),
        }
    }
}

/// The request's path parameters, in order, percent-decoded with invalid UTF-8 replaced by U+FFFD:
/// the segments of the request path under the `{name}` segments of the route it matched. The two
/// are lined up from their ends: inside a nested router the path has lost the nest's prefix, the
/// matched route has not.
fn lossy_path_params(parts: &Parts) -> Option<Vec<String>> {
    let route: Vec<&str> = parts
        .extensions
        .get::<MatchedPath>()?
        .as_str()
        .split('/')
        .collect();
    let path: Vec<&str> = parts.uri.path().split('/').collect();
    let mut params: Vec<String> = route
        .iter()
        .rev()
        .zip(path.iter().rev())
        .filter(|(segment, _)| segment.starts_with('{') && segment.ends_with('}'))
        .map(|(_, value)| percent_decode_str(value).decode_utf8_lossy().into_owned())
        .collect();
    params.reverse();
    Some(params)
}

/// The `Authorization` header's value, when it is there and readable (the domain checks it is a
/// bearer token).
pub fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}
