//! The one redaction mechanism of the crate.
//!
//! Two layers, applied to everything an [`Error`](crate::Error) can print:
//!
//! 1. **The request's own secrets** (`RequestSecrets`): the pipeline collects
//!    the values a request carried in secret places (the bearer token, the
//!    API key, secret query parameters and body fields, all read from the
//!    spec's operation table). Every occurrence of those values, raw,
//!    percent-encoded or JSON-escaped, is replaced, so a server that echoes
//!    a refresh token or a magic link in its message cannot make the error
//!    print it; so is every word holding a piece of one at least
//!    [`MIN_FRAGMENT`] bytes long (a server that echoes a shortened token).
//! 2. **Anything that looks secret**: JSON values under secret-looking keys,
//!    runs of 20 or more token characters (JWTs, opaque tokens) and runs of 6
//!    or more digits (passcodes), whatever the request carried.
//!
//! Bodies are scrubbed before they are cut to [`MAX_SHOWN`] bytes, so a cut
//! never leaves the start of a secret behind.

use std::fmt;

use bytes::Bytes;

/// The placeholder every redacted value becomes.
pub const REDACTED: &str = "[redacted]";

/// How much of a body an error shows, in bytes.
pub const MAX_SHOWN: usize = 512;

/// Secrets shorter than this are not searched for (they would match ordinary
/// text); the spec's secrets are all longer.
const MIN_SECRET_LEN: usize = 4;

/// The shortest piece of a request's secret that is recognised, and
/// scrubbed, on its own.
pub const MIN_FRAGMENT: usize = 12;

/// Values one request carried in secret places. Never printed.
#[derive(Clone, Default)]
pub(crate) struct RequestSecrets {
    values: Vec<String>,
}

impl fmt::Debug for RequestSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestSecrets({} values)", self.values.len())
    }
}

impl RequestSecrets {
    /// Remembers `value` (with its encoded forms) as a secret.
    pub(crate) fn add(&mut self, value: &str) {
        if value.len() < MIN_SECRET_LEN {
            return;
        }
        let encoded = url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
        let escaped = serde_json::to_string(value)
            .map(|quoted| quoted[1..quoted.len() - 1].to_string())
            .unwrap_or_default();
        for form in [value.to_string(), encoded, escaped] {
            if form.len() >= MIN_SECRET_LEN && !self.values.contains(&form) {
                self.values.push(form);
            }
        }
        // Longest first, so a value that contains another is replaced whole.
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// `text` with every occurrence of a secret, and every word holding a
    /// piece of one of at least [`MIN_FRAGMENT`] bytes, replaced by [`REDACTED`].
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        self.scrub_fragments(&out)
    }

    /// Replaces every piece of a secret of [`MIN_FRAGMENT`] or more bytes,
    /// widened to the word around it so that no part of the secret remains.
    fn scrub_fragments(&self, text: &str) -> String {
        let pieces: std::collections::HashSet<&[u8]> = self
            .values
            .iter()
            .flat_map(|v| v.as_bytes().windows(MIN_FRAGMENT))
            .collect();
        let bytes = text.as_bytes();
        let mut hit = vec![false; bytes.len()];
        for (at, window) in bytes.windows(MIN_FRAGMENT).enumerate() {
            if pieces.contains(window) {
                hit[at..at + MIN_FRAGMENT].fill(true);
            }
        }
        if !hit.contains(&true) {
            return text.to_string();
        }
        // Widen each piece to the word around it (and to whole characters).
        let word = |b: u8| b.is_ascii_alphanumeric() || b"-_.~+/%".contains(&b);
        let continuation = |b: u8| b & 0xC0 == 0x80;
        for at in 1..bytes.len() {
            if hit[at - 1] && (word(bytes[at]) || continuation(bytes[at])) {
                hit[at] = true;
            }
        }
        for at in (0..bytes.len() - 1).rev() {
            if hit[at + 1] && (word(bytes[at]) || continuation(bytes[at + 1])) {
                hit[at] = true;
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        while at < bytes.len() {
            let start = at;
            let redacted = hit[at];
            while at < bytes.len() && hit[at] == redacted {
                at += 1;
            }
            out.push_str(if redacted { REDACTED } else { &text[start..at] });
        }
        out
    }
}

/// `text` as an error may show it: the request's secrets and anything
/// token- or passcode-like replaced.
pub(crate) fn redact_message(text: &str, secrets: &RequestSecrets) -> String {
    redact_text(&secrets.scrub(text))
}

/// A body as it may be shown: the request's secrets removed, JSON with the
/// values of secret-looking keys replaced, other text with token-like runs
/// replaced, and cut to [`MAX_SHOWN`] bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedBody {
    text: String,
    len: Option<usize>,
    content_type: Option<String>,
}

/// Keys whose values are never shown.
const SECRET_KEYS: &[&str] = &[
    "token",
    "secret",
    "otp",
    "password",
    "magic_link",
    "code",
    "nonce",
    "verifier",
    "key",
    "cookie",
    "authorization",
];

impl RedactedBody {
    /// Redacts `bytes` (the request's own secrets first).
    pub(crate) fn new(bytes: &Bytes, secrets: &RequestSecrets) -> Self {
        let raw = secrets.scrub(&String::from_utf8_lossy(bytes));
        let text = match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(mut value) => {
                redact_json(&mut value);
                value.to_string()
            }
            Err(_) => redact_text(&redact_secret_fields(&raw)),
        };
        Self {
            text: cut(text),
            len: Some(bytes.len()),
            content_type: None,
        }
    }

