//! The support code the generated client calls: what `progenitor-client`
//! provides to progenitor's output, written for this crate. The generator
//! rewrites every `progenitor_client::` path of its output to this module
//! (`codegen/src/postprocess.rs`), so the crate does not depend on
//! `progenitor-client`, whose unconditional `reqwest/stream` feature would put
//! tokio's `fs` into every user's build.
//!
//! Public through the crate root: [`ResponseValue`] (what every `send()`
//! returns), [`ByteStream`] (the body of answers the spec gives no schema) and
//! [`ClientInfo`]. The rest is the generated code's plumbing: [`Error`] never
//! leaves the crate (`send()` turns it into [`crate::Error`]).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::ser::{Impossible, SerializeSeq};
use serde::{Serialize, Serializer};

/// The chunks of an answer's body, as they arrive.
pub type InnerByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The body of an answer that the spec describes without a schema, unread.
pub struct ByteStream(InnerByteStream);

impl ByteStream {
    /// Wraps a stream of body chunks (for test fixtures).
    pub fn new(inner: InnerByteStream) -> Self {
        Self(inner)
    }

    /// The stream of body chunks.
    pub fn into_inner(self) -> InnerByteStream {
        self.0
    }

    /// The rest of `response`'s body, read chunk by chunk; once ended, it stays ended.
    fn of(response: reqwest::Response) -> Self {
        use futures_util::StreamExt;
        let chunks = futures_util::stream::unfold(Some(response), |state| async move {
            let mut response = state?;
            match response.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
                Ok(None) => None,
                // The stream ends after its first error.
                Err(e) => Some((Err(e), None)),
            }
        });
        Self(Box::pin(chunks.fuse()))
    }
}

impl Deref for ByteStream {
    type Target = InnerByteStream;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for ByteStream {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ByteStream")
    }
}

/// What every generated client tells about itself.
pub trait ClientInfo<Inner> {
    /// The `info.version` of the spec the client was generated from.
    fn api_version() -> &'static str;

    /// The URL every path is appended to.
    fn baseurl(&self) -> &str;

    /// The HTTP client requests go through.
    fn client(&self) -> &reqwest::Client;

    /// The client's own state (its credentials and retry policy).
    fn inner(&self) -> &Inner;
}

/// The operation a hook is called for.
#[derive(Debug, Clone, Copy)]
pub struct OperationInfo {
    /// The spec's `operationId`, in snake case.
    pub operation_id: &'static str,
}

/// The hooks every generated call runs: [`ClientHooks::pre`] once the request
/// is built, [`ClientHooks::exec`] to send it, [`ClientHooks::post`] with the
/// outcome. The defaults do nothing but send.
#[allow(async_fn_in_trait)]
pub trait ClientHooks<Inner = ()>
where
    Self: ClientInfo<Inner>,
{
    /// Runs before the request is sent (and may change it).
    async fn pre<E>(
        &self,
        _request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        Ok(())
    }

    /// Runs once the request is answered or failed.
    async fn post<E>(
        &self,
        _result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        Ok(())
    }

    /// Sends the request.
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.client().execute(request).await
    }
}

/// A decoded answer with its status and headers.
pub struct ResponseValue<T> {
    inner: T,
    status: StatusCode,
    headers: HeaderMap,
}

impl<T> ResponseValue<T> {
    /// An answer made of its parts (for test fixtures).
    pub fn new(inner: T, status: StatusCode, headers: HeaderMap) -> Self {
        Self {
            inner,
            status,
            headers,
        }
    }

    /// The decoded value.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The answer's HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The answer's `Content-Length`, when it has a valid one.
    pub fn content_length(&self) -> Option<u64> {
        self.headers
            .get(reqwest::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }

    /// The same answer with its value changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ResponseValue<U> {
        ResponseValue {
            inner: f(self.inner),
            status: self.status,
            headers: self.headers,
        }
    }

    /// Status and headers taken from `response`, which keeps its body.
    fn parts_of(response: &mut reqwest::Response) -> (StatusCode, HeaderMap) {
        // Moved, not cloned: reqwest set up the body's decoding when the answer arrived.
        (response.status(), std::mem::take(response.headers_mut()))
    }
}

