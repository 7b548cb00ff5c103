//! Reading a JWT's `exp` claim *without* verifying the token: enough to
//! decide when to refresh it (verification is [`crate::verify`]'s job).

use base64::Engine as _;
use passage_runtime::clock::numeric_date;

/// The `exp` claim (Unix seconds) of a JWT, if it has one that can be read.
pub(crate) fn unverified_expiry(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    #[derive(serde::Deserialize)]
    struct Exp {
        exp: Option<serde_json::Number>,
    }
    let claims: Exp = serde_json::from_slice(&bytes).ok()?;
    numeric_date(&claims.exp?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"RS256"}"#),
            e.encode(payload)
        )
    }

    #[test]
    fn reads_exp() {
        assert_eq!(
            unverified_expiry(&jwt(r#"{"exp":1700000000,"sub":"u"}"#)),
            Some(1_700_000_000)
        );
        assert_eq!(
            unverified_expiry(&jwt(r#"{"exp":1700000000.5}"#)),
            Some(1_700_000_000)
        );
    }

    #[test]
    fn no_exp_or_not_a_jwt() {
        assert_eq!(unverified_expiry(&jwt(r#"{"sub":"u"}"#)), None);
        assert_eq!(unverified_expiry("opaque-token"), None);
        assert_eq!(unverified_expiry("a.b.c.d"), None);
        assert_eq!(unverified_expiry("a.!!!.c"), None);
    }
}