    /// Redacts `bytes` without knowing which secrets a request carried (the
    /// second layer only: secret-looking keys, token- and passcode-like runs).
    pub fn from_bytes(bytes: &Bytes) -> Self {
        Self::new(bytes, &RequestSecrets::default())
    }

    /// Notes the body's content type (from the response headers).
    pub fn with_content_type(mut self, headers: &reqwest::header::HeaderMap) -> Self {
        self.content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(redact_text);
        self
    }

    /// A body that was not read (only its content type is known).
    pub fn unread() -> Self {
        Self {
            text: "body not read".to_string(),
            len: None,
            content_type: None,
        }
    }

    /// The redacted text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The length of the original body in bytes, when it was read.
    pub fn len(&self) -> Option<usize> {
        self.len
    }

    /// True when the original body was read and empty.
    pub fn is_empty(&self) -> bool {
        self.len == Some(0)
    }
}

fn cut(text: String) -> String {
    if text.len() <= MAX_SHOWN {
        return text;
    }
    let mut end = MAX_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl fmt::Display for RedactedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("body (")?;
        if let Some(len) = self.len {
            write!(f, "{len} bytes, ")?;
        }
        write!(
            f,
            "{}): {}",
            self.content_type.as_deref().unwrap_or("no content-type"),
            self.text
        )
    }
}

impl fmt::Debug for RedactedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedBody({:?})", self.text)
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| key.contains(s))
}

fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_key(k) && !v.is_object() && !v.is_array() && !v.is_null() {
                    *v = serde_json::Value::String(REDACTED.into());
                } else {
                    redact_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::String(s) => *s = redact_text(s),
        _ => {}
    }
}

/// In text that is JSON-like but not valid JSON (a cut body, say), replaces
/// the string after every `"<secret key>":` with `[redacted]`, to the closing
/// quote or the end of the text.
fn redact_secret_fields(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let (before, from_quote) = rest.split_at(start);
        out.push_str(before);
        let Some(end) = from_quote[1..].find('"') else {
            out.push_str(from_quote);
            return out;
        };
        let key = &from_quote[1..=end];
        let after_key = &from_quote[end + 2..];
        out.push('"');
        out.push_str(key);
        out.push('"');
        let trimmed = after_key.trim_start();
        let value = trimmed
            .strip_prefix(':')
            .map(str::trim_start)
            .and_then(|v| v.strip_prefix('"'));
        match value {
            Some(value) if is_secret_key(key) => {
                out.push_str(":\"");
                out.push_str(REDACTED);
                // Skip the secret to its closing quote (or to the end of a cut body).
                let mut chars = value.char_indices();
                let mut close = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            close = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                match close {
                    Some(i) => {
                        out.push('"');
                        rest = &value[i + 1..];
                    }
                    None => return out,
                }
            }
            _ => rest = after_key,
        }
    }
    out.push_str(rest);
    out
}