impl<T: DeserializeOwned> ResponseValue<T> {
    /// Reads `response`'s body and decodes it from JSON.
    #[doc(hidden)]
    pub async fn from_response<E>(mut response: reqwest::Response) -> Result<Self, Error<E>> {
        let (status, headers) = Self::parts_of(&mut response);
        let body = response.bytes().await.map_err(Error::ResponseBodyError)?;
        match serde_json::from_slice(&body) {
            Ok(inner) => Ok(Self::new(inner, status, headers)),
            Err(e) => Err(Error::InvalidResponsePayload(body, e)),
        }
    }
}

impl ResponseValue<ByteStream> {
    /// Keeps `response`'s body unread, as a stream.
    #[doc(hidden)]
    pub fn stream(mut response: reqwest::Response) -> Self {
        let (status, headers) = Self::parts_of(&mut response);
        Self::new(ByteStream::of(response), status, headers)
    }

    /// The stream of body chunks.
    pub fn into_inner_stream(self) -> InnerByteStream {
        self.inner.into_inner()
    }
}

impl ResponseValue<()> {
    /// An answer whose body is not read.
    #[doc(hidden)]
    pub fn empty(mut response: reqwest::Response) -> Self {
        let (status, headers) = Self::parts_of(&mut response);
        Self::new((), status, headers)
    }
}

impl<T> Deref for ResponseValue<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for ResponseValue<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T> AsRef<T> for ResponseValue<T> {
    fn as_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for ResponseValue<T> {
    /// The value only (its secrets print redacted); headers can hold cookies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// How a generated call failed, before [`crate::Error`] takes it over.
// The variants' names and shapes are the ones progenitor's output constructs.
#[allow(clippy::enum_variant_names)]
pub enum Error<E = ()> {
    /// The request could not be built from the arguments.
    InvalidRequest(String),
    /// Sending the request or receiving the answer failed.
    CommunicationError(reqwest::Error),
    /// A documented error answer, decoded.
    ErrorResponse(ResponseValue<E>),
    /// The body of a documented answer could not be read.
    ResponseBodyError(reqwest::Error),
    /// The body of a documented answer is not the JSON the spec describes.
    InvalidResponsePayload(Bytes, serde_json::Error),
    /// An answer the spec does not list for the operation, unread.
    UnexpectedResponse(reqwest::Response),
}

impl<E> From<reqwest::Error> for Error<E> {
    fn from(e: reqwest::Error) -> Self {
        Self::CommunicationError(e)
    }
}

impl<E> From<reqwest::header::InvalidHeaderValue> for Error<E> {
    fn from(e: reqwest::header::InvalidHeaderValue) -> Self {
        Self::InvalidRequest(e.to_string())
    }
}

impl<E> From<std::convert::Infallible> for Error<E> {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl<E> fmt::Debug for Error<E> {
    /// The kind of failure and the status: never a body, a header or a URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, status) = match self {
            Error::InvalidRequest(_) => ("InvalidRequest", None),
            Error::CommunicationError(e) => ("CommunicationError", e.status()),
            Error::ErrorResponse(rv) => ("ErrorResponse", Some(rv.status())),
            Error::ResponseBodyError(e) => ("ResponseBodyError", e.status()),
            Error::InvalidResponsePayload(..) => ("InvalidResponsePayload", None),
            Error::UnexpectedResponse(r) => ("UnexpectedResponse", Some(r.status())),
        };
        let mut out = f.debug_struct(kind);
        if let Some(status) = status {
            out.field("status", &status.as_u16());
        }
        out.finish_non_exhaustive()
    }
}

/// The characters percent-encoded in a path segment: the URL standard's path
/// percent-encode set, plus `/` (a value must stay one segment) and `%` (so a
/// value is never read as an escape).
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// `value` as one percent-encoded path segment, encoded while it is written (no copy of the
/// value is made; the generator passes path parameters by reference, not as `to_string()`).
#[doc(hidden)]
pub fn encode_path<T: fmt::Display + ?Sized>(value: &T) -> PathSegment<'_, T> {
    PathSegment(value)
}

/// A path parameter that percent-encodes itself when displayed (see [`encode_path`]).
#[doc(hidden)]
pub struct PathSegment<'a, T: ?Sized>(&'a T);

impl<T: fmt::Display + ?Sized> fmt::Display for PathSegment<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Percent-encodes what is written through it.
        struct Encoding<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for Encoding<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                utf8_percent_encode(s, PATH_SEGMENT).try_for_each(|part| self.0.write_str(part))
            }
        }
        fmt::Write::write_fmt(&mut Encoding(f), format_args!("{}", self.0))
    }
}

