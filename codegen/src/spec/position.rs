//! Maps between JSON pointers and positions in the YAML text, so that findings
//! can say `spec/passage-auth.yaml:123:9` instead of only a pointer, and so
//! that a parser error at a line can name the node it is in.
//!
//! This is a small indentation walker for block-style YAML (the style the spec
//! is written in); when it cannot follow the pointer it gives up and returns
//! the deepest position it reached, or `None`.

use super::pointer::{escape, unescape};

/// A 1-based line and column in the spec text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (of the key, or of the `-` of a sequence item).
    pub column: usize,
}

/// Returns the 1-based line of the node named by `pointer` (RFC 6901).
#[cfg(test)]
pub fn line_of(source: &str, pointer: &str) -> Option<usize> {
    position_of(source, pointer).map(|p| p.line)
}

/// Returns the position of the node named by `pointer` (RFC 6901).
pub fn position_of(source: &str, pointer: &str) -> Option<Position> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found: Option<Position> = None;
    // The children of the current node: lines after `start` indented deeper than `parent_indent`.
    let mut start = 0usize;
    let mut parent_indent: isize = -1;
    // A sequence item "- key: value" carries its first key on the dash line itself.
    let mut dash_line: Option<usize> = None;
    for segment in pointer.split('/').skip(1) {
        let segment = unescape(segment);
        if let Some(d) = dash_line.take() {
            if key_of(lines[d].trim_start()).as_deref() == Some(segment.as_str()) {
                let indent = indent_of(lines[d]);
                found = Some(Position {
                    line: d + 1,
                    column: indent + 3,
                });
                // The key's children are indented deeper than the key itself.
                parent_indent = indent as isize + 2;
                continue;
            }
        }
        let mut hit = None;
        let mut seq_index = 0usize;
        let mut child_indent: Option<usize> = None;
        for (i, line) in lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if indent as isize <= parent_indent {
                break;
            }
            if indent != *child_indent.get_or_insert(indent) {
                continue;
            }
            if trimmed == "-" || trimmed.starts_with("- ") {
                if segment.parse::<usize>() == Ok(seq_index) {
                    hit = Some((i, true));
                    break;
                }
                seq_index += 1;
            } else if key_of(trimmed).as_deref() == Some(segment.as_str()) {
                hit = Some((i, false));
                break;
            }
        }
        let Some((i, is_item)) = hit else {
            return found;
        };
        let indent = indent_of(lines[i]);
        found = Some(Position {
            line: i + 1,
            column: indent + 1,
        });
        start = i + 1;
        parent_indent = indent as isize;
        if is_item {
            dash_line = Some(i);
        }
    }
    found
}

/// The JSON pointer of the deepest node that starts at or before `line`
/// (1-based) and contains it, e.g. for a parser error at that line.
pub fn pointer_at(source: &str, line: usize) -> String {
    // (indent, segment, index when the segment is a sequence item)
    let mut stack: Vec<(usize, String, Option<usize>)> = Vec::new();
    let mut block_scalar_indent: Option<usize> = None;
    for text in source.lines().take(line) {
        let trimmed = text.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = text.len() - trimmed.len();
        if let Some(owner) = block_scalar_indent {
            if indent > owner {
                continue;
            }
            block_scalar_indent = None;
        }
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        let mut previous_item = None;
        while let Some((i, _, item)) = stack.last() {
            if *i < indent || (*i == indent && is_item && item.is_none()) {
                break;
            }
            if *i == indent {
                previous_item = *item;
            }
            stack.pop();
        }
        let mut rest = trimmed;
        if is_item {
            let index = previous_item.map_or(0, |p| p + 1);
            stack.push((indent, index.to_string(), Some(index)));
            rest = trimmed.strip_prefix('-').unwrap_or("").trim_start();
            if rest.is_empty() {
                continue;
            }
        }
        if let Some(key) = key_of(rest) {
            let key_indent = if is_item { indent + 2 } else { indent };
            stack.push((key_indent, escape(&key), None));
            let value = rest.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
            if value.starts_with('|') || value.starts_with('>') {
                block_scalar_indent = Some(key_indent);
            }
        }
    }
    stack.iter().map(|(_, s, _)| format!("/{s}")).collect()
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn key_of(trimmed: &str) -> Option<String> {
    let trimmed = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    for quote in ['\'', '"'] {
        if let Some(rest) = trimmed.strip_prefix(quote) {
            let end = rest.find(quote)?;
            return rest[end + 1..]
                .starts_with(':')
                .then(|| rest[..end].to_string());
        }
    }
    let (key, _) = trimmed.split_once(':')?;
    Some(key.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::{line_of, pointer_at, position_of, Position};

    const DOC: &str = "openapi: 3.0.3\ninfo:\n  title: t\n  version: 1.0.0\npaths:\n  /apps/{app_id}:\n    get:\n      operationId: get_app\n      parameters:\n        - name: app_id\n          in: path\n        - name: other\n          in: query\n      responses:\n        '200':\n          description: |\n            ok: yes\n            two\n";

    #[test]
    fn finds_nested_keys_quoted_keys_and_sequence_items() {
        assert_eq!(line_of(DOC, "/info/version"), Some(4));
        assert_eq!(line_of(DOC, "/paths/~1apps~1{app_id}/get"), Some(7));
        assert_eq!(
            line_of(DOC, "/paths/~1apps~1{app_id}/get/responses/200/description"),
            Some(16)
        );
        assert_eq!(
            line_of(DOC, "/paths/~1apps~1{app_id}/get/parameters/1/in"),
            Some(13)
        );
    }

    #[test]
    fn columns_point_at_the_key_or_the_dash() {
        let at = |p: &str| position_of(DOC, p).unwrap();
        assert_eq!(at("/info/version"), Position { line: 4, column: 3 });
        let item = "/paths/~1apps~1{app_id}/get/parameters/1";
        assert_eq!(
            at(item),
            Position {
                line: 12,
                column: 9
            }
        );
        assert_eq!(
            at(&format!("{item}/name")),
            Position {
                line: 12,
                column: 11
            }
        );
        assert_eq!(
            at(&format!("{item}/in")),
            Position {
                line: 13,
                column: 11
            }
        );
    }

    #[test]
    fn unknown_pointer_stops_at_the_deepest_known_node() {
        assert_eq!(line_of(DOC, "/paths/~1apps~1{app_id}/post"), Some(6));
        assert_eq!(line_of(DOC, "/nothing"), None);
    }

    #[test]
    fn pointer_at_a_line_names_the_node_it_is_in() {
        assert_eq!(pointer_at(DOC, 4), "/info/version");
        assert_eq!(
            pointer_at(DOC, 8),
            "/paths/~1apps~1{app_id}/get/operationId"
        );
        assert_eq!(
            pointer_at(DOC, 10),
            "/paths/~1apps~1{app_id}/get/parameters/0/name"
        );
        assert_eq!(
            pointer_at(DOC, 13),
            "/paths/~1apps~1{app_id}/get/parameters/1/in"
        );
        // Lines of a block scalar belong to its key.
        assert_eq!(
            pointer_at(DOC, 18),
            "/paths/~1apps~1{app_id}/get/responses/200/description"
        );
        // Every line round-trips where the walker can find the node again.
        for line in 1..=DOC.lines().count() {
            let pointer = pointer_at(DOC, line);
            let found = line_of(DOC, &pointer).unwrap();
            assert!(found <= line, "{line} -> {pointer} -> {found}");
        }
    }
}
