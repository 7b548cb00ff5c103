//! The crates `cargo xtask regenerate` writes: `spec/crates.toml`, one entry
//! per spec, turned into the generator's [`Options`]. Everything that differs
//! between two generated crates is in that file or in the specs themselves.

use std::path::{Path, PathBuf};

use anyhow::Context;
use passage_codegen::{ErrorBody, GeneratedCrate, LoadedSpec, Options};
use serde::Deserialize;

/// The configuration file, relative to the workspace root.
pub const CONFIG: &str = "spec/crates.toml";
/// The folder every generated crate is written under; nothing else lives there.
pub const GENERATED_DIR: &str = "generated";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(rename = "crate")]
    crates: Vec<Entry>,
}

/// One `[[crate]]` of the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Entry {
    /// The spec file, relative to the workspace root.
    pub spec: String,
    /// The spec's changelog, relative to the workspace root.
    pub changelog: String,
    /// The crate's directory, relative to the workspace root (under `generated/`).
    pub dir: String,
    /// The crate's package name.
    pub name: String,
    /// The crate's version.
    pub version: String,
    /// The crate's description.
    pub description: String,
    /// The error body, when it is not the default.
    #[serde(default)]
    error_body: Option<ErrorBodyEntry>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorBodyEntry {
    schema: String,
    code: String,
    message: String,
}

impl Entry {
    /// The generator's options for this crate.
    pub fn options(&self) -> Options {
        Options {
            spec_display_name: self.spec.clone(),
            crate_name: self.name.clone(),
            crate_version: self.version.clone(),
            description: self.description.clone(),
            error_body: self
                .error_body
                .as_ref()
                .map(|e| ErrorBody {
                    schema: e.schema.clone(),
                    code_field: e.code.clone(),
                    message_field: e.message.clone(),
                })
                .unwrap_or_default(),
        }
    }

    /// The crate's manifest, relative to the workspace root.
    pub fn manifest(&self) -> String {
        format!("{}/Cargo.toml", self.dir)
    }

    /// The spec, loaded and named by its relative path (so that messages and
    /// headers are the same on every machine).
    pub fn load_spec(&self, root: &Path) -> anyhow::Result<LoadedSpec> {
        let path = root.join(&self.spec);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(LoadedSpec::from_str(self.spec.clone(), text)?)
    }

    /// Every file of the generated crate, as (path relative to the workspace
    /// root, contents).
    pub fn files(&self, generated: &GeneratedCrate) -> Vec<(PathBuf, String)> {
        generated
            .files()
            .iter()
            .map(|(file, contents)| (Path::new(&self.dir).join(file), contents.to_string()))
            .collect()
    }
}

/// The entries of `CONFIG` under `root`, checked: at least one, distinct
/// specs, names and directories, every directory directly under `generated/`.
pub fn load(root: &Path) -> anyhow::Result<Vec<Entry>> {
    let path = root.join(CONFIG);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).with_context(|| format!("in {CONFIG}"))
}

fn parse(text: &str) -> anyhow::Result<Vec<Entry>> {
    let config: Config = toml::from_str(text)?;
    anyhow::ensure!(!config.crates.is_empty(), "no [[crate]] is configured");
    for (i, entry) in config.crates.iter().enumerate() {
        let dir = Path::new(&entry.dir);
        anyhow::ensure!(
            dir.parent() == Some(Path::new(GENERATED_DIR)),
            "crate `{}`: `dir = \"{}\"` must be a folder directly under {GENERATED_DIR}/",
            entry.name,
            entry.dir
        );
        for other in &config.crates[..i] {
            for (what, a, b) in [
                ("spec", &entry.spec, &other.spec),
                ("name", &entry.name, &other.name),
                ("dir", &entry.dir, &other.dir),
            ] {
                anyhow::ensure!(a != b, "two crates have the same {what} `{a}`");
            }
        }
    }
    Ok(config.crates)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "[[crate]]\nspec = \"spec/a.yaml\"\nchangelog = \"spec/a.md\"\ndir = \"generated/a\"\nname = \"a-api\"\nversion = \"1.0.0\"\ndescription = \"A\"\n";

    #[test]
    fn an_entry_becomes_the_generators_options() {
        let entries = parse(&format!(
            "{ONE}error-body = {{ schema = \"Oops\", code = \"kind\", message = \"text\" }}\n"
        ))
        .unwrap();
        let options = entries[0].options();
        assert_eq!(options.crate_name, "a-api");
        assert_eq!(options.spec_display_name, "spec/a.yaml");
        assert_eq!(options.error_body.schema, "Oops");
        assert_eq!(options.error_body.code_field, "kind");
        assert_eq!(options.error_body.message_field, "text");
        assert_eq!(
            parse(ONE).unwrap()[0].options().error_body,
            ErrorBody::default()
        );
    }

    #[test]
    fn bad_configurations_are_refused_with_the_reason() {
        let twice = format!("{ONE}{}", ONE.replace("spec/a.yaml", "spec/b.yaml"));
        let error = parse(&twice).unwrap_err().to_string();
        assert!(error.contains("same name `a-api`"), "{error}");
        let outside = ONE.replace("generated/a", "src/a");
        let error = parse(&outside).unwrap_err().to_string();
        assert!(error.contains("directly under generated/"), "{error}");
        let unknown = format!("{ONE}colour = \"red\"\n");
        assert!(parse(&unknown).is_err());
        assert!(parse("").is_err());
    }
}
