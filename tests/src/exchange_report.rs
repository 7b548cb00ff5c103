//! One request the emulator received and its answer, as a failing SDK step shows them: every
//! secret removed by the client runtime's one redaction mechanism (`passage_runtime::redact`,
//! re-exported as `passage_auth_client::redact`), so a report can print neither an API key, a
//! token, a passcode, a nonce nor a magic link.

use std::fmt::Write as _;

use axum::body::Bytes;
use passage_auth_client::redact::{redact_text, redact_url, RedactedBody, REDACTED};
use passage_emulator::Exchange;

/// The request headers a report shows (those that tell which client sent a request and how);
/// every other header is left out.
const SHOWN_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "cookie",
    "passage-flex-version",
    "passage-version",
    "user-agent",
];

/// `exchange` as a few indented lines: method, path (every query value redacted), status, the
/// identifying request headers (credentials and cookie values redacted) and both bodies.
pub fn exchange_report(exchange: &Exchange) -> String {
    let status = exchange
        .status
        .map_or("connection dropped".to_owned(), |s| s.to_string());
    let target = match &exchange.query {
        Some(query) => redact_url(&format!("{}?{query}", exchange.path)),
        None => exchange.path.clone(),
    };
    let mut text = format!("  {} {target} -> {status}\n", exchange.method);
    for (name, value) in &exchange.request_headers {
        if SHOWN_REQUEST_HEADERS.contains(&name.as_str()) {
            let _ = writeln!(text, "    {name}: {}", shown_header(name, value));
        }
    }
    if !exchange.request_body.is_empty() {
        let _ = writeln!(
            text,
            "    request body: {}",
            shown_body(&exchange.request_body)
        );
    }
    let _ = writeln!(text, "    answer body: {}", shown_body(&exchange.body));
    text
}

/// A request header's value: `Authorization` keeps only its scheme, a cookie only its names,
/// anything else goes through the text redaction.
fn shown_header(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization") {
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
                None => REDACTED.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    redact_text(value)
}

/// A JSON value (an SDK's answer or error) as a report shows it: through the same redaction as a
/// body.
pub fn redacted_json(value: &serde_json::Value) -> String {
    shown_body(value.to_string().as_bytes())
}

/// A line of a child process's output as a report shows it: token-like runs and passcode-like
/// digit runs removed.
pub fn redacted_line(line: &str) -> String {
    redact_text(line)
}

/// A body: `(empty)`, or the runtime's redacted view of it (secret-looking JSON members, token-like
/// runs and passcode-like digit runs removed, cut to its bound).
fn shown_body(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(empty)".to_owned();
    }
    RedactedBody::from_bytes(&Bytes::copy_from_slice(bytes))
        .as_str()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_secret_of_a_request_or_its_answer_is_shown() {
        let api_key = "key_ABCdef0123456789xyzXYZ";
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c3JfMTIzNDU2In0.c2lnbmF0dXJlU0lHTkFUVVJF";
        let exchange = Exchange::new(
            "POST",
            "/v1/apps/app/authenticate/verify",
            Some(200),
            Some("application/json".into()),
            format!(r#"{{"auth_token":"{jwt}","otp":"739953","external_id":"ext-1"}}"#)
                .into_bytes(),
            None,
        )
        .with_request(
            Some("code=oauthCODE123456789abc&page=1".into()),
            vec![
                ("authorization".into(), format!("Bearer {api_key}")),
                ("cookie".into(), format!("psg_auth_token={jwt}; theme=dark")),
                ("user-agent".into(), "passage-node".into()),
                ("x-other".into(), "not shown".into()),
            ],
            br#"{"nonce":"n0nceVALUE0123456789abcdef"}"#.to_vec(),
        );
        let report = exchange_report(&exchange);
        for secret in [
            api_key,
            jwt,
            "739953",
            "oauthCODE123456789abc",
            "n0nceVALUE0123456789abcdef",
        ] {
            assert!(!report.contains(secret), "{secret} shown in:\n{report}");
        }
        for shown in [
            "Bearer [redacted]",
            "psg_auth_token=[redacted]",
            "passage-node",
            "ext-1",
        ] {
            assert!(report.contains(shown), "{shown} missing from:\n{report}");
        }
        assert!(!report.contains("x-other"), "{report}");
    }

    #[test]
    fn sdk_values_and_output_lines_are_shown_without_their_secrets() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c3JfMTIzNDU2In0.c2lnbmF0dXJlU0lHTkFUVVJF";
        let link = "https://app.example/login?psg_magic_link=ml0123456789abcdefGHIJ";
        let values = serde_json::json!({"magic_link": {"url": link, "secret": "ml0123456789abcdefGHIJ"}, "user_id": "u1"});
        let shown = redacted_json(&values);
        assert!(!shown.contains("ml0123456789abcdefGHIJ"), "{shown}");
        assert!(shown.contains("u1"), "{shown}");
        let line = redacted_line(&format!("Traceback: token {jwt} and passcode 739953"));
        assert!(!line.contains(jwt) && !line.contains("739953"), "{line}");
    }
}
