//! How generated calls put values into a request: path parameters
//! percent-encoded as one segment ([`encode_path`]), query parameters as
//! scalars or sequences ([`QueryParam`]), form bodies
//! ([`RequestBuilderExt::form_urlencoded`]).

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::ser::{Impossible, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::call_error::CallError;

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
                // Most values (ids) are made of unreserved characters, none of which
                // PATH_SEGMENT escapes: one scan, then written as they are.
                let unreserved =
                    |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
                if s.bytes().all(unreserved) {
                    return self.0.write_str(s);
                }
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
    ) -> Result<reqwest::RequestBuilder, CallError<E>>;
}

impl<E> RequestBuilderExt<E> for reqwest::RequestBuilder {
    fn form_urlencoded<T: Serialize + ?Sized>(self, body: &T) -> Result<Self, CallError<E>> {
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

    /// The query string `params` make, as reqwest builds it.
    fn query<T: Serialize>(params: &[QueryParam<'_, T>]) -> Result<String, String> {
        let mut request = reqwest::Client::new().get("http://127.0.0.1/x");
        for p in params {
            request = request.query(p);
        }
        let request = request.build().map_err(|e| format!("{e:?}"))?;
        Ok(request.url().query().unwrap_or("").to_owned())
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
}
