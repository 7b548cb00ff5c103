//! passage-node 2.12.1 (npm), unmodified, against the emulator: `tests/sdk/node/suite.cjs` runs
//! every step of [`passage_e2e::server_sdk_steps`] through the SDK's public API, in a child process
//! whose only way to Passage is the emulator's intercepting proxy. Node's `https` ignores
//! `HTTPS_PROXY`, so the suite is preloaded with `use-https-proxy.cjs` (an `https-proxy-agent` as
//! `https.globalAgent`, which both the Management client and jose's JWKS fetch use), and the CA
//! comes from `NODE_EXTRA_CA_CERTS`.
//!
//! Needs `node` (20 or later) and `tests/sdk/node/setup.sh` run (CI: `.ci/setup`); without them the
//! suite fails in CI and elsewhere unless `PASSAGE_SKIP_SDK_NODE=1`.

use passage_e2e::sdk_process::{installed, on_path, require, suite_dir, SdkEnv};
use passage_e2e::server_sdk_steps::Fixture;

#[tokio::test(flavor = "multi_thread")]
async fn passage_node_runs_every_step_against_the_emulator() {
    let dir = suite_dir("node");
    let Some([node, _]) = require(
        "sdk_node",
        "PASSAGE_SKIP_SDK_NODE",
        "tests/sdk/node/setup.sh",
        [
            on_path("node"),
            installed(dir.join("node_modules/@passageidentity/passage-node/package.json")),
        ],
    ) else {
        return;
    };
    let sdk = SdkEnv::start().await;
    let fixture = Fixture::prepare(&sdk).await;
    let command = sdk
        .command(node)
        .arg("-r")
        .arg("./use-https-proxy.cjs")
        .arg("suite.cjs")
        .current_dir(&dir)
        .env("HTTPS_PROXY", sdk.proxy_url())
        .env("NODE_EXTRA_CA_CERTS", sdk.ca_certificate_path());
    let run = sdk.run(fixture.command(&sdk, command)).await;
    run.assert_steps(&[
        "validate_jwt",
        "validate_tampered_jwt",
        "authenticate_header",
        "authenticate_cookie",
        "get_app",
        "create_user",
        "get_user",
        "update_user",
        "deactivate_user",
        "activate_user",
        "delete_user",
        "get_deleted_user",
        "list_devices",
        "revoke_device",
        "revoke_refresh_tokens",
        "create_magic_link",
    ]);
    fixture.check(&sdk, &run).await;
    sdk.env.assert_conformant();
}
