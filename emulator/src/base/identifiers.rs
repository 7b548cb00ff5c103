//! Identifier syntax: which strings are e-mail addresses or E.164 phone numbers, and their
//! normalised form.
//!
//! The rules every identifier that enters the emulator follows (registration, login, the
//! signed-in user's e-mail and phone changes, the admin API, seed users):
//!
//! - surrounding whitespace is trimmed, e-mail addresses are lower-cased;
//! - no control character (Unicode category Cc) and no invisible formatting character (category Cf:
//!   zero-width spaces and joiners, bidirectional marks, the byte order mark, soft hyphens, ...),
//!   so that two identifiers that look the same are the same identifier;
//! - an e-mail address has at most [`MAX_EMAIL_LEN`] octets (RFC 5321's 256-octet path less its
//!   angle brackets) and a local part of at most [`MAX_LOCAL_PART_LEN`] octets (RFC 5321 4.5.3.1.1);
//! - a phone number is E.164: `+` and 7 to 15 digits.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Longest e-mail address, in octets (RFC 5321: a path is at most 256 octets, brackets included).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part of an e-mail address, in octets (RFC 5321 4.5.3.1.1).
pub const MAX_LOCAL_PART_LEN: usize = 64;

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

/// Why a string is not an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// Empty once trimmed.
    #[error("the identifier is empty")]
    Empty,
    /// Holds a control character or an invisible formatting character (zero-width, bidi, ...).
    #[error("the identifier contains a control or invisible formatting character")]
    ForbiddenCharacter,
    /// An e-mail address longer than [`MAX_EMAIL_LEN`] octets.
    #[error("an e-mail address has at most 254 characters")]
    EmailTooLong,
    /// An e-mail address whose local part is longer than [`MAX_LOCAL_PART_LEN`] octets.
    #[error("the part of an e-mail address before the @ has at most 64 characters")]
    LocalPartTooLong,
    /// Neither an e-mail address nor an E.164 phone number.
    #[error(
        "the identifier must be an e-mail address or an E.164 phone number (+ and up to 15 digits)"
    )]
    NotEmailOrPhone,
}

/// Whether `c` may not appear in an identifier: a control (Cc) or format (Cf) character.
fn forbidden(c: char) -> bool {
    c.is_control() || c.general_category() == GeneralCategory::Format
}

/// Normalises `text` ([`normalize_identifier`]) and checks it against the identifier rules (see the
/// module documentation); returns its kind and normalised form.
pub fn parse_identifier(text: &str) -> Result<(IdentifierKind, String), IdentifierError> {
    let id = normalize_identifier(text);
    if id.is_empty() {
        return Err(IdentifierError::Empty);
    }
    if id.chars().any(forbidden) {
        return Err(IdentifierError::ForbiddenCharacter);
    }
    if let Some((local, _)) = id.split_once('@') {
        if id.len() > MAX_EMAIL_LEN {
            return Err(IdentifierError::EmailTooLong);
        }
        if local.len() > MAX_LOCAL_PART_LEN {
            return Err(IdentifierError::LocalPartTooLong);
        }
    }
    if is_email(&id) {
        Ok((IdentifierKind::Email, id))
    } else if is_phone(&id) {
        Ok((IdentifierKind::Phone, id))
    } else {
        Err(IdentifierError::NotEmailOrPhone)
    }
}

/// E-mail check: one `@`, a non-empty local part of at most 64 octets, a dotted domain, at most 254
/// octets, no whitespace, control or invisible formatting character.
pub fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && local.len() <= MAX_LOCAL_PART_LEN
                && s.len() <= MAX_EMAIL_LEN
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || forbidden(c))
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
    fn lengths_follow_rfc_5321_and_e164() {
        let local = "a".repeat(MAX_LOCAL_PART_LEN);
        let domain = format!(
            "{}.example",
            "d".repeat(MAX_EMAIL_LEN - local.len() - 1 - 8)
        );
        let longest = format!("{local}@{domain}");
        assert_eq!(longest.len(), MAX_EMAIL_LEN);
        assert_eq!(parse_identifier(&longest).unwrap().0, IdentifierKind::Email);
        assert_eq!(
            parse_identifier(&format!("{local}@d{domain}")),
            Err(IdentifierError::EmailTooLong)
        );
        assert_eq!(
            parse_identifier(&format!("a{local}@b.co")),
            Err(IdentifierError::LocalPartTooLong)
        );
        assert_eq!(
            parse_identifier(&format!("{}@b.co", "x".repeat(1 << 20))),
            Err(IdentifierError::EmailTooLong)
        );
        assert_eq!(
            parse_identifier("+123456789012345").unwrap().0,
            IdentifierKind::Phone
        );
        assert_eq!(
            parse_identifier("+1234567890123456"),
            Err(IdentifierError::NotEmailOrPhone)
        );
    }

    #[test]
    fn control_and_invisible_characters_are_refused() {
        for text in [
            "ada\u{0}@example.com",
            "ada\u{200b}@example.com",
            "\u{feff}ada@example.com",
            "ada@exam\u{200d}ple.com",
            "ada@example.com\u{202e}",
            "ad\u{ad}a@example.com",
            "+1555\u{2060}1234567",
            "ada\u{7f}@example.com",
        ] {
            assert_eq!(
                parse_identifier(text),
                Err(IdentifierError::ForbiddenCharacter),
                "{text:?}"
            );
            assert!(!is_email(text), "{text:?}");
        }
        assert_eq!(
            parse_identifier("  Ada@Example.COM\n").unwrap(),
            (IdentifierKind::Email, "ada@example.com".to_owned())
        );
        assert_eq!(parse_identifier(" \t "), Err(IdentifierError::Empty));
    }
}
