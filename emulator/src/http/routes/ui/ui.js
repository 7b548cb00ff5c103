// Emulator UI: live refresh of the panels and the buttons' and forms' calls: the admin API, and the
// Management API (users) with one of the app's API keys.
"use strict";
(() => {
  const admin = "/_emulator";
  const management = "/management/v1";
  const UI_KEY_PREFIX = "passage-emulator-ui-api-key:";
  const TOKEN_KEY = "passage-emulator-admin-token";
  const TOKEN_HEADER = "x-emulator-admin-token";
  const shown = new Map(); // panel name -> HTML last put in the page
  const tokenForm = document.getElementById("token-form");
  const flash = (text, ok) => {
    const el = document.getElementById("flash");
    el.textContent = text;
    el.className = ok ? "ok" : "err";
  };

  function headers(extra) {
    const h = { ...extra };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) h[TOKEN_HEADER] = token;
    return h;
  }
  function askForToken() {
    tokenForm.hidden = false;
    tokenForm.elements.token.focus();
  }

  async function failure(resp, method, url) {
    let detail = "";
    try {
      const j = await resp.json();
      detail = [j.code, j.error].filter(Boolean).join(": ");
    } catch (_) {}
    return new Error(`${method} ${url} answered ${resp.status} ${detail}`);
  }

  // An admin API call; resolves to the answer's JSON (null when it has none).
  async function call(method, path, body) {
    const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const resp = await fetch(admin + path, init);
    if (resp.status === 401) askForToken();
    if (!resp.ok) throw await failure(resp, method, admin + path);
    const text = await resp.text();
    return text ? JSON.parse(text) : null;
  }

  // The API key the page uses for an app's Management API calls: its first configured key (in the
  // users panel), else one the page made through the admin API (kept for this browser session).
  async function apiKeyFor(appId, fresh) {
    const configured = [...document.querySelectorAll("[data-api-key-for]")].find((el) => el.dataset.apiKeyFor === appId);
    if (configured) return configured.dataset.key;
    const cacheKey = UI_KEY_PREFIX + appId;
    if (!fresh && sessionStorage.getItem(cacheKey)) return sessionStorage.getItem(cacheKey);
    const made = await call("POST", `/apps/${encodeURIComponent(appId)}/api-keys`, { name: "emulator UI" });
    sessionStorage.setItem(cacheKey, made.key);
    return made.key;
  }

  // A Management API call for an app (`path` below /apps/{app_id}); a key the page made and that was
  // revoked meanwhile is replaced once.
  async function manage(appId, method, path, body) {
    const url = `${management}/apps/${encodeURIComponent(appId)}${path}`;
    for (const fresh of [false, true]) {
      const h = { Authorization: `Bearer ${await apiKeyFor(appId, fresh)}` };
      if (body !== undefined) h["Content-Type"] = "application/json";
      const init = { method, headers: h };
      if (body !== undefined) init.body = JSON.stringify(body);
      const resp = await fetch(url, init);
      if (resp.status === 401 && !fresh) continue;
      if (!resp.ok) throw await failure(resp, method, url);
      const text = await resp.text();
      return text ? JSON.parse(text) : null;
    }
  }

  // Replaces a panel only when its HTML changed, never under a control the user is using or a form
  // they started filling in, and keeps open <details> open.
  let latest = 0; // only the newest refresh may write, so a slow older answer never undoes a newer one
  async function refresh() {
    const mine = ++latest;
    let panels;
    try {
      const resp = await fetch(admin + "/ui/panels", { cache: "no-store", headers: headers({}) });
      if (resp.status === 401) return askForToken();
      if (!resp.ok) return;
      panels = await resp.json();
    } catch (_) {
      return; // the emulator stopped; keep the last view
    }
    if (mine !== latest) return;
    for (const [name, html] of Object.entries(panels)) {
      const el = document.getElementById("live-" + name);
      if (!el || shown.get(name) === html) continue;
      const active = document.activeElement;
      if (active && el.contains(active) && active.matches("select, input, textarea")) continue;
      if (el.querySelector("form[data-dirty]")) continue;
      const open = new Set([...el.querySelectorAll("details[open][data-key]")].map((d) => d.dataset.key));
      el.innerHTML = html;
      for (const d of el.querySelectorAll("details[data-key]")) if (open.has(d.dataset.key)) d.open = true;
      shown.set(name, html);
    }
  }
  for (const el of document.querySelectorAll(".live")) shown.set(el.id.slice(5), el.innerHTML);

  const number = (form, name) => (form.elements[name].value === "" ? undefined : Number(form.elements[name].value));
  const userPath = (el) => `/users/${encodeURIComponent(el.dataset.user)}`;
  const statusPath = { active: "/activate", inactive: "/deactivate" };
  const actions = {
    "reset": () => confirm("Empty users, sessions, outbox, faults and the request log of every app?") && call("POST", "/reset"),
    "advance": (el) => call("POST", "/clock/advance", { seconds: Number(el.dataset.seconds ?? el.elements.seconds.value) }),
    "clear-outbox": () => call("DELETE", "/outbox"),
    "clear-faults": () => call("DELETE", "/faults"),
    "clear-requests": () => call("DELETE", "/requests"),
    "create-user": async (form) => {
      const appId = form.elements.app_id.value;
      const identifier = form.elements.identifier.value.trim();
      const body = identifier.includes("@") ? { email: identifier } : { phone: identifier };
      const created = await manage(appId, "POST", "/users", body);
      const status = statusPath[form.elements.status.value];
      if (status) await manage(appId, "PATCH", `/users/${encodeURIComponent(created.user.id)}${status}`);
    },
    "user-status": (el) => manage(el.dataset.app, "PATCH", userPath(el) + statusPath[el.value]),
    "delete-user": (el) => confirm(`Delete user ${el.dataset.user}?`) && manage(el.dataset.app, "DELETE", userPath(el)),
    "create-api-key": async (el) => {
      const made = await call("POST", `/apps/${encodeURIComponent(el.dataset.app)}/api-keys`, { name: "made in the UI" });
      return `new API key of ${el.dataset.app} (shown once): ${made.key}`;
    },
    "revoke-api-key": (el) => confirm(`Revoke API key ${el.dataset.keyId}?`) &&
      call("DELETE", `/apps/${encodeURIComponent(el.dataset.app)}/api-keys/${encodeURIComponent(el.dataset.keyId)}`),
    "update-app": (form) => {
      let settings;
      try {
        settings = JSON.parse(form.elements.settings.value);
      } catch (e) {
        throw new Error(`the settings are not valid JSON: ${e.message}`);
      }
      return call("PATCH", `/apps/${encodeURIComponent(form.dataset.app)}`, settings);
    },
    "add-fault": (form) => call("POST", "/faults", {
      path_prefix: form.elements.path_prefix.value,
      method: form.elements.method.value || undefined,
      kind: form.elements.kind.value,
      count: number(form, "count") ?? 1,
      status: number(form, "status"),
      retry_after: number(form, "retry_after"),
      delay_ms: number(form, "delay_ms"),
    }),
  };
  // Runs an action, refreshes the panels, then reports (so once "done" shows, the page is current).
  async function run(el, event) {
    const action = actions[el.dataset.action];
    if (!action) return;
    event.preventDefault();
    flash(`${el.dataset.action}…`, true);
    let message = "";
    let ok = true;
    try {
      const done = await action(el);
      if (typeof done === "string") message = done;
      else if (done !== false) message = `${el.dataset.action}: done`;
      if (el.tagName === "FORM") delete el.dataset.dirty;
      if (el.dataset.action === "create-user") el.elements.identifier.value = "";
    } catch (e) {
      message = String(e.message || e);
      ok = false;
    }
    await refresh();
    flash(message, ok);
  }
  document.addEventListener("click", (e) => {
    const el = e.target.closest("button[data-action]");
    if (el) run(el, e);
  });
  document.addEventListener("submit", (e) => {
    if (e.target === tokenForm) {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, tokenForm.elements.token.value);
      tokenForm.elements.token.value = "";
      tokenForm.hidden = true;
      flash("", true);
      refresh();
    } else if (e.target.dataset.action) {
      run(e.target, e);
    }
  });
  document.addEventListener("change", (e) => {
    if (e.target.matches("select[data-action]")) run(e.target, e);
  });
  document.addEventListener("input", (e) => {
    const form = e.target.closest(".live form");
    if (form) form.dataset.dirty = "1";
  });
  if (document.body.dataset.needsToken === "1" && !sessionStorage.getItem(TOKEN_KEY)) askForToken();
  refresh();
  setInterval(refresh, Number(document.body.dataset.refreshMs) || 1000);
})();