/// What progenitor's output calls on a `reqwest::RequestBuilder`.
#[doc(hidden)]
pub trait RequestBuilderExt<E> {
    /// Sets `body` as an `application/x-www-form-urlencoded` body.
    // The signature is the one progenitor's output calls.
    #[allow(clippy::result_large_err)]
    fn form_urlencoded<T: Serialize + ?Sized>(
        self,
        body: &T,
    ) -> Result<reqwest::RequestBuilder, Error<E>>;
}

impl<E> RequestBuilderExt<E> for reqwest::RequestBuilder {
    fn form_urlencoded<T: Serialize + ?Sized>(self, body: &T) -> Result<Self, Error<E>> {
        // reqwest sets the content type; a body it cannot encode fails the request's `build()`.
        Ok(self.form(body))
    }
}

/// One query parameter, for `RequestBuilder::query`: a scalar is one
/// `name=value` pair, `None` none, a sequence one pair per element. Anything
/// else (maps, structs) is refused with an error naming the parameter; the
/// spec's lint allows only scalars and arrays of them in a query.
#[doc(hidden)]
pub struct QueryParam<'a, T> {
    name: &'a str,
    value: &'a T,
}

impl<'a, T> QueryParam<'a, T> {
    /// The parameter `name` with `value`.
    #[doc(hidden)]
    pub fn new(name: &'a str, value: &'a T) -> Self {
        Self { name, value }
    }
}

impl<T: Serialize> Serialize for QueryParam<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut pairs = serializer.serialize_seq(None)?;
        self.value.serialize(Pairs {
            name: self.name,
            out: &mut pairs,
        })?;
        pairs.end()
    }
}

/// Serialises a parameter's value as `(name, scalar)` elements of `out`.
struct Pairs<'n, 'o, Q> {
    name: &'n str,
    out: &'o mut Q,
}

impl<Q: SerializeSeq> Pairs<'_, '_, Q> {
    fn pair(self, value: impl Serialize) -> Result<(), Q::Error> {
        self.out.serialize_element(&(self.name, value))
    }

    fn refuse(self, what: &str) -> Q::Error {
        serde::ser::Error::custom(format_args!(
            "the query parameter `{}` is {what}, not a scalar or a sequence of scalars",
            self.name
        ))
    }
}

macro_rules! scalar {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<(), Q::Error> {
            self.pair(v)
        })*
    };
}

impl<Q: SerializeSeq> Serializer for Pairs<'_, '_, Q> {
    type Ok = ();
    type Error = Q::Error;
    type SerializeSeq = Self;
    type SerializeTuple = Impossible<(), Q::Error>;
    type SerializeTupleStruct = Impossible<(), Q::Error>;
    type SerializeTupleVariant = Impossible<(), Q::Error>;
    type SerializeMap = Impossible<(), Q::Error>;
    type SerializeStruct = Impossible<(), Q::Error>;
    type SerializeStructVariant = Impossible<(), Q::Error>;

