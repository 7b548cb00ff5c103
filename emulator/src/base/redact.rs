//! `Debug` implementations that print only the non-secret fields of a type.

/// Implements `Debug` for `$ty` printing only the listed fields (the rest shows as `..`).
macro_rules! redacted_debug {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use redacted_debug;

/// What replaces a secret value.
pub const REDACTED: &str = "[redacted]";

/// Members of a JSON body whose string value is a secret, in either direction: tokens, passcodes,
/// magic links and their secrets, nonces, OAuth codes. (`code` is also the error code of every
/// error body, which is no secret; [`redact_json`] keeps it there.)
const SECRET_MEMBERS: &[&str] = &[
    "auth_token",
    "refresh_token",
    "id_token",
    "access_token",
    "otp",
    "magic_link",
    "secret",
    "nonce",
    "code",
    "code_verifier",
    "verifier",
    "api_key",
    "key",
    "token",
];

/// Query parameters whose value is a secret (OAuth codes and PKCE verifiers, refresh tokens,
/// magic links, link tokens).
const SECRET_PARAMETERS: &[&str] = &[
    "code",
    "verifier",
    "code_verifier",
    "refresh_token",
    "token",
    "link_token",
    "psg_magic_link",
    "state",
];

/// The magic-link parameter every link URL carries.
const MAGIC_LINK_PARAMETER: &str = "psg_magic_link=";

/// `value` with every secret replaced by [`REDACTED`]: the string values of the secret members
/// (at any depth; an object's `code` only when it is not an error body, which has `error` next to
/// it), anything shaped like a JWT, and the secret of a magic-link URL.
pub fn redact_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(members) => {
            let is_error_body = members.contains_key("error");
            for (name, member) in members.iter_mut() {
                let secret =
                    SECRET_MEMBERS.contains(&name.as_str()) && !(is_error_body && name == "code");
                match member {
                    Value::String(text) if secret => *text = REDACTED.to_owned(),
                    other => redact_json(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(text) => *text = redact_text(text),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `text` with a JWT-shaped whole replaced, and the value of every `psg_magic_link=` parameter in it.
pub fn redact_text(text: &str) -> String {
    if looks_like_jwt(text) {
        return REDACTED.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MAGIC_LINK_PARAMETER) {
        let value_start = at + MAGIC_LINK_PARAMETER.len();
        out.push_str(&rest[..value_start]);
        out.push_str(REDACTED);
        let value_len = rest[value_start..]
            .find(['&', '#', '"', ' '])
            .unwrap_or(rest.len() - value_start);
        rest = &rest[value_start + value_len..];
    }
    out.push_str(rest);
    out
}

/// A query string (`a=1&b=2`, without `?`) with the values of the secret parameters, and any
/// JWT-shaped value, replaced.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => {
                if SECRET_PARAMETERS.contains(&name) || looks_like_jwt(value) {
                    format!("{name}={REDACTED}")
                } else {
                    format!("{name}={}", redact_text(value))
                }
            }
            None => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A request header's value as it may be shown: the credential of `Authorization` (its scheme
/// kept) and the value of every cookie are replaced; other values are redacted as text.
pub fn redact_header(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("proxy-authorization")
    {
        return match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_owned(),
        };
    }
    if name.eq_ignore_ascii_case("cookie") {
        return value
            .split(';')
            .map(|cookie| match cookie.split_once('=') {
                Some((cookie_name, _)) => format!("{}={REDACTED}", cookie_name.trim()),
                None => cookie.trim().to_owned(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    redact_text(value)
}

/// Whether `text` has the shape of a compact JWS: three base64url parts, the first a JSON object.
fn looks_like_jwt(text: &str) -> bool {
    let parts: Vec<&str> = text.trim().split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_secrets_are_redacted_at_any_depth_but_error_codes_stay() {
        let mut body = json!({
            "auth_result": {"auth_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln", "refresh_token": "rt-1", "redirect_url": "/"},
            "magic_link": {"id": "ml_1", "secret": "s3cret", "url": "https://app.example/login?psg_magic_link=s3cret&x=1"},
            "otp": "123456",
            "nonce": "n-1",
            "items": [{"code": "oauth-code"}],
            "note": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln",
        });
        redact_json(&mut body);
        assert_eq!(
            body,
            json!({
                "auth_result": {"auth_token": REDACTED, "refresh_token": REDACTED, "redirect_url": "/"},
                "magic_link": {"id": "ml_1", "secret": REDACTED, "url": "https://app.example/login?psg_magic_link=[redacted]&x=1"},
                "otp": REDACTED,
                "nonce": REDACTED,
                "items": [{"code": REDACTED}],
                "note": REDACTED,
            })
        );
        let mut error = json!({"code": "invalid_request", "error": "bad"});
        redact_json(&mut error);
        assert_eq!(error, json!({"code": "invalid_request", "error": "bad"}));
    }

    #[test]
    fn queries_and_headers_keep_their_shape() {
        assert_eq!(
            redact_query("code=abc&verifier=v&page=1&limit=1&identifier=ada%40example.com"),
            "code=[redacted]&verifier=[redacted]&page=1&limit=1&identifier=ada%40example.com"
        );
        assert_eq!(
            redact_header("Authorization", "Bearer key-1"),
            "Bearer [redacted]"
        );
        assert_eq!(redact_header("authorization", "key-1"), REDACTED);
        assert_eq!(
            redact_header("Cookie", "psg_auth_token=abc; theme=dark"),
            "psg_auth_token=[redacted]; theme=[redacted]"
        );
        assert_eq!(redact_header("user-agent", "jose/v5.10.0"), "jose/v5.10.0");
    }
}
