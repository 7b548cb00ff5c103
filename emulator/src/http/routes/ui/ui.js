// Emulator UI: live refresh of the panels and the buttons' and forms' admin API calls.
"use strict";
(() => {
  const admin = "/_emulator";
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

  async function call(method, path, body) {
    const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const resp = await fetch(admin + path, init);
    if (resp.status === 401) askForToken();
    if (!resp.ok) {
      let detail = "";
      try {
        const j = await resp.json();
        detail = [j.code, j.error].filter(Boolean).join(": ");
      } catch (_) {}
      throw new Error(`${method} ${admin}${path} answered ${resp.status} ${detail}`);
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
  const userPath = (el) => `/apps/${encodeURIComponent(el.dataset.app)}/users/${encodeURIComponent(el.dataset.user)}`;
  const actions = {
    "reset": () => confirm("Empty users, sessions, outbox, faults and the request log of every app?") && call("POST", "/reset"),
    "advance": (el) => call("POST", "/clock/advance", { seconds: Number(el.dataset.seconds ?? el.elements.seconds.value) }),
    "clear-outbox": () => call("DELETE", "/outbox"),
    "clear-faults": () => call("DELETE", "/faults"),
    "clear-requests": () => call("DELETE", "/requests"),
    "create-user": (form) => call("POST", `/apps/${encodeURIComponent(form.elements.app_id.value)}/users`, {
      identifier: form.elements.identifier.value,
      status: form.elements.status.value,
    }),
    "user-status": (el) => call("PATCH", userPath(el), { status: el.value }),
    "delete-user": (el) => confirm(`Delete user ${el.dataset.user}?`) && call("DELETE", userPath(el)),
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
      if (done !== false) message = `${el.dataset.action}: done`;
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