/// Replaces every run of 20 or more token characters that holds a digit or
/// both cases (JWTs, opaque tokens; not `snake_case_words`) and every run of
/// 6 or more digits (passcodes) with `[redacted]`.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().all(|c| c.is_ascii_digit());
        let tokenish = run.chars().any(|c| c.is_ascii_digit())
            || (run.chars().any(|c| c.is_ascii_uppercase())
                && run.chars().any(|c| c.is_ascii_lowercase()));
        if (run.len() >= 20 && tokenish) || (digits && run.len() >= 6) {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=' | '%') {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A URL or path with every query value and the fragment replaced: what a
/// `Location` may show (an OAuth callback's carries the `code`).
pub fn redact_url(location: &str) -> String {
    let (before_fragment, fragment) = match location.split_once('#') {
        Some((before, _)) => (before, true),
        None => (location, false),
    };
    let mut out = match before_fragment.split_once('?') {
        Some((path, query)) => {
            let names: Vec<String> = query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let name = pair.split('=').next().unwrap_or_default();
                    format!("{}={REDACTED}", redact_text(name))
                })
                .collect();
            format!("{}?{}", redact_text(path), names.join("&"))
        }
        None => redact_text(before_fragment),
    };
    if fragment {
        out.push('#');
        out.push_str(REDACTED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> RequestSecrets {
        RequestSecrets::default()
    }

    #[test]
    fn json_bodies_lose_secret_values_but_keep_their_shape() {
        let body = Bytes::from_static(
            br#"{"auth_result":{"auth_token":"eyJhbGciOi.secret.part","refresh_token":"rt_1","redirect_url":"/"},"otp_id":"x"}"#,
        );
        let shown = RedactedBody::new(&body, &none()).to_string();
        assert!(!shown.contains("eyJhbGciOi"), "{shown}");
        assert!(!shown.contains("rt_1"), "{shown}");
        assert!(shown.contains("\"redirect_url\":\"/\""), "{shown}");
        assert!(
            shown.starts_with(&format!("body ({} bytes,", body.len())),
            "{shown}"
        );
    }

    #[test]
    fn text_bodies_lose_token_like_runs_and_passcodes() {
        let body = Bytes::from_static(b"<html>bad gateway for eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig code 123456 at 12:30</html>");
        let shown = RedactedBody::new(&body, &none()).to_string();
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(!shown.contains("123456"), "{shown}");
        assert!(shown.contains("bad gateway"), "{shown}");
        assert!(shown.contains("12:30"), "{shown}");
    }

    #[test]
    fn cut_json_bodies_lose_secret_prefixes() {
        let body = Bytes::from_static(br#"{"auth_result":{"redirect_url":"/","auth_token":"eyJ"#);
        let shown = RedactedBody::new(&body, &none()).to_string();
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(shown.contains(r#""redirect_url":"/""#), "{shown}");
        let body = Bytes::from_static(br#"{"otp": "123", "x": "y"#);
        let shown = RedactedBody::new(&body, &none()).to_string();
        assert!(!shown.contains("123"), "{shown}");
        assert!(shown.contains(r#""x""#), "{shown}");
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = Bytes::from(vec![b' '; 5000]);
        assert!(RedactedBody::new(&body, &none()).as_str().len() <= MAX_SHOWN + 3);
    }

    #[test]
    fn the_request_secrets_are_scrubbed_in_every_encoding_even_at_the_cut() {
        let secret = "ab cd/ef\"gh";
        let mut secrets = RequestSecrets::default();
        secrets.add(secret);
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let escaped = serde_json::to_string(secret).unwrap();
        for shown_form in [
            secret.to_string(),
            encoded,
            escaped[1..escaped.len() - 1].to_string(),
        ] {
            let message = format!("token {shown_form} was already used");
            let scrubbed = redact_message(&message, &secrets);
            assert!(!scrubbed.contains(&shown_form), "{scrubbed}");
            assert!(scrubbed.contains("was already used"), "{scrubbed}");
        }
        // A secret that straddles the cut is removed before the cut.
        let mut text = " ".repeat(MAX_SHOWN - 3);
        text.push_str(secret);
        let shown = RedactedBody::new(&Bytes::from(text), &secrets);
        assert!(!shown.as_str().contains("ab "), "{}", shown.as_str());
    }

    #[test]
    fn error_codes_in_messages_stay_readable() {
        let shown =
            redact_text("message for invalid_client_version, token aB3xK9mQ2pL7vN4rT8wY1zC5");
        assert_eq!(
            shown,
            "message for invalid_client_version, token [redacted]"
        );
    }

    #[test]
    fn urls_keep_their_shape_without_query_values() {
        let shown = redact_url("https://app.example/cb?code=abc&state=xyz#frag");
        assert_eq!(
            shown,
            "https://app.example/cb?code=[redacted]&state=[redacted]#[redacted]"
        );
        assert_eq!(redact_url("/next"), "/next");
    }

    #[test]
    fn pieces_of_the_request_secrets_are_scrubbed_with_their_word() {
        let secret = "4/0AfJohXm2kQvN7rT1sW9yZ3bC5dE8gH";
        let mut secrets = RequestSecrets::default();
        secrets.add(secret);
        let message = "code starting 4/0AfJohXm2kQv… is spent; code=AfJohXm2kQvN7r, ok";
        assert_eq!(
            secrets.scrub(message),
            "code starting [redacted]… is spent; code=[redacted], ok"
        );
        // Eleven bytes of it are not recognised on their own.
        assert_eq!(secrets.scrub("x AfJohXm2kQ y"), "x AfJohXm2kQ y");
    }

    #[test]
    fn short_values_are_not_searched_for() {
        let mut secrets = RequestSecrets::default();
        secrets.add("abc");
        assert_eq!(secrets.scrub("abc abcd"), "abc abcd");
        secrets.add("abcd");
        assert_eq!(secrets.scrub("abc abcd"), "abc [redacted]");
    }
}
