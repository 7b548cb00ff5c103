//! HTML of the emulator UI, rendered from the live state. Every value from the state is escaped.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::base::clock::rfc3339;
use crate::base::enums::UserStatus;
use crate::context::Context;
use crate::model::app::AppRecord;
use crate::model::faults::FaultKind;
use crate::model::state::EmulatorState;

const STYLE: &str = include_str!("ui.css");
const SCRIPT: &str = include_str!("ui.js");

/// Newest request-log entries shown.
const SHOWN_REQUESTS: usize = 200;
/// Newest outbox messages shown.
const SHOWN_MESSAGES: usize = 100;
/// Users shown per app (the first by id); the rest are counted.
const SHOWN_USERS: usize = 200;
/// Devices and active sessions listed per user; the rest are counted.
const SHOWN_PER_USER: usize = 20;
/// Longest value shown as it is; longer ones are cut (with `…`), so that no value can blow the page up.
const SHOWN_CHARS: usize = 120;

/// Largest settings JSON offered for editing in the page.
const MAX_EDITABLE_SETTINGS: usize = 64 * 1024;

/// `text`, cut to [`SHOWN_CHARS`] characters (with `…` when cut).
fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text.into(),
        Some((end, _)) => format!("{}…", &text[..end]).into(),
    }
}

/// Escapes text for HTML content and quoted attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    /// Everything, rendered on the server.
    Full,
    /// No state: an admin token is required, which the page's script asks for.
    NeedsToken,
}

/// The panels refreshed live, by element id suffix (`live-<name>`), in page order.
const PANELS: [&str; 7] = [
    "clock",
    "apps",
    "app-options",
    "users",
    "outbox",
    "faults",
    "requests",
];

