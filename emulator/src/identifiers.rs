//! Identifier rules: which strings are e-mail addresses or phone numbers, and which an app accepts.

use crate::config::{AllowedIdentifier, AppConfig};
use crate::error::{ApiError, ApiResult};

/// Lower-cases e-mail addresses and trims whitespace.
pub fn normalize_identifier(identifier: &str) -> String {
    let trimmed = identifier.trim();
    if trimmed.contains('@') {
        trimmed.to_lowercase()
    } else {
        trimmed.to_owned()
    }
}

/// Kind of a user identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierKind {
    /// E-mail address.
    Email,
    /// E.164 phone number.
    Phone,
}

/// Classifies and normalizes an identifier, checking the app allows its kind.
pub fn classify_identifier(
    config: &AppConfig,
    identifier: &str,
) -> ApiResult<(IdentifierKind, String)> {
    let id = normalize_identifier(identifier);
    let kind = if is_email(&id) {
        IdentifierKind::Email
    } else if is_phone(&id) {
        IdentifierKind::Phone
    } else {
        return Err(ApiError::bad_request(
            "identifier must be an e-mail address or an E.164 phone number",
        ));
    };
    let allowed = match config.allowed_identifier {
        AllowedIdentifier::Both => true,
        AllowedIdentifier::Email => kind == IdentifierKind::Email,
        AllowedIdentifier::Phone => kind == IdentifierKind::Phone,
    };
    if !allowed {
        return Err(ApiError::bad_request(format!(
            "this app only accepts {} identifiers",
            config.allowed_identifier.as_str()
        )));
    }
    Ok((kind, id))
}

/// Loose e-mail check: one `@`, a non-empty local part and a dotted domain.
pub fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

/// E.164 check: `+` and 7 to 15 digits.
pub fn is_phone(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_checks() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.d"));
        assert!(is_phone("+15551234567"));
        assert!(!is_phone("15551234567"));
        let cfg = AppConfig {
            allowed_identifier: AllowedIdentifier::Email,
            ..AppConfig::default()
        };
        assert!(classify_identifier(&cfg, "+15551234567").is_err());
        assert_eq!(
            classify_identifier(&cfg, " A@B.co ").unwrap(),
            (IdentifierKind::Email, "a@b.co".to_owned())
        );
    }
}
