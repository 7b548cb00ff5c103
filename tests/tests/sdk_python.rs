//! passage-identity 3.0.2 (PyPI), unmodified, against the emulator: `tests/sdk/python/suite.py`
//! runs the steps of [`passage_e2e::server_sdk_steps`] its public API offers (3.0.2 has no
//! request authentication and no `get_app`) in a child process whose only way to Passage is the
//! emulator's intercepting proxy: `HTTPS_PROXY` and `SSL_CERT_FILE` for the JWKS (PyJWT's urllib),
//! and the same two set on the generated client's default `Configuration` (`proxy`,
//! `ssl_ca_cert`), which ignores the environment.
//!
//! Needs `python3` and `tests/sdk/python/setup.sh` run (CI: `.ci/setup`); without them the suite
//! fails in CI and elsewhere unless `PASSAGE_SKIP_SDK_PYTHON=1`.

use passage_e2e::sdk_process::{installed, require, suite_dir, SdkEnv};
use passage_e2e::server_sdk_steps::Fixture;

#[tokio::test(flavor = "multi_thread")]
async fn passage_identity_runs_every_step_against_the_emulator() {
    let dir = suite_dir("python");
    let Some([python]) =
        require(
            "sdk_python",
            "PASSAGE_SKIP_SDK_PYTHON",
            "tests/sdk/python/setup.sh",
            [installed(dir.join(".venv/requirements.installed"))
                .map(|_| dir.join(".venv/bin/python"))],
        )
    else {
        return;
    };
    let sdk = SdkEnv::start().await;
    let fixture = Fixture::prepare(&sdk).await;
    let command = sdk
        .command(python)
        .arg("suite.py")
        .current_dir(&dir)
        .env("HTTPS_PROXY", sdk.proxy_url())
        .env("SSL_CERT_FILE", sdk.ca_certificate_path());
    let run = sdk.run(fixture.command(&sdk, command)).await;
    run.assert_steps(&[
        "validate_jwt",
        "validate_tampered_jwt",
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
