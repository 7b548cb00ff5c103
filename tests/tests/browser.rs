//! The real-browser suite: headless Chromium with a virtual CTAP2 authenticator runs our app page
//! (`tests/browser/`) from the auth origin `http://localhost:PAGE_PORT` against the emulator on
//! `127.0.0.1:EMULATOR_PORT`, so every call is a cross-origin `fetch` (preflighted, as the official
//! web SDK's are) and every passkey goes through `navigator.credentials`.
//!
//! One browser serves all cases, which run in order in one test (later cases build on the users and
//! passkeys of earlier ones). A failing step prints the page's calls (request and answer, secrets
//! redacted) and the browser console. Needs Chromium: see `passage_e2e::browser`.

use std::time::Instant;

use chromiumoxide::cdp::browser_protocol::web_authn::{AuthenticatorId, AuthenticatorTransport};
use passage_e2e::browser::{
    find_chromium, serve_another_site, std_to_base64url, BrowserSession, ChromiumLookup,
    PageServer, Tab,
};
use passage_e2e::conformance::CheckedEmulator;
use passage_e2e::recording_proxy::RecordingProxy;
use passage_emulator::{AppConfig, EmulatorConfig, MetadataFieldConfig, OutboxMessage};
use serde_json::{json, Value};

const ADA: &str = "ada@example.com";

struct Suite {
    /// The emulator UI, opened by the first UI case.
    ui: Option<Tab>,
    /// Records every answer it gives the page, checked against the spec.
    emulator: CheckedEmulator,
    browser: BrowserSession,
    app: Tab,
    /// The first authenticator (the first passkey).
    authenticator: AuthenticatorId,
    /// A security key, added for the second passkey (an authenticator cannot take a second credential
    /// of one user: registration excludes the existing ones).
    second_authenticator: Option<AuthenticatorId>,
    page_origin: String,
    /// Filled in by the cases, in order.
    user_id: String,
    first_credential: String,
    second_credential: String,
}

impl Suite {
    fn js(value: &str) -> String {
        serde_json::to_string(value).expect("string")
    }

    /// The latest outbox message to `identifier` that `pick` accepts (e.g. by `otp_id`).
    fn sent(&self, identifier: &str, pick: impl Fn(&OutboxMessage) -> bool) -> OutboxMessage {
        let messages = self.emulator.outbox(identifier);
        let found = messages.into_iter().rev().find(|m| pick(m));
        self.app.check(
            found.is_some(),
            "the emulator outbox holds the message just sent",
        );
        found.expect("checked")
    }

    async fn current_user(&self, step: &str) -> Value {
        self.app.flow(step, "t.currentUser()").await
    }

    /// A Management API client of the emulator's app (direct, with its configured key).
    fn management(&self) -> passage_management_client::Client {
        passage_management_client::ClientBuilder::new()
            .base_url(self.emulator.management_base_url())
            .api_key(passage_emulator::DEFAULT_API_KEY)
            .build()
            .expect("management client builds")
    }

