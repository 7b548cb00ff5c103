//! `docs/lint-rules.md` lists exactly the rules the code applies, and every
//! rule has a test that makes it fire.

use std::path::{Path, PathBuf};

use passage_codegen::lint::rules::{markdown_table, RULES};

fn codegen_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

#[test]
fn the_docs_list_every_rule() {
    let doc = std::fs::read_to_string(codegen_dir().join("../docs/lint-rules.md")).unwrap();
    assert!(
        doc.contains(&markdown_table()),
        "docs/lint-rules.md is out of date; paste in lint::rules::markdown_table():\n{}",
        markdown_table()
    );
}

/// The test modules (everything after `#[cfg(test)]`) of the crate's sources and its test files.
fn test_sources() -> String {
    let mut out = String::new();
    let mut dirs = vec![codegen_dir().join("src"), codegen_dir().join("tests")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let tests = if path.starts_with(codegen_dir().join("tests")) {
                    &text[..]
                } else {
                    text.split_once("#[cfg(test)]").map_or("", |(_, t)| t)
                };
                out.push_str(tests);
            }
        }
    }
    out
}

#[test]
fn every_rule_has_a_test_that_names_it() {
    let tests = test_sources();
    for rule in RULES {
        assert!(
            tests.contains(&format!("\"{}\"", rule.id)),
            "no test names rule `{}`",
            rule.id
        );
    }
}
