//! Passkey Flex in a real browser, with Passage's own SDKs on both ends, unmodified: the front end
//! is `@passageidentity/passage-flex-js` 1.0.2 (bundled by esbuild at test time, see
//! `passage_e2e::flex_js`) on a page of ours (`tests/browser/flex.html`) in headless Chromium with
//! a virtual CTAP2 authenticator; the back end is `passage_flex` 1.0.2 in its child process
//! (`passage_e2e::flex_steps`). Both only know `https://auth.passage.id` and
//! `https://api.passage.id`: Chromium reaches them through `--proxy-server=<the emulator's
//! intercepting proxy>` and trusts the proxy's CA through the NSS database of a temporary `HOME`;
//! the Rust SDK through `HTTPS_PROXY` and `SSL_CERT_FILE`.
//!
//! The back end creates a register transaction, the page registers a passkey for it, the back end
//! verifies the page's nonce to the external id; then the same for an authentication. Every check
//! reads the emulator (our Management client, the emulator's request log) or the virtual
//! authenticator (DevTools), never the SDKs' word alone.
//!
//! Needs Chromium (see `passage_e2e::browser::find_chromium`), NSS's `certutil` (Debian's
//! `libnss3-tools`), the npm packages of `tests/sdk/node` and the step runner of `tests/sdk/rust`
//! (`bash .ci/setup` installs all of them); without them it fails, or with `PASSAGE_SKIP_BROWSER=1`
//! outside CI reports itself skipped (`passage_e2e::skip`).

use std::time::Instant;

use chromiumoxide::cdp::browser_protocol::web_authn::AuthenticatorTransport;
use passage_e2e::browser::{
    find_chromium, std_to_base64url, BrowserSession, ChromiumLookup, LaunchOptions, PageServer,
    TrustingHome,
};
use passage_e2e::flex_js;
use passage_e2e::flex_steps::{self, FlexSdk};
use passage_e2e::harness::TestEnv;
use passage_e2e::skip::missing_requirement;
use passage_emulator::settings::InterceptConfig;
use passage_emulator::{AppConfig, EmulatorConfig, DEFAULT_API_KEY};
use passage_management_client::UsersExt;
use serde_json::json;

const FLEX_HTML: &str = include_str!("../browser/flex.html");
const FLEX_PAGE_JS: &str = include_str!("../browser/flex-page.js");

/// The suite's name in a skip or failure message.
const SUITE: &str = "the Passkey Flex browser case";

/// Something this case needs beyond Chromium is missing (`why`): the real-browser suite's rule
/// ([`missing_requirement`] with `PASSAGE_SKIP_BROWSER`).
fn missing(why: &str) {
    missing_requirement(
        SUITE,
        "PASSAGE_SKIP_BROWSER",
        why,
        "`bash .ci/setup` installs everything it needs.",
    );
}

fn js(value: &str) -> String {
    serde_json::to_string(value).expect("a string")
}