    /// The app's users, as the Management API lists them.
    async fn users(&self) -> Vec<passage_management_client::types::ListPaginatedUsersItem> {
        self.management()
            .list_paginated_users()
            .app_id(self.emulator.default_app_id())
            .send()
            .await
            .expect("management list of users")
            .into_inner()
            .users
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_suite() {
    let executable = match find_chromium() {
        ChromiumLookup::Found(path) => path,
        ChromiumLookup::Skip => return,
    };
    let started = Instant::now();
    let mut pages = PageServer::bind().await;
    let config = EmulatorConfig {
        apps: vec![AppConfig {
            id: "browser-app".into(),
            name: "Browser App".into(),
            auth_origin: pages.origin(),
            user_metadata_schema: vec![MetadataFieldConfig {
                field_name: "nickname".into(),
                field_type: "string".into(),
                friendly_name: Some("Nickname".into()),
                profile: true,
                registration: false,
            }],
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    };
    let emulator = CheckedEmulator::start(config)
        .await
        .expect("emulator starts");
    pages.serve(&emulator.base_url(), emulator.default_app_id());
    let browser = BrowserSession::launch(executable).await;
    let launched = started.elapsed(); // emulator, page server and Chromium
    let page_origin = pages.origin();
    let app = browser.open(&format!("{page_origin}/")).await;
    let authenticator = app
        .add_authenticator(AuthenticatorTransport::Internal)
        .await;
    let mut suite = Suite {
        ui: None,
        emulator,
        browser,
        app,
        authenticator,
        second_authenticator: None,
        page_origin,
        user_id: String::new(),
        first_credential: String::new(),
        second_credential: String::new(),
    };

    let mut timings = Vec::new();
    macro_rules! case {
        ($name:ident) => {{
            let t0 = Instant::now();
            $name(&mut suite).await;
            timings.push((stringify!($name), t0.elapsed()));
        }};
    }
    case!(passkey_registration);
    case!(current_user_and_metadata);
    case!(login_with_identifier);
    case!(discoverable_login);
    case!(second_passkey);
    case!(rename_and_revoke_device);
    case!(revoked_credential_is_refused);
    case!(otp_login);
    case!(magic_link_login);
    case!(token_refresh);
    case!(answers_conform_to_the_spec);
    case!(ui_renders_and_shows_a_passcode);
    case!(ui_magic_link_completes_a_pending_login);
    case!(ui_clock_and_faults);
    case!(ui_users_and_app_settings);
    case!(ui_reset);
    case!(ui_with_an_admin_token);
    case!(another_site_cannot_drive_the_admin_api);
    case!(answers_conform_to_the_spec);

    for (name, took) in &timings {
        eprintln!("browser case {name}: {took:?}");
    }
    eprintln!(
        "browser suite: {} cases in {:?} (setup with the Chromium launch {launched:?})",
        timings.len(),
        started.elapsed()
    );
    suite.browser.close().await;
}

async fn passkey_registration(s: &mut Suite) {
    let out = s
        .app
        .flow(
            "register a passkey",
            &format!("t.registerPasskey({})", Suite::js(ADA)),
        )
        .await;
    s.user_id = out["user_id"].as_str().unwrap_or_default().to_owned();
    s.first_credential = out["credential_id"].as_str().unwrap_or_default().to_owned();
    s.app.check(
        !s.user_id.is_empty(),
        "registration start names the new user",
    );
    s.app.check(
        out["auth"]["redirect_url"]
            .as_str()
            .is_some_and(|u| !u.is_empty()),
        "a non-empty redirect_url",
    );
    // The authenticator holds exactly that credential, discoverable, for rp id `localhost`.
    let creds = s.app.credentials(&s.authenticator).await;
    s.app
        .check(creds.len() == 1, "the authenticator holds one credential");
    let cred = &creds[0];
    s.app.check(
        std_to_base64url(cred.credential_id.as_ref()) == s.first_credential,
        "the authenticator's credential is the one the page sent",
    );
    s.app.check(
        cred.is_resident_credential,
        "the credential is discoverable (resident)",
    );
    s.app.check(
        cred.rp_id.as_deref() == Some("localhost"),
        "the credential is scoped to rp id localhost",
    );
}

async fn current_user_and_metadata(s: &mut Suite) {
    let user = s.current_user("current user with the bearer token").await;
    s.app.check(
        user["id"] == json!(s.user_id),
        "current user is the registered user",
    );
    s.app.check(
        user["email"] == json!(ADA),
        "current user has the registered e-mail",
    );
    s.app.check(
        user["webauthn"] == json!(true),
        "current user has a passkey",
    );
    let devices = user["webauthn_devices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    s.app
        .check(devices.len() == 1, "current user lists one passkey");

    let updated = s
        .app
        .flow(
            "update metadata",
            r#"t.updateMetadata({ nickname: "Countess" })"#,
        )
        .await;
    s.app.check(
        updated["user_metadata"]["nickname"] == json!("Countess"),
        "the update answers the new metadata",
    );
    let metadata = s.app.flow("read metadata", "t.metadata()").await;
    s.app.check(
        metadata["nickname"] == json!("Countess"),
        "reading the metadata returns the stored value",
    );
}

async fn login_with_identifier(s: &mut Suite) {
    s.app.eval("sign out", "t.signOut()").await;
    let out = s
        .app
        .flow(
            "log in with an identifier",
            &format!("t.loginPasskey({})", Suite::js(ADA)),
        )
        .await;
    s.app.check(
        out["credential_id"] == json!(s.first_credential),
        "the authenticator answered with the passkey",
    );
    s.app.check(
        out["allowed"] == json!([s.first_credential]),
        "login start allows the user's passkey only",
    );
    let user = s
        .current_user("current user after the identifier login")
        .await;
    s.app.check(
        user["id"] == json!(s.user_id),
        "the identifier login signs in the user",
    );
}

async fn discoverable_login(s: &mut Suite) {
    s.app.eval("sign out", "t.signOut()").await;
    let out = s.app.flow("discoverable login", "t.loginPasskey()").await;
    s.app.check(
        out["allowed"] == json!([]),
        "a discoverable login start allows any credential",
    );
    s.app.check(
        out["credential_id"] == json!(s.first_credential),
        "the authenticator chose the resident passkey",
    );
    let user = s
        .current_user("current user after the discoverable login")
        .await;
    s.app.check(
        user["id"] == json!(s.user_id),
        "the discoverable login signs in the user of the passkey",
    );
}

async fn second_passkey(s: &mut Suite) {
    // The second passkey is a security key (a tab has one built-in authenticator); the built-in one
    // stays silent meanwhile, as if the user touched the key.
    let second = s.app.add_authenticator(AuthenticatorTransport::Usb).await;
    s.app.set_presence(&s.authenticator, false).await;
    let out = s
        .app
        .flow("add a second passkey", r#"t.addPasskey("cross-platform")"#)
        .await;
    s.app.set_presence(&s.authenticator, true).await;
    s.second_credential = out["credential_id"].as_str().unwrap_or_default().to_owned();
    s.app.check(
        !s.second_credential.is_empty() && s.second_credential != s.first_credential,
        "a new, different credential",
    );
    s.app.check(
        out["device"]["cred_id"] == json!(s.second_credential),
        "the new device is the new credential",
    );
    let devices = s.app.flow("list devices", "t.devices()").await;
    s.app.check(
        devices.as_array().map(Vec::len) == Some(2),
        "the user now has two devices",
    );
    let held = s.app.credentials(&second).await;
    s.app.check(
        held.len() == 1 && std_to_base64url(held[0].credential_id.as_ref()) == s.second_credential,
        "the second authenticator holds the second passkey",
    );
    s.app.check(
        s.app.credentials(&s.authenticator).await.len() == 1,
        "the first authenticator still holds only the first",
    );
    s.second_authenticator = Some(second);
}

fn device_with(devices: &Value, cred_id: &str) -> Option<Value> {
    devices
        .as_array()?
        .iter()
        .find(|d| d["cred_id"] == json!(cred_id))
        .cloned()
}

async fn rename_and_revoke_device(s: &mut Suite) {
    let devices = s.app.flow("list devices", "t.devices()").await;
    let first = device_with(&devices, &s.first_credential);
    s.app
        .check(first.is_some(), "the first passkey is a listed device");
    let first_id = first.expect("checked")["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let renamed = s
        .app
        .flow(
            "rename the first device",
            &format!("t.renameDevice({}, \"Work laptop\")", Suite::js(&first_id)),
        )
        .await;
    s.app.check(
        renamed["friendly_name"] == json!("Work laptop"),
        "the rename answers the new name",
    );
    let devices = s
        .app
        .flow("list devices after the rename", "t.devices()")
        .await;
    s.app.check(
        device_with(&devices, &s.first_credential)
            .is_some_and(|d| d["friendly_name"] == json!("Work laptop")),
        "the listed device has the new name",
    );

    s.app
        .flow(
            "revoke the first device",
            &format!("t.revokeDevice({})", Suite::js(&first_id)),
        )
        .await;
    let devices = s
        .app
        .flow("list devices after the revocation", "t.devices()")
        .await;
    s.app.check(
        device_with(&devices, &s.first_credential).is_none()
            && device_with(&devices, &s.second_credential).is_some(),
        "only the second passkey is left",
    );
}

async fn revoked_credential_is_refused(s: &mut Suite) {
    // An identifier login offers only the live passkey (on the second authenticator).
    let second = s.second_authenticator.clone().expect("second_passkey ran");
    s.app.set_presence(&s.authenticator, false).await;
    s.app.eval("sign out", "t.signOut()").await;
    let out = s
        .app
        .flow(
            "log in after the revocation",
            &format!("t.loginPasskey({})", Suite::js(ADA)),
        )
        .await;
    s.app.check(
        out["allowed"] == json!([s.second_credential]),
        "login start no longer offers the revoked passkey",
    );
    s.app.check(
        out["credential_id"] == json!(s.second_credential),
        "the live passkey answered",
    );

    // With only the first authenticator answering, a discoverable login uses the revoked passkey, which
    // is still on it, and the emulator refuses it.
    s.app.set_presence(&second, false).await;
    s.app.set_presence(&s.authenticator, true).await;
    s.app.eval("sign out", "t.signOut()").await;
    let refused = s
        .app
        .try_flow(
            "discoverable login with the revoked passkey",
            "t.loginPasskey()",
        )
        .await;
    s.app
        .check(!refused.ok(), "the revoked passkey does not log in");
    s.app.check(
        refused.status() == Some(401)
            && refused.raw["calls"]
                .as_array()
                .and_then(|c| c.last())
                .is_some_and(|c| c["path"] == json!("/login/webauthn/finish")),
        &format!(
            "login finish refuses the revoked credential with 401 (got {:?} {:?}: {})",
            refused.status(),
            refused.code(),
            refused.error()
        ),
    );
}

async fn otp_login(s: &mut Suite) {
    s.app.eval("sign out", "t.signOut()").await;
    let otp_id = s
        .app
        .flow(
            "send a login passcode",
            &format!("t.loginOtpStart({})", Suite::js(ADA)),
        )
        .await;
    let otp_id = otp_id.as_str().unwrap_or_default().to_owned();
    let message = s.sent(ADA, |m| m.otp_id.as_deref() == Some(otp_id.as_str()));
    let otp = message.otp.clone().unwrap_or_default();
    s.app
        .flow(
            "activate the passcode",
            &format!("t.activateOtp({}, {})", Suite::js(&otp), Suite::js(&otp_id)),
        )
        .await;
    let user = s
        .current_user("current user after the passcode login")
        .await;
    s.app.check(
        user["id"] == json!(s.user_id),
        "the passcode logs the user in",
    );
}

async fn magic_link_login(s: &mut Suite) {
    s.app.eval("sign out", "t.signOut()").await;
    let link_id = s
        .app
        .flow(
            "send a login magic link",
            &format!("t.loginMagicLinkStart({})", Suite::js(ADA)),
        )
        .await;
    let link_id = link_id.as_str().unwrap_or_default().to_owned();
    let pending = s
        .app
        .try_flow(
            "magic link status before activation",
            &format!("t.magicLinkStatus({})", Suite::js(&link_id)),
        )
        .await;
    s.app.check(
        !pending.ok() && pending.status().is_some_and(|st| st >= 400),
        "a pending link answers an error status",
    );

    let message = s.sent(ADA, |m| {
        m.magic_link_id.as_deref() == Some(link_id.as_str())
    });
    let url = message.magic_link_url.clone().unwrap_or_default();
    s.app.check(
        url.starts_with(&format!("{}/", s.page_origin)),
        "the link opens the app's auth origin",
    );
    // The user opens the link in a second tab; the page there activates it.
    let tab = s.browser.open(&url).await;
    let activation = tab
        .eval("activation in the link's tab", "t.activation")
        .await;
    tab.check(
        activation["ok"] == json!(true),
        &format!("the link activates: {activation}"),
    );
    // The first tab, polling, now gets the session.
    s.app
        .flow(
            "magic link status after activation",
            &format!("t.magicLinkStatus({})", Suite::js(&link_id)),
        )
        .await;
    let user = s
        .current_user("current user after the magic link login")
        .await;
    s.app.check(
        user["id"] == json!(s.user_id),
        "the magic link logs the user in",
    );
    tab.page().clone().close().await.expect("tab closes");
}

async fn token_refresh(s: &mut Suite) {
    let out = s.app.flow("refresh the session", "t.refresh()").await;
    s.app.check(
        out["has_refresh_token"] == json!(true)
            && out["refresh_token_changed"] == json!(true)
            && out["auth_token_changed"] == json!(true),
        "the refresh rotates the pair: a new auth token and a new refresh token",
    );
    let user = s
        .current_user("current user with the refreshed token")
        .await;
    s.app.check(
        user["id"] == json!(s.user_id),
        "the refreshed token identifies the user",
    );
    // The app has no reuse grace window: the spent token is refused, and its reuse revokes the
    // whole family, so the pair the rotation gave is refused too.
    let reuse = s
        .app
        .try_flow(
            "present the spent refresh token",
            "t.presentSpentRefreshToken()",
        )
        .await;
    s.app.check(
        !reuse.ok() && reuse.status() == Some(401) && reuse.code() == Some("invalid_refresh_token"),
        "the spent refresh token is refused (401 invalid_refresh_token)",
    );
    let after_reuse = s
        .app
        .try_flow("refresh after the reuse", "t.refresh()")
        .await;
    s.app.check(
        !after_reuse.ok()
            && after_reuse.status() == Some(401)
            && after_reuse.code() == Some("invalid_refresh_token"),
        "a reuse revokes the family: the rotated refresh token is refused too",
    );
    // Signed in again for the cases that follow.
    otp_login(s).await;
}

async fn ui_renders_and_shows_a_passcode(s: &mut Suite) {
    let devices = s.app.flow("list devices", "t.devices()").await;
    let device_name = devices[0]["friendly_name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    s.app
        .check(!device_name.is_empty(), "the remaining device has a name");
    let ui = s
        .browser
        .open(&format!("{}/ui?refresh_ms=100", s.emulator.admin_url()))
        .await;
    ui.wait_for_text("the UI renders", "Passage emulator").await;
    let token_form = ui
        .eval(
            "the token form's display",
            "getComputedStyle(document.getElementById('token-form')).display",
        )
        .await;
    ui.check(
        token_form == json!("none"),
        "an open UI asks for no admin token",
    );
    let text = ui.eval("the UI's text", "document.body.innerText").await;
    let text = text.as_str().unwrap_or_default();
    for (what, needle) in [
        ("the app", s.emulator.default_app_id()),
        ("the app's auth origin", s.page_origin.as_str()),
        ("the user", ADA),
        ("the user's id", s.user_id.as_str()),
        ("the user's passkey", device_name.as_str()),
    ] {
        ui.check(
            text.contains(needle),
            &format!("the UI shows {what} ({needle})"),
        );
    }

    // A passcode sent while the UI is open appears in it (live refresh) and logs the user in.
    s.app.eval("sign out", "t.signOut()").await;
    let otp_id = s
        .app
        .flow(
            "send a passcode",
            &format!("t.loginOtpStart({})", Suite::js(ADA)),
        )
        .await;
    let otp_id = otp_id.as_str().unwrap_or_default().to_owned();
    let selector = format!(".otp[data-otp-id={}]", Suite::js(&otp_id));
    let shown = ui
        .wait_until(
            "the UI shows the new passcode",
            &format!(
                "document.querySelector({})?.textContent",
                Suite::js(&selector)
            ),
        )
        .await;
    let sent = s.sent(ADA, |m| m.otp_id.as_deref() == Some(otp_id.as_str()));
    ui.check(
        sent.otp.is_some() && shown.as_str() == sent.otp.as_deref(),
        "the UI shows the passcode that was sent",
    );
    s.app
        .flow(
            "log in with the passcode read from the UI",
            &format!("t.activateOtp({}, {})", shown, Suite::js(&otp_id)),
        )
        .await;
    // The request log follows live: the activation just made is listed.
    ui.wait_for_text(
        "the request log lists the activation",
        &format!("/v1/apps/{}/otp/activate", s.emulator.default_app_id()),
    )
    .await;
    s.ui = Some(ui);
}

async fn ui_magic_link_completes_a_pending_login(s: &mut Suite) {
    let ui = s.ui.take().expect("the UI is open");
    s.app.eval("sign out", "t.signOut()").await;
    let link_id = s
        .app
        .flow(
            "send a magic link",
            &format!("t.loginMagicLinkStart({})", Suite::js(ADA)),
        )
        .await;
    let link_id = link_id.as_str().unwrap_or_default().to_owned();
    let selector = format!("a.magic-link[data-magic-link-id={}]", Suite::js(&link_id));
    ui.wait_until(
        "the UI shows the new magic link",
        &format!("document.querySelector({})", Suite::js(&selector)),
    )
    .await;
    if let Ok(path) = std::env::var("PASSAGE_UI_SCREENSHOT") {
        ui.screenshot(std::path::Path::new(&path)).await;
    }
    // Clicking the link opens the app in a new tab, which activates it; the pending tab hears of it.
    s.app
        .eval(
            "listen for the activation",
            "t.waiting = t.nextActivation(), true",
        )
        .await;
    ui.click("click the magic link in the UI", &selector).await;
    let activation = s
        .app
        .eval("the activation in the new tab", "t.waiting")
        .await;
    s.app.check(
        activation["ok"] == json!(true),
        &format!("the link opened from the UI activates: {activation}"),
    );
    s.app
        .flow(
            "the pending login completes",
            &format!("t.magicLinkStatus({})", Suite::js(&link_id)),
        )
        .await;
    let user = s
        .current_user("current user after the UI's magic link")
        .await;
    s.app.check(
        user["id"] == json!(s.user_id),
        "the magic link from the UI logs the user in",
    );
    s.ui = Some(ui);
}

async fn ui_clock_and_faults(s: &mut Suite) {
    let ui = s.ui.take().expect("the UI is open");
    // The clock's buttons move emulator time.
    let before = s.emulator.now();
    ui.click(
        "advance the clock by a minute",
        r#"button[data-action="advance"][data-seconds="60"]"#,
    )
    .await;
    ui.wait_for_text("the clock shows the new offset", "60 s ahead")
        .await;
    s.app.check(
        s.emulator.now() >= before + 60,
        "the emulator clock moved a minute",
    );

    // A fault armed from the form answers the next matching call, then is used up.
    let prefix = format!("/v1/apps/{}/currentuser", s.emulator.default_app_id());
    ui.eval(
        "fill in the fault form",
        &format!(
            r#"(() => {{ const f = document.querySelector('form[data-action="add-fault"]');
                f.elements.path_prefix.value = {}; f.elements.kind.value = "status503";
                f.elements.count.value = "1"; return true; }})()"#,
            Suite::js(&prefix)
        ),
    )
    .await;
    ui.click(
        "arm the fault",
        r#"form[data-action="add-fault"] button[type="submit"]"#,
    )
    .await;
    ui.wait_for_text("the UI lists the armed fault", "503 unavailable")
        .await;
    let faulted = s
        .app
        .try_flow("current user under the fault", "t.currentUser()")
        .await;
    s.app.check(
        !faulted.ok() && faulted.status() == Some(503),
        &format!(
            "the armed fault answers 503 (got {:?}: {})",
            faulted.status(),
            faulted.error()
        ),
    );
    ui.wait_for_text("the used-up fault leaves the list", "No fault armed")
        .await;
    let user = s.current_user("current user after the fault").await;
    s.app.check(
        user["id"] == json!(s.user_id),
        "the next call is answered normally",
    );
    s.ui = Some(ui);
}

/// Runs a UI action (started by `act`) and waits for the page to report it done.
async fn ui_action(ui: &Tab, action: &str) {
    ui.wait_until(
        &format!("the UI reports {action} done"),
        &format!(
            "(() => {{ const t = document.getElementById('flash').textContent;
                 return t === {done} || (t.includes('answered') && t); }})()",
            done = Suite::js(&format!("{action}: done"))
        ),
    )
    .await;
    let flash = ui
        .eval(
            "the UI's message",
            "document.getElementById('flash').textContent",
        )
        .await;
    ui.check(
        flash == json!(format!("{action}: done")),
        &format!("{action} succeeded in the UI: {flash}"),
    );
}

async fn ui_users_and_app_settings(s: &mut Suite) {
    const GRACE: &str = "grace@example.com";
    let ui = s.ui.take().expect("the UI is open");
    ui.accept_dialogs().await;
    let app_id = s.emulator.default_app_id().to_owned();
    let management = s.management();

    // Create a user from the form (the UI calls the Management API with the app's key).
    ui.type_into(
        "type the new user's identifier",
        r#"form[data-action="create-user"] input[name="identifier"]"#,
        GRACE,
    )
    .await;
    ui.click(
        "create the user",
        r#"form[data-action="create-user"] button[type="submit"]"#,
    )
    .await;
    ui_action(&ui, "create-user").await;
    let users = s.users().await;
    let grace = users.iter().find(|u| u.email == GRACE);
    ui.check(grace.is_some(), "the user created in the UI exists");
    let grace_id = grace.expect("checked").id.clone();
    ui.wait_for_text("the UI lists the new user", GRACE).await;

    // Deactivate them: their login is refused.
    let row = format!("tr[data-user={}]", Suite::js(&grace_id));
    ui.eval(
        "choose inactive",
        &format!(
            r#"(() => {{ const sel = document.querySelector({});
                sel.value = "inactive"; sel.dispatchEvent(new Event("change", {{ bubbles: true }})); return true; }})()"#,
            Suite::js(&format!("{row} select[data-action=\"user-status\"]"))
        ),
    )
    .await;
    ui_action(&ui, "user-status").await;
    let user = management
        .get_user()
        .app_id(&app_id)
        .user_id(&grace_id)
        .send()
        .await
        .expect("management get user")
        .into_inner()
        .user;
    ui.check(
        user.status.as_str() == "inactive",
        "the status chosen in the UI is stored",
    );
    let refused = s
        .app
        .try_flow(
            "an inactive user's login",
            &format!("t.loginOtpStart({})", Suite::js(GRACE)),
        )
        .await;
    s.app.check(
        refused.status() == Some(403),
        &format!(
            "an inactive user's login is refused with 403 (got {:?} {:?})",
            refused.status(),
            refused.code()
        ),
    );

    // Delete them (the confirmation is accepted).
    ui.click(
        "delete the user",
        &format!("{row} button[data-action=\"delete-user\"]"),
    )
    .await;
    ui_action(&ui, "delete-user").await;
    let gone = management
        .get_user()
        .app_id(&app_id)
        .user_id(&grace_id)
        .send()
        .await;
    ui.check(
        gone.is_err_and(|e| e.status().map(|s| s.as_u16()) == Some(404)),
        "the user deleted in the UI is gone",
    );

    // Change an app setting: the next login answers the new redirect URL.
    // The editor is opened from script: a click could land while a refresh replaces the panel.
    ui.eval(
        "open the settings editor and edit the settings",
        &format!(
            r#"(() => {{ document.querySelector({}).open = true;
                const area = document.querySelector({});
                const settings = JSON.parse(area.value); settings.redirect_url = "/welcome";
                area.value = JSON.stringify(settings, null, 2);
                area.dispatchEvent(new Event("input", {{ bubbles: true }})); return true; }})()"#,
            Suite::js(&format!(
                "details[data-key={}]",
                Suite::js(&format!("edit-{app_id}"))
            )),
            Suite::js(&format!(
                "form[data-action=\"update-app\"][data-app={}] textarea",
                Suite::js(&app_id)
            ))
        ),
    )
    .await;
    ui.click(
        "apply the settings",
        &format!(
            "form[data-action=\"update-app\"][data-app={}] button[type=\"submit\"]",
            Suite::js(&app_id)
        ),
    )
    .await;
    ui_action(&ui, "update-app").await;
    s.app.eval("sign out", "t.signOut()").await;
    let otp_id = s
        .app
        .flow(
            "send a passcode",
            &format!("t.loginOtpStart({})", Suite::js(ADA)),
        )
        .await;
    let otp_id = otp_id.as_str().unwrap_or_default().to_owned();
    let otp = s
        .sent(ADA, |m| m.otp_id.as_deref() == Some(otp_id.as_str()))
        .otp
        .unwrap_or_default();
    let auth = s
        .app
        .flow(
            "log in after the settings change",
            &format!("t.activateOtp({}, {})", Suite::js(&otp), Suite::js(&otp_id)),
        )
        .await;
    s.app.check(
        auth["redirect_url"] == json!("/welcome"),
        &format!("the new redirect_url is answered: {auth}"),
    );
    s.ui = Some(ui);
}

