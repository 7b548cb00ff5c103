//! Finds the line of a YAML node from a JSON pointer, so that findings can say
//! `spec/passage-auth.yaml:123` instead of only a pointer.
//!
//! This is a small indentation walker for block-style YAML (the style the spec
//! is written in); when it cannot follow the pointer it gives up and returns
//! the deepest line it reached, or `None`.

/// Returns the 1-based line of the node named by `pointer` (RFC 6901).
pub fn line_of(source: &str, pointer: &str) -> Option<usize> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found: Option<usize> = None;
    // The children of the current node: lines after `start` indented deeper than `parent_indent`.
    let mut start = 0usize;
    let mut parent_indent: isize = -1;
    // A sequence item "- key: value" carries its first key on the dash line itself.
    let mut dash_line: Option<usize> = None;
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if let Some(d) = dash_line.take() {
            if key_of(lines[d].trim_start()).as_deref() == Some(segment.as_str()) {
                found = Some(d + 1);
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
        found = Some(i + 1);
        start = i + 1;
        parent_indent = (lines[i].len() - lines[i].trim_start().len()) as isize;
        if is_item {
            dash_line = Some(i);
        }
    }
    found
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
    use super::line_of;

    const DOC: &str = "openapi: 3.0.3\ninfo:\n  title: t\n  version: 1.0.0\npaths:\n  /apps/{app_id}:\n    get:\n      operationId: get_app\n      parameters:\n        - name: app_id\n          in: path\n        - name: other\n          in: query\n      responses:\n        '200':\n          description: ok\n";

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
    fn unknown_pointer_stops_at_the_deepest_known_node() {
        assert_eq!(line_of(DOC, "/paths/~1apps~1{app_id}/post"), Some(6));
        assert_eq!(line_of(DOC, "/nothing"), None);
    }
}
