//! Rust names for what the spec names, as the generator spells them: the
//! identifiers progenitor and typify give schemas, properties, parameters and
//! operations, and the variants of the open enums.

use heck::{ToPascalCase, ToSnakeCase};

/// typify's identifier rule: `userId` -> `user_id`, `type` -> `type_`,
/// `2fa` -> `x2fa`, `!!!` -> `x`.
pub fn rust_ident(name: &str, pascal: bool) -> String {
    let case = |s: &str| {
        if pascal {
            s.to_pascal_case()
        } else {
            s.to_snake_case()
        }
    };
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if unicode_ident::is_xid_continue(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = case(&cleaned);
    let prefix = case("x");
    let out = match out.chars().next() {
        None => prefix,
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("{prefix}{out}"),
    };
    if syn::parse_str::<syn::Ident>(&out).is_ok() && out != "_" {
        out
    } else {
        format!("{out}_")
    }
}

/// `cross-platform` -> `CrossPlatform`, `""` -> `Empty`, `Andalé Mono` -> `AndaleMono`.
pub fn variant_name(value: &str) -> String {
    if value.is_empty() {
        return "Empty".into();
    }
    let folded: String = value
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            other => other,
        })
        .collect();
    let mut out = String::new();
    for word in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            let rest: String = chars.collect();
            // Keep inner capitals of mixed-case words (`S256`), lower-case shouted ones (`MS`).
            if word.chars().all(|c| !c.is_ascii_lowercase()) {
                out.push_str(&rest.to_ascii_lowercase());
            } else {
                out.push_str(&rest);
            }
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{rust_ident, variant_name};

    #[test]
    fn rust_names_follow_typify() {
        assert_eq!(rust_ident("userId", false), "user_id");
        assert_eq!(rust_ident("type", false), "type_");
        assert_eq!(rust_ident("2fa", false), "x2fa");
        assert_eq!(rust_ident("!!!", false), "x");
        assert_eq!(rust_ident("get_app", true), "GetApp");
        assert_eq!(rust_ident("self", true), "Self_");
    }

    #[test]
    fn variant_names() {
        assert_eq!(variant_name("cross-platform"), "CrossPlatform");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("Andalé Mono"), "AndaleMono");
        assert_eq!(variant_name("Comic Sans MS"), "ComicSansMs");
        assert_eq!(variant_name("S256"), "S256");
        assert_eq!(variant_name("invalid_refresh_token"), "InvalidRefreshToken");
        assert_eq!(variant_name("s"), "S");
    }
}
