//! Passage's Flex web SDK, `@passageidentity/passage-flex-js`, as `tests/sdk/node`'s lockfile installs
//! it, bundled for a page.
//!
//! The package ships only ES modules that import bare package names (`@passageidentity/webauthnutils`,
//! which imports `ua-parser-js`), so a page cannot load it as it is; esbuild (pinned beside it)
//! bundles it, unmodified, into one script that sets `window.PassageFlex`. The bundle is made at test
//! time (about 50 ms) rather than committed: it always is what the lockfile installed, and there is
//! no generated file to keep in step.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The SDK's npm package name.
pub const PACKAGE: &str = "@passageidentity/passage-flex-js";

/// The entry point esbuild bundles: the SDK's public class on `window`.
const ENTRY: &str =
    "import { PassageFlex } from '@passageidentity/passage-flex-js'; window.PassageFlex = PassageFlex;";

/// `tests/sdk/node`, where `setup.sh` installs the npm packages.
pub fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk/node")
}

/// The version of `package` that `tests/sdk/node/package.json` asks for.
fn pinned_version(package: &str) -> String {
    let manifest = node_dir().join("package.json");
    let json: Value = serde_json::from_slice(
        &std::fs::read(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display())),
    )
    .expect("package.json is JSON");
    json["dependencies"][package]
        .as_str()
        .unwrap_or_else(|| panic!("{} does not name {package}", manifest.display()))
        .to_owned()
}

/// The installed version of `package` in `tests/sdk/node/node_modules`, or why it is not usable:
/// missing or not the pinned version (the message says to run the set-up script).
fn installed(package: &str) -> Result<String, String> {
    let wanted = pinned_version(package);
    let manifest = node_dir()
        .join("node_modules")
        .join(package)
        .join("package.json");
    let version = std::fs::read(&manifest)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned));
    match version {
        Some(v) if v == wanted => Ok(v),
        found => Err(format!(
            "{package} {wanted} is not installed in tests/sdk/node (found {found:?}): run \
             `bash tests/sdk/node/setup.sh` (or `bash .ci/setup`; needs node and npm)"
        )),
    }
}

/// The bundle (an IIFE setting `window.PassageFlex`) and the SDK version it holds.
pub struct FlexBundle {
    /// The script.
    pub script: String,
    /// The SDK's version, e.g. `1.0.2`.
    pub version: String,
}

/// Bundles the installed SDK with the installed esbuild, or says why it cannot: the packages are
/// missing or stale (run `tests/sdk/node/setup.sh`).
///
/// # Panics
/// When esbuild runs and fails.
pub fn bundle() -> Result<FlexBundle, String> {
    let version = installed(PACKAGE)?;
    installed("esbuild")?;
    let esbuild = node_dir().join("node_modules/.bin/esbuild");
    let mut child = Command::new(&esbuild)
        .current_dir(node_dir())
        .args([
            "--bundle",
            "--format=iife",
            "--platform=browser",
            "--log-level=warning",
            "--sourcefile=passage-flex-entry.js",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): run `bash tests/sdk/node/setup.sh`",
                esbuild.display()
            )
        });
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("esbuild's stdin");
        stdin
            .write_all(ENTRY.as_bytes())
            .expect("esbuild reads the entry");
    }
    let out = child.wait_with_output().expect("esbuild runs");
    assert!(
        out.status.success(),
        "esbuild failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8(out.stdout).expect("a UTF-8 bundle");
    assert!(
        script.contains("PassageFlex"),
        "the bundle holds no PassageFlex"
    );
    Ok(FlexBundle { script, version })
}