/// The statuses of the emulator's logged requests to `path` (on its listener, as proxied requests
/// are logged) with `method`, after the first `since` entries of its log.
fn logged(env: &TestEnv, since: usize, method: &str, path: &str) -> Vec<Option<u16>> {
    env.emulator
        .requests()
        .into_iter()
        .skip(since)
        .filter(|r| r.method == method && r.path == path)
        .map(|r| r.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passage_flex_js_registers_and_authenticates_through_passage_flex() {
    let chromium = match find_chromium() {
        ChromiumLookup::Found(path) => path,
        ChromiumLookup::Skip => return,
    };
    let bundle = match flex_js::bundle() {
        Ok(bundle) => bundle,
        Err(why) => return missing(&why),
    };
    let runner = match flex_steps::executable() {
        Ok(runner) => runner,
        Err(why) => return missing(&why),
    };
    let started = Instant::now();
    let state = tempfile::tempdir().expect("a state directory");
    let mut pages = PageServer::bind().await;
    // The page's origin is the app's auth origin: WebAuthn RP id `localhost`, and the emulator's
    // CORS answers the page (a loopback origin) on the proxied host too.
    let env = TestEnv::with_config(EmulatorConfig {
        apps: vec![AppConfig {
            id: "flex-browser-app".into(),
            name: "Flex Browser App".into(),
            auth_origin: pages.origin(),
            ..AppConfig::default()
        }],
        intercept: Some(InterceptConfig {
            listen: "127.0.0.1:0".parse().expect("an address"),
            state_dir: state.path().join("intercept"),
        }),
        ..EmulatorConfig::default()
    })
    .await;
    let app = env.app_id.clone();
    let proxy = env.emulator.proxy_url().expect("the proxy runs");
    let ca = env.emulator.ca_certificate_path().expect("the proxy's CA");
    let home = match TrustingHome::trusting(ca) {
        Ok(home) => home,
        Err(why) => return missing(&why),
    };
    let bundle_bytes = bundle.script.len();
    pages.serve_page(
        FLEX_HTML,
        &json!({ "appId": app }),
        vec![
            ("/passage-flex.js", bundle.script),
            ("/flex-page.js", FLEX_PAGE_JS.to_owned()),
        ],
    );
    let browser = BrowserSession::launch_with(
        chromium,
        LaunchOptions {
            proxy_server: Some(&proxy),
            trust: Some(&home),
        },
    )
    .await;
    let mut sdk = FlexSdk::start(&runner, &env.emulator, &app, DEFAULT_API_KEY).await;
    let tab = browser.open(&format!("{}/", pages.origin())).await;
    tab.wait_until(
        "the page loads the SDK",
        "window.t && document.getElementById('status').textContent === 'ready'",
    )
    .await;
    let authenticator = tab
        .add_authenticator(AuthenticatorTransport::Internal)
        .await;
    let launched = started.elapsed();
    eprintln!(
        "passage-flex-js {} bundled ({bundle_bytes} bytes)",
        bundle.version
    );

    let capabilities = tab.flow("the SDK's capabilities", "t.capabilities()").await;
    tab.check(
        capabilities == json!({"register": true, "authenticate": true}),
        &format!("the SDK finds passkeys usable with the virtual authenticator: {capabilities}"),
    );

    // A transaction the emulator never opened: the SDK's error carries the emulator's 404.
    let unknown = tab
        .try_flow(
            "register for an unknown transaction",
            "t.register('no-such-transaction')",
        )
        .await;
    tab.check(
        !unknown.ok()
            && unknown.status() == Some(404)
            && unknown.code() == Some("transaction_not_found"),
        &format!(
            "the page's SDK reports the emulator's 404: {:?}",
            unknown.raw
        ),
    );

    // Registration: the back end (passage_flex) opens the transaction, the page's SDK registers.
    let external_id = "browser-flex-0001";
    let display_name = "ada@flex-browser.example";
    let t0 = Instant::now();
    let log_mark = env.emulator.requests().len();
    let transaction = sdk
        .step(
            &env.emulator,
            json!({"step": "create_register_transaction", "external_id": external_id,
                   "passkey_display_name": display_name}),
        )
        .await;
    let transaction = transaction.as_str().expect("a transaction id").to_owned();
    let nonce = tab
        .flow(
            "passage-flex-js registers a passkey",
            &format!("t.register({})", js(&transaction)),
        )
        .await;
    let nonce = nonce
        .as_str()
        .expect("the SDK resolves to the nonce")
        .to_owned();
    let register_took = t0.elapsed();
    for (method, path, status) in [
        ("register/transactions/webauthn/start", 200),
        ("register/transactions/webauthn/finish", 201),
    ]
    .map(|(p, s)| ("POST", format!("/v1/apps/{app}/{p}"), s))
    {
        tab.check(
            logged(&env, log_mark, method, &path) == vec![Some(status)],
            &format!("the page's SDK reached the emulator once through the proxy: {method} {path}"),
        );
    }
    let credentials = tab.credentials(&authenticator).await;
    tab.check(
        credentials.len() == 1,
        "the virtual authenticator holds one passkey",
    );
    let credential_id = std_to_base64url(credentials[0].credential_id.as_ref());
    let user = env
        .management
        .find_user_by_identifier(&app, external_id)
        .await
        .expect("find")
        .expect("the emulator holds the Flex user");
    tab.check(
        user.webauthn_devices.len() == 1 && user.webauthn_devices[0].cred_id == credential_id,
        &format!(
            "the emulator holds the browser's passkey: {:?}",
            user.webauthn_devices
        ),
    );
    let verified = sdk
        .step(
            &env.emulator,
            json!({"step": "verify_nonce", "nonce": nonce}),
        )
        .await;
    assert_eq!(
        verified, external_id,
        "the page's nonce proves the external id"
    );

    // Authentication: passage_flex opens it, the page's SDK asserts with the passkey.
    let t0 = Instant::now();
    let transaction = sdk
        .step(
            &env.emulator,
            json!({"step": "create_authenticate_transaction", "external_id": external_id}),
        )
        .await;
    let transaction = transaction.as_str().expect("a transaction id").to_owned();
    let nonce = tab
        .flow(
            "passage-flex-js authenticates with the passkey",
            &format!("t.authenticate({})", js(&transaction)),
        )
        .await;
    let nonce = nonce
        .as_str()
        .expect("the SDK resolves to the nonce")
        .to_owned();
    let authenticate_took = t0.elapsed();
    let verified = sdk
        .step(
            &env.emulator,
            json!({"step": "verify_nonce", "nonce": nonce}),
        )
        .await;
    assert_eq!(
        verified, external_id,
        "the page's nonce proves the external id"
    );
    let devices = env
        .management
        .list_user_devices()
        .app_id(&app)
        .user_id(&user.id)
        .send()
        .await
        .expect("list_user_devices")
        .into_inner()
        .devices;
    tab.check(
        devices.len() == 1
            && devices[0].cred_id == credential_id
            && devices[0].usage_count == user.webauthn_devices[0].usage_count + 1,
        &format!("the emulator counted the authentication with the browser's passkey: {devices:?}"),
    );
    let signed = tab.credentials(&authenticator).await;
    tab.check(
        signed.len() == 1 && signed[0].sign_count > credentials[0].sign_count,
        "the virtual authenticator signed the assertion",
    );

    eprintln!(
        "Flex browser case: set-up with Chromium {launched:?}, registration {register_took:?}, \
         authentication {authenticate_took:?}, whole case {:?}",
        started.elapsed()
    );
    drop(tab);
    browser.close().await;
    env.assert_conformant();
}