async fn ui_reset(s: &mut Suite) {
    let ui = s.ui.take().expect("the UI is open");
    // The app's page can keep calling the Auth API on its own (Passage's elements poll a magic
    // link's status every 5 s); a call after the reset would refill the request log before the
    // UI shows it empty. No later case uses the page, only the answers it recorded.
    s.app.goto("about:blank").await;
    ui.click("reset the emulator", r#"button[data-action="reset"]"#)
        .await;
    ui_action(&ui, "reset").await;
    // Read from the emulator itself: a call of the Management API would be logged too.
    let requests = s.emulator.requests();
    ui.check(
        requests.is_empty(),
        &format!("no API request after the reset, but: {requests:?}"),
    );
    // The panels re-render on their next refresh after the reset: wait for each
    // (the step timeout fails the suite if one never shows the emptied state).
    for empty in ["No users yet.", "Nothing sent yet.", "No API request yet."] {
        ui.wait_for_text(&format!("the UI shows {empty:?} after the reset"), empty)
            .await;
    }
    // Then through the Management API (whose call the request log now shows).
    let users = s.users().await;
    ui.check(
        users.is_empty() && s.emulator.outbox(ADA).is_empty(),
        "the reset emptied users and outbox",
    );
    s.ui = Some(ui);
}

async fn ui_with_an_admin_token(s: &mut Suite) {
    const TOKEN: &str = "browser-suite-admin-token";
    let locked = CheckedEmulator::start(EmulatorConfig {
        admin_token: Some(TOKEN.into()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator with an admin token starts");
    let ui = s
        .browser
        .open(&format!("{}/ui?refresh_ms=100", locked.admin_url()))
        .await;
    // Without the token the page holds no state and asks for it.
    let app_id = locked.default_app_id().to_owned();
    let before = ui
        .eval("the locked page's text", "document.body.innerText")
        .await;
    ui.check(
        !before.as_str().unwrap_or_default().contains(&app_id),
        "without the token the UI shows no state",
    );
    ui.wait_until(
        "the token form shows",
        "!document.getElementById('token-form').hidden",
    )
    .await;
    ui.type_into(
        "type the admin token",
        "#token-form input[name=token]",
        TOKEN,
    )
    .await;
    ui.click("unlock", "#token-form button[type=submit]").await;
    ui.wait_for_text("with the token the UI shows the app", &app_id)
        .await;
    ui.page().clone().close().await.expect("tab closes");
}

/// A page of another site (another origin on loopback) sends what any page can send without a
/// CORS preflight: a `no-cors` `text/plain` `fetch` and an HTML form post (`enctype="text/plain"`,
/// the JSON-looking body trick) to the admin API. The emulator refuses them (415) and nothing
/// changes: no API key made, no clock step. (Foreign origins and DNS-rebinding `Host`s are covered over
/// plain HTTP in `emulator/tests/trust.rs`.)
async fn another_site_cannot_drive_the_admin_api(s: &mut Suite) {
    let app_id = s.emulator.default_app_id().to_owned();
    let admin = s.emulator.admin();
    let keys_before = admin.api_keys(&app_id).await.expect("api keys").len();
    let clock_before = admin.clock().await.expect("clock").offset_seconds;
    // The attack goes through a recording proxy, so the test sees that each request arrived and
    // what it was answered.
    let proxy = RecordingProxy::start(s.emulator.root_url()).await;
    let site = serve_another_site().await;
    let tab = s.browser.open(&format!("{site}/")).await;
    let target = format!("{}/_emulator", proxy.origin());
    let script = format!(
        r#"(async () => {{
  const admin = {admin};
  const users = admin + "/apps/" + {app} + "/api-keys";
  await fetch(users, {{ mode: "no-cors", method: "POST", headers: {{ "Content-Type": "text/plain" }},
    body: JSON.stringify({{ name: "victim" }}) }});
  await fetch(admin + "/clock/advance", {{ mode: "no-cors", method: "POST",
    headers: {{ "Content-Type": "text/plain" }}, body: JSON.stringify({{ seconds: 86400 }}) }});
  const frame = document.createElement("iframe");
  frame.name = "sink";
  const blank = new Promise((done) => frame.addEventListener("load", done, {{ once: true }}));
  document.body.append(frame);
  await blank;
  const answered = new Promise((done) => frame.addEventListener("load", done, {{ once: true }}));
  const form = document.createElement("form");
  form.method = "POST";
  form.action = users;
  form.target = "sink";
  form.enctype = "text/plain";
  const field = document.createElement("input");
  field.name = '{{"name":"formvictim","x":"';
  field.value = '"}}';
  form.append(field);
  document.body.append(form);
  form.submit();
  await answered;
  return "sent";
}})()"#,
        admin = Suite::js(&target),
        app = Suite::js(&app_id),
    );
    let sent = tab
        .eval("another site posts to the admin API", &script)
        .await;
    tab.check(sent == "sent", "the other site's page ran its requests");
    let posts: Vec<(String, u16)> = proxy
        .recorded()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| (r.path, r.status))
        .collect();
    let users_path = format!("/_emulator/apps/{app_id}/api-keys");
    tab.check(
        posts
            == vec![
                (users_path.clone(), 415),
                ("/_emulator/clock/advance".to_owned(), 415),
                (users_path, 415),
            ],
        &format!("each request reached the emulator and was refused with 415: {posts:?}"),
    );
    let keys = admin.api_keys(&app_id).await.expect("api keys");
    tab.check(
        keys.len() == keys_before && !keys.iter().any(|k| k.name.contains("victim")),
        "no API key was made",
    );
    let clock_after = admin.clock().await.expect("clock").offset_seconds;
    tab.check(clock_after == clock_before, "the clock did not move");
    tab.page().clone().close().await.expect("tab closes");
}

/// Every answer the emulator gave since the last check (to the page, the UI's calls and the test's
/// own) conforms to the spec. (The emulator checks again when the suite ends.)
async fn answers_conform_to_the_spec(s: &mut Suite) {
    let before = s.emulator.tally().checked;
    let mismatches = s.emulator.check();
    let checked = s.emulator.tally().checked - before;
    s.app
        .check(checked > 0, "the emulator recorded the browser's calls");
    s.app.check(
        mismatches.is_empty(),
        &format!(
            "{} of {checked} answers do not conform to the spec:\n{}",
            mismatches.len(),
            mismatches
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    );
}
