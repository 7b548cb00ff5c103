//! Decoding of JSON answers, called by every generated `send()` in place of
//! progenitor's `ResponseValue::from_response` (the generator rewrites the
//! calls, see `codegen/src/postprocess.rs`): the same result, but the answer's
//! headers are moved into the [`ResponseValue`] instead of cloned.

use progenitor_client::{Error, ResponseValue};
use serde::de::DeserializeOwned;

/// Reads `response`'s body and decodes it as `T`, keeping its status and headers.
pub(crate) async fn json<T: DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, Error<E>> {
    let status = response.status();
    // The body no longer needs them: reqwest set up the decoding when the answer arrived.
    let headers = std::mem::take(response.headers_mut());
    let full = response.bytes().await.map_err(Error::ResponseBodyError)?;
    let inner =
        serde_json::from_slice(&full).map_err(|e| Error::InvalidResponsePayload(full, e))?;
    Ok(ResponseValue::new(inner, status, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &'static str) -> reqwest::Response {
        let response = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("x-request-id", "r-1")
            .body(body)
            .expect("response");
        reqwest::Response::from(response)
    }

    #[tokio::test]
    async fn keeps_status_headers_and_value() {
        let value: ResponseValue<serde_json::Value> = json::<_, ()>(answer(201, r#"{"a":1}"#))
            .await
            .expect("decodes");
        assert_eq!(value.status(), 201);
        assert_eq!(value.headers()["x-request-id"], "r-1");
        assert_eq!(value.into_inner(), serde_json::json!({"a": 1}));
    }

    #[tokio::test]
    async fn a_body_of_another_shape_is_an_invalid_payload_with_the_body() {
        let error = json::<Vec<u8>, ()>(answer(200, r#"{"a":1}"#))
            .await
            .expect_err("not an array");
        match error {
            Error::InvalidResponsePayload(body, _) => assert_eq!(&body[..], br#"{"a":1}"#),
            other => panic!("unexpected error {other:?}"),
        }
    }
}