    scalar!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_f32: f32, serialize_f64: f64, serialize_char: char,
        serialize_str: &str,
    );

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Q::Error> {
        Err(self.refuse("bytes"))
    }

    fn serialize_none(self) -> Result<(), Q::Error> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Q::Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Q::Error> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Q::Error> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Q::Error> {
        self.pair(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Q::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Q::Error> {
        Err(self.refuse("an enum variant with data"))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Q::Error> {
        Ok(self)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Q::Error> {
        Err(self.refuse("a tuple"))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Q::Error> {
        Err(self.refuse("a tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Q::Error> {
        Err(self.refuse("an enum variant with data"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Q::Error> {
        Err(self.refuse("a map"))
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Q::Error> {
        Err(self.refuse("a struct"))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Q::Error> {
        Err(self.refuse("an enum variant with data"))
    }
}

impl<Q: SerializeSeq> SerializeSeq for Pairs<'_, '_, Q> {
    type Ok = ();
    type Error = Q::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Q::Error> {
        value.serialize(Pairs {
            name: self.name,
            out: &mut *self.out,
        })
    }

    fn end(self) -> Result<(), Q::Error> {
        Ok(())
    }
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

    /// The query string `params` make, as reqwest builds it.
    fn query<T: Serialize>(params: &[QueryParam<'_, T>]) -> Result<String, String> {
        let mut request = reqwest::Client::new().get("http://127.0.0.1/x");
        for p in params {
            request = request.query(p);
        }
        let request = request.build().map_err(|e| format!("{e:?}"))?;
        Ok(request.url().query().unwrap_or("").to_owned())
    }

    #[tokio::test]
    async fn json_keeps_status_headers_and_value() {
        let value: ResponseValue<serde_json::Value> =
            ResponseValue::from_response::<()>(answer(201, r#"{"a":1}"#))
                .await
                .expect("decodes");
        assert_eq!(value.status(), 201);
        assert_eq!(value.headers()["x-request-id"], "r-1");
        assert_eq!(value.content_length(), None);
        assert_eq!(value.into_inner(), serde_json::json!({"a": 1}));
    }

    #[tokio::test]
    async fn a_body_of_another_shape_is_an_invalid_payload_with_the_body() {
        let error = ResponseValue::<Vec<u8>>::from_response::<()>(answer(200, r#"{"a":1}"#))
            .await
            .expect_err("not an array");
        match error {
            Error::InvalidResponsePayload(body, _) => assert_eq!(&body[..], br#"{"a":1}"#),
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_stream_yields_the_whole_body_then_ends() {
        use futures_util::StreamExt;
        let mut value = ResponseValue::stream(answer(302, "<html>moved</html>"));
        assert_eq!(value.status(), 302);
        assert_eq!(value.headers()["x-request-id"], "r-1");
        let mut body = Vec::new();
        while let Some(chunk) = value.next().await {
            body.extend_from_slice(&chunk.expect("chunk"));
        }
        assert_eq!(body, b"<html>moved</html>");
        assert!(value.next().await.is_none());
    }

    #[test]
    fn path_segments_stay_one_segment() {
        let encoded = |v: &dyn fmt::Display| encode_path(v).to_string();
        assert_eq!(encoded(&"app_1-x.y~z"), "app_1-x.y~z");
        assert_eq!(encoded(&"a/b c%d?e#f"), "a%2Fb%20c%25d%3Fe%23f");
        assert_eq!(encoded(&"é"), "%C3%A9");
        assert_eq!(encoded(&42), "42");
        // What a value writes in pieces is encoded piece by piece, to the same result.
        assert_eq!(encoded(&format_args!("{}/{}", "a b", "c")), "a%20b%2Fc");
        assert_eq!(
            format!("/apps/{}/users", encode_path(&String::from("x/y"))),
            "/apps/x%2Fy/users"
        );
    }

    #[test]
    fn query_parameters_are_scalars_options_and_sequences() {
        assert_eq!(
            query(&[QueryParam::new("state", &"a b&c")]),
            Ok("state=a+b%26c".into())
        );
        assert_eq!(query(&[QueryParam::new("n", &Some(3))]), Ok("n=3".into()));
        assert_eq!(
            query(&[QueryParam::new("n", &None::<u8>)]),
            Ok(String::new())
        );
        assert_eq!(
            query(&[QueryParam::new("id", &vec!["a", "b"])]),
            Ok("id=a&id=b".into())
        );
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum Method {
            S256,
        }
        assert_eq!(
            query(&[QueryParam::new("m", &Method::S256)]),
            Ok("m=s256".into())
        );
    }

    #[test]
    fn a_map_in_a_query_is_refused_by_name() {
        let map = std::collections::BTreeMap::from([("k", "v")]);
        let error = query(&[QueryParam::new("filter", &map)]).expect_err("a map");
        assert!(error.contains("filter"), "{error}");
    }

    #[test]
    fn errors_print_their_kind_and_status_only() {
        let secret = "psg_refresh_secret";
        let leaky: Error<String> = Error::ErrorResponse(ResponseValue::new(
            secret.to_owned(),
            StatusCode::UNAUTHORIZED,
            HeaderMap::new(),
        ));
        let text = format!("{leaky:?}");
        assert_eq!(text, "ErrorResponse { status: 401, .. }");
        let payload: Error = Error::InvalidResponsePayload(
            Bytes::from(secret),
            serde_json::from_str::<u8>("x").unwrap_err(),
        );
        assert!(!format!("{payload:?}").contains(secret));
    }
}