fn panel(ctx: &Context, state: &EmulatorState, name: &str) -> String {
    match name {
        "clock" => clock(ctx),
        "app-options" => state
            .apps
            .keys()
            .map(|id| format!(r#"<option value="{0}">{0}</option>"#, esc(id)))
            .collect(),
        "apps" => apps(ctx, state),
        "users" => users(ctx, state),
        "outbox" => outbox(state),
        "faults" => faults(ctx),
        _ => requests(ctx),
    }
}

/// Every live panel's HTML, for `GET /_emulator/ui/panels`.
pub(super) fn panels(ctx: &Context) -> Value {
    let state = ctx.lock();
    let map: serde_json::Map<String, Value> = PANELS
        .iter()
        .map(|name| ((*name).to_owned(), json!(panel(ctx, &state, name))))
        .collect();
    Value::Object(map)
}

/// The whole page.
pub(super) fn page(ctx: &Context, refresh_ms: u64, view: View) -> String {
    let state = ctx.lock();
    let content = |name: &str| match view {
        View::Full => panel(ctx, &state, name),
        View::NeedsToken => String::new(),
    };
    let live = |name: &str| {
        format!(
            r#"<div class="live" id="live-{name}">{}</div>"#,
            content(name)
        )
    };
    let app_options = content("app-options");
    let first_app = match view {
        View::Full => state.apps.keys().next().cloned().unwrap_or_default(),
        View::NeedsToken => String::new(),
    };
    let needs_token = u8::from(view == View::NeedsToken);
    let kinds: String = FAULT_KINDS
        .iter()
        .map(|(value, label)| format!(r#"<option value="{value}">{label}</option>"#))
        .collect();
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Passage emulator</title>
<style>{STYLE}</style>
</head>
<body data-refresh-ms="{refresh_ms}" data-needs-token="{needs_token}">
<header>
  <h1>Passage emulator</h1>
  <span class="muted">API <code>{base}</code></span>
  <button type="button" class="danger" data-action="reset" title="Empty users, sessions, outbox, faults and the request log">Reset state</button>
</header>
<form id="token-form" class="inline" hidden>
  This emulator requires its admin token:
  <input name="token" type="password" autocomplete="off" aria-label="admin token" required>
  <button type="submit">Unlock</button>
</form>
<p id="flash" role="status" aria-live="polite"></p>
<nav>
  <a href="#apps">Apps</a> <a href="#users">Users</a> <a href="#outbox">Outbox</a>
  <a href="#clock">Clock</a> <a href="#faults">Faults</a> <a href="#requests">Request log</a>
</nav>
<main>
<section id="clock">
  <h2>Clock</h2>
  {clock}
  <div class="actions">
    Advance by
    <button type="button" data-action="advance" data-seconds="60">1 min</button>
    <button type="button" data-action="advance" data-seconds="300">5 min</button>
    <button type="button" data-action="advance" data-seconds="3600">1 h</button>
    <button type="button" data-action="advance" data-seconds="86400">1 day</button>
    <form data-action="advance" class="inline">
      <input name="seconds" type="number" min="0" placeholder="seconds" aria-label="seconds to advance" required>
      <button type="submit">Advance</button>
    </form>
  </div>
</section>
<section id="apps">
  <h2>Apps</h2>
  {apps}
</section>
<section id="users">
  <h2>Users</h2>
  <form data-action="create-user" class="inline">
    <select name="app_id" aria-label="app" class="live" id="live-app-options">{app_options}</select>
    <input name="identifier" placeholder="e-mail or +15551234567" aria-label="identifier" required>
    <select name="status" aria-label="status"><option>active</option><option>inactive</option><option>pending</option></select>
    <button type="submit">Create user</button>
  </form>
  {users}
</section>
<section id="outbox">
  <h2>Outbox <button type="button" data-action="clear-outbox">Clear</button></h2>
  {outbox}
</section>
<section id="faults">
  <h2>Faults <button type="button" data-action="clear-faults">Disarm all</button></h2>
  <form data-action="add-fault" class="inline">
    <input name="path_prefix" value="/v1/apps/{first_app}/" aria-label="path prefix" size="34" required>
    <select name="method" aria-label="method"><option value="">any method</option><option>GET</option><option>POST</option><option>PATCH</option><option>DELETE</option></select>
    <select name="kind" aria-label="kind">{kinds}</select>
    <input name="count" type="number" min="1" value="1" aria-label="count" size="4">
    <input name="status" type="number" min="200" max="599" placeholder="status" aria-label="status (truncated or non-JSON body)">
    <input name="retry_after" type="number" min="0" placeholder="Retry-After s" aria-label="Retry-After seconds">
    <input name="delay_ms" type="number" min="0" max="600000" placeholder="delay ms" aria-label="delay in milliseconds">
    <button type="submit">Arm fault</button>
  </form>
  {faults}
</section>
<section id="requests">
  <h2>Request log <button type="button" data-action="clear-requests">Clear</button></h2>
  {requests}
</section>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"##,
        base = esc(&ctx.urls.base_url()),
        first_app = esc(&first_app),
        clock = live("clock"),
        apps = live("apps"),
        users = live("users"),
        outbox = live("outbox"),
        faults = live("faults"),
        requests = live("requests"),
    )
}

/// Fault kinds offered by the form: wire value and label.
const FAULT_KINDS: [(&str, &str); 8] = [
    ("status500", "500 error"),
    ("status503", "503 unavailable"),
    ("status429", "429 rate limited"),
    ("delay", "delay, then answer"),
    ("truncated_body", "truncated JSON body"),
    ("non_json_body", "HTML body"),
    ("drop_connection", "drop connection"),
    ("drop_after_processing", "process, then drop"),
];

fn kind_label(kind: FaultKind) -> String {
    let wire = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    FAULT_KINDS
        .iter()
        .find(|(value, _)| *value == wire)
        .map(|(_, label)| (*label).to_owned())
        .unwrap_or(wire)
}

fn time(secs: i64) -> String {
    format!(r#"<time>{}</time>"#, esc(&rfc3339(secs)))
}

fn clock(ctx: &Context) -> String {
    format!(
        r#"<p>Emulator time <strong class="now">{}</strong> <span class="muted">({} s ahead of the system clock)</span></p>"#,
        esc(&rfc3339(ctx.clock.now())),
        ctx.clock.offset_seconds()
    )
}

fn apps(ctx: &Context, state: &EmulatorState) -> String {
    let mut out = String::new();
    for app in state.apps.values() {
        let c = &app.config;
        let _ = write!(
            out,
            r#"<article class="card"><h3>{name} <code>{id}</code></h3><dl>
<dt>auth origin</dt><dd><a href="{origin}" target="_blank" rel="noopener">{origin}</a></dd>
<dt>WebAuthn</dt><dd>rp id <code>{rp_id}</code>, origin <code>{rp_origin}</code></dd>
<dt>issuer</dt><dd><code>{issuer}</code></dd>
<dt>signing key</dt><dd><code>{kid}</code> ({keys} key(s) published)</dd>
<dt>users</dt><dd>{users}</dd>
</dl><details data-key="settings-{id}"><summary>All settings</summary><table class="settings">"#,
            name = esc(&clip(&c.name)),
            id = esc(&c.id),
            origin = esc(&c.auth_origin),
            rp_id = esc(&c.effective_rp_id()),
            rp_origin = esc(&c.effective_rp_origin()),
            issuer = esc(&ctx.urls.issuer(&c.id)),
            kid = esc(app.active_key().map(|k| k.kid.as_str()).unwrap_or("none")),
            keys = app.keys.len(),
            users = app.users.len(),
        );
        // Every setting, whatever the configuration grows to hold; the API key is left out.
        let mut editable = serde_json::Map::new();
        if let Ok(Value::Object(settings)) = serde_json::to_value(c) {
            for (key, value) in settings.iter().filter(|(k, _)| *k != "api_key") {
                if key != "id" {
                    editable.insert(key.clone(), value.clone());
                }
                let shown = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let _ = write!(
                    out,
                    "<tr><th>{}</th><td><code>{}</code></td></tr>",
                    esc(key),
                    esc(&clip(&shown))
                );
            }
        }
        let editable = serde_json::to_string_pretty(&Value::Object(editable)).unwrap_or_default();
        if editable.len() > MAX_EDITABLE_SETTINGS {
            out.push_str(
                r#"</table></details><p class="muted">The settings are too large to edit here; use <code>PATCH /_emulator/apps/{app_id}</code>.</p></article>"#,
            );
            continue;
        }
        let _ = write!(
            out,
            r#"</table></details><details data-key="edit-{id}"><summary>Edit settings</summary>
<form data-action="update-app" data-app="{id}"><textarea name="settings" rows="{rows}" spellcheck="false" aria-label="settings of {id} (JSON)">{json}</textarea>
<div><button type="submit">Apply</button> <span class="muted">Changed keys are applied at once; users, sessions and keys stay.</span></div></form></details></article>"#,
            id = esc(&c.id),
            rows = editable.lines().count().min(30),
            json = esc(&editable),
        );
    }
    out
}

fn users(ctx: &Context, state: &EmulatorState) -> String {
    let now = ctx.clock.now();
    let mut out = String::new();
    for app in state.apps.values() {
        let _ = write!(
            out,
            r#"<h3>{} <span class="muted">({} user(s))</span></h3>"#,
            esc(&app.config.id),
            app.users.len()
        );
        if app.users.is_empty() {
            out.push_str(r#"<p class="muted">No users yet.</p>"#);
            continue;
        }
        out.push_str(
            "<table><thead><tr><th>user</th><th>status</th><th>logins</th>\
             <th>passkeys</th><th>sessions</th><th></th></tr></thead><tbody>",
        );
        for user in app.users.values().take(SHOWN_USERS) {
            user_row(&mut out, app, user, now);
        }
        out.push_str("</tbody></table>");
        if app.users.len() > SHOWN_USERS {
            let _ = write!(
                out,
                r#"<p class="muted">{} more user(s) not shown (the admin API lists them all).</p>"#,
                app.users.len() - SHOWN_USERS
            );
        }
    }
    out
}

fn user_row(out: &mut String, app: &AppRecord, user: &crate::model::records::UserRecord, now: i64) {
    let app_id = esc(&app.config.id);
    let user_id = esc(&user.id);
    let mut identity = String::new();
    for (value, verified) in [
        (&user.email, user.email_verified),
        (&user.phone, user.phone_verified),
    ] {
        if !value.is_empty() {
            let _ = write!(
                identity,
                r#"<div>{}{}</div>"#,
                esc(&clip(value)),
                if verified {
                    r#" <span class="badge ok" title="verified">verified</span>"#
                } else {
                    r#" <span class="badge" title="not verified">unverified</span>"#
                }
            );
        }
    }
    let options: String = [
        UserStatus::Active,
        UserStatus::Inactive,
        UserStatus::Pending,
    ]
    .into_iter()
    .map(|s| {
        format!(
            r#"<option{}>{}</option>"#,
            if s == user.status { " selected" } else { "" },
            s.as_str()
        )
    })
    .collect();
    let mut devices = String::new();
    let theirs = app.devices.values().filter(|d| d.user_id == user.id);
    let (mut device_count, mut shown_devices) = (0, 0);
    for d in theirs {
        device_count += 1;
        if shown_devices == SHOWN_PER_USER {
            continue;
        }
        shown_devices += 1;
        let _ = write!(
            devices,
            r#"<li><strong>{}</strong> <span class="muted">{} · added {} · used {} time(s){}</span></li>"#,
            esc(&clip(&d.friendly_name)),
            d.kind.as_str(),
            time(d.created_at),
            d.usage_count,
            if d.usage_count > 0 {
                format!(", last {}", time(d.last_login_at))
            } else {
                String::new()
            }
        );
    }
    if device_count > shown_devices {
        let _ = write!(
            devices,
            r#"<li class="muted">{} more</li>"#,
            device_count - shown_devices
        );
    }
    let mut sessions = String::new();
    let (mut active, mut ended) = (0, 0);
    for f in app.families.values().filter(|f| f.user_id == user.id) {
        if f.revoked || f.expires_at <= now {
            ended += 1;
            continue;
        }
        active += 1;
        if active > SHOWN_PER_USER {
            continue;
        }
        let _ = write!(
            sessions,
            r#"<li>since {} <span class="muted">until {}</span></li>"#,
            time(f.created_at),
            time(f.expires_at)
        );
    }
    let sessions = match active {
        0 => r#"<span class="muted">none active</span>"#.to_owned(),
        n => format!(
            r#"<details data-key="sessions-{}-{}"><summary>{n} active</summary><ul>{sessions}</ul></details>"#,
            esc(&app.config.id),
            esc(&user.id)
        ),
    };
    let _ = write!(
        out,
        r#"<tr data-user="{user_id}">
<td>{identity}<code class="muted">{user_id}</code><div class="muted">created {created}</div></td>
<td><select name="status" data-action="user-status" data-app="{app_id}" data-user="{user_id}" aria-label="status of {user_id}">{options}</select></td>
<td>{logins}{last}</td>
<td>{devices}</td>
<td>{sessions}{ended}</td>
<td><button type="button" class="danger" data-action="delete-user" data-app="{app_id}" data-user="{user_id}">Delete</button></td>
</tr>"#,
        created = time(user.created_at),
        logins = user.login_count,
        last = user
            .last_login_at
            .map(|t| format!(r#"<div class="muted">last {}</div>"#, time(t)))
            .unwrap_or_default(),
        devices = if devices.is_empty() {
            r#"<span class="muted">none</span>"#.to_owned()
        } else {
            format!("<ul>{devices}</ul>")
        },
        ended = if ended > 0 {
            format!(r#"<div class="muted">{ended} ended</div>"#)
        } else {
            String::new()
        },
    );
}

fn outbox(state: &EmulatorState) -> String {
    if state.outbox.is_empty() {
        return r#"<p class="muted">Nothing sent yet. Passcodes and magic links appear here.</p>"#
            .to_owned();
    }
    let mut out = String::from(
        "<table><thead><tr><th>sent</th><th>app</th><th>to</th><th>message</th></tr></thead><tbody>",
    );
    for m in state.outbox.iter().rev().take(SHOWN_MESSAGES) {
        let body = if let Some(code) = &m.otp {
            format!(
                r#"passcode <strong class="otp" data-otp-id="{}">{}</strong>"#,
                esc(m.otp_id.as_deref().unwrap_or_default()),
                esc(&clip(code))
            )
        } else if let Some(url) = &m.magic_link_url {
            // Links come from the app's configured auth origin; only web links are made clickable.
            if url.starts_with("http://") || url.starts_with("https://") {
                format!(
                    r#"magic link <a class="magic-link" data-magic-link-id="{}" href="{}" target="_blank" rel="noopener">open {}</a>"#,
                    esc(m.magic_link_id.as_deref().unwrap_or_default()),
                    esc(url),
                    esc(&clip(url.split('?').next().unwrap_or_default()))
                )
            } else {
                format!("magic link <code>{}</code>", esc(&clip(url)))
            }
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<tr><td><time>{}</time></td><td>{}</td><td>{}</td><td>{body}</td></tr>",
            esc(&m.created_at),
            esc(&clip(&m.app_id)),
            esc(&clip(&m.identifier))
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn faults(ctx: &Context) -> String {
    let rules = ctx.faults.list();
    if rules.is_empty() {
        return r#"<p class="muted">No fault armed: every request is answered normally.</p>"#
            .to_owned();
    }
    let mut out = String::from(
        "<table><thead><tr><th>path prefix</th><th>method</th><th>fault</th><th>left</th></tr></thead><tbody>",
    );
    for r in rules {
        let mut detail = String::new();
        if let Some(s) = r.status {
            let _ = write!(detail, " status {s}");
        }
        if let Some(s) = r.retry_after {
            let _ = write!(detail, " Retry-After {s}s");
        }
        if let Some(ms) = r.delay_ms {
            let _ = write!(detail, " {ms} ms");
        }
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
            esc(&clip(&r.path_prefix)),
            esc(&clip(r.method.as_deref().unwrap_or("any"))),
            esc(&kind_label(r.kind)),
            esc(&detail),
            r.count
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn requests(ctx: &Context) -> String {
    let log = ctx.request_log.list();
    if log.is_empty() {
        return r#"<p class="muted">No API request yet.</p>"#.to_owned();
    }
    let mut out = format!(
        r#"<p class="muted">{} request(s), newest first{}.</p><table class="log"><thead><tr><th>#</th><th>method</th><th>path</th><th>status</th></tr></thead><tbody>"#,
        log.len(),
        if log.len() > SHOWN_REQUESTS {
            format!(", the last {SHOWN_REQUESTS} shown")
        } else {
            String::new()
        }
    );
    for (n, r) in log.iter().enumerate().rev().take(SHOWN_REQUESTS) {
        let (class, status) = match r.status {
            Some(s) if s < 400 => ("ok", s.to_string()),
            Some(s) if s < 500 => ("warn", s.to_string()),
            Some(s) => ("err", s.to_string()),
            None => ("err", "dropped".to_owned()),
        };
        let _ = write!(
            out,
            r#"<tr><td class="muted">{}</td><td>{}</td><td><code>{}</code></td><td><span class="badge {class}">{status}</span></td></tr>"#,
            n + 1,
            esc(&clip(&r.method)),
            esc(&clip(&r.path))
        );
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn state_values_are_escaped_and_every_panel_is_on_the_page() {
        let mut state = EmulatorState::default();
        let config = crate::settings::app::AppConfig {
            name: "<script>alert(1)</script>".into(),
            ..crate::settings::app::AppConfig::default()
        };
        let key = crate::jwt::SigningKey::default_key().expect("key");
        state
            .apps
            .insert(config.id.clone(), AppRecord::new(config, key));
        let ctx = Context::new(state, "http://127.0.0.1:1".into(), None);
        let locked = page(&ctx, 250, View::NeedsToken);
        assert!(!locked.contains("alert(1)") && locked.contains(r#"data-needs-token="1""#));
        let page = page(&ctx, 250, View::Full);
        assert!(!page.contains("<script>alert(1)</script>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains(r#"data-refresh-ms="250""#));
        let live = panels(&ctx);
        for name in PANELS {
            assert!(page.contains(&format!(r#"id="live-{name}""#)), "{name}");
            assert!(live[name].is_string(), "{name}");
        }
    }

    #[test]
    fn the_page_stays_bounded_whatever_the_state_holds() {
        let mut state = EmulatorState::default();
        let config = crate::settings::app::AppConfig {
            name: "n".repeat(1 << 20),
            ..crate::settings::app::AppConfig::default()
        };
        let app_id = config.id.clone();
        let key = crate::jwt::SigningKey::default_key().expect("key");
        let mut app = AppRecord::new(config, key);
        let many = SHOWN_USERS + 50;
        for n in 0..many {
            let mut user = crate::domain::accounts::new_user(
                crate::base::identifiers::IdentifierKind::Email,
                &format!("{}{n:04}@example.com", "u".repeat(60)),
                UserStatus::Active,
                0,
            );
            user.id = format!("usr_{n:04}");
            app.users.insert(user.id.clone(), user);
        }
        state.apps.insert(app_id, app);
        for n in 0..(SHOWN_MESSAGES * 3) {
            state.outbox.push(crate::model::outbox::OutboxMessage {
                app_id: "a".into(),
                identifier: format!("{n}@example.com"),
                kind: crate::base::enums::OutboxKind::Otp,
                otp: Some("123456".into()),
                otp_id: Some(format!("otp_{n}")),
                magic_link_url: None,
                magic_link_secret: None,
                magic_link_id: None,
                created_at: String::new(),
            });
        }
        let ctx = Context::new(state, "http://127.0.0.1:1".into(), None);
        let page = page(&ctx, 1000, View::Full);
        assert!(page.len() < 1 << 20, "the page is {} bytes", page.len());
        assert_eq!(page.matches("<tr data-user=").count(), SHOWN_USERS);
        assert!(page.contains("50 more user(s) not shown"));
        assert_eq!(page.matches(r#"class="otp""#).count(), SHOWN_MESSAGES);
        assert!(!page.contains(&"n".repeat(SHOWN_CHARS + 1)));
    }

    #[test]
    fn every_fault_kind_has_a_label() {
        for (wire, _) in FAULT_KINDS {
            let kind: FaultKind = serde_json::from_value(json!(wire)).expect("a fault kind");
            assert_ne!(kind_label(kind), wire);
        }
    }
}
