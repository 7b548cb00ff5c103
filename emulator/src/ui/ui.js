// Emulator UI: live refresh of the panels and the buttons' and forms' admin API calls.
"use strict";
(() => {
  const admin = "/_emulator";
  const shown = new Map(); // panel name -> HTML last put in the page
  const flash = (text, ok) => {
    const el = document.getElementById("flash");
    el.textContent = text;
    el.className = ok ? "ok" : "err";
  };

  async function call(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(admin + path, init);
    if (!resp.ok) {
      let detail = "";
      try {
        const j = await resp.json();
        detail = [j.code, j.error].filter(Boolean).join(": ");
      } catch (_) {}
      throw new Error(`${method} ${admin}${path} answered ${resp.status} ${detail}`);
    }
  }

  // Replaces a panel only when its HTML changed, and never under a control the user is using.
  async function refresh() {
    let panels;
    try {
      const resp = await fetch(admin + "/ui/panels", { cache: "no-store" });
      if (!resp.ok) return;
      panels = await resp.json();
    } catch (_) {
      return; // the emulator stopped; keep the last view
    }
    for (const [name, html] of Object.entries(panels)) {
      const el = document.getElementById("live-" + name);
      if (!el || shown.get(name) === html) continue;
      const active = document.activeElement;
      if (active && el.contains(active) && active.matches("select, input")) continue;
      el.innerHTML = html;
      shown.set(name, html);
    }
  }
  for (const el of document.querySelectorAll(".live")) shown.set(el.id.slice(5), el.innerHTML);

  const number = (form, name) => (form.elements[name].value === "" ? undefined : Number(form.elements[name].value));
  const actions = {
    "reset": () => confirm("Empty users, sessions, outbox, faults and the request log?") && call("POST", "/reset"),
    "advance": (el) => call("POST", "/clock/advance", { seconds: Number(el.dataset.seconds ?? el.elements.seconds.value) }),
    "clear-outbox": () => call("DELETE", "/outbox"),
    "clear-faults": () => call("DELETE", "/faults"),
    "clear-requests": () => call("DELETE", "/requests"),
    "create-user": (form) => call("POST", `/apps/${encodeURIComponent(form.elements.app_id.value)}/users`, {
      identifier: form.elements.identifier.value,
      status: form.elements.status.value,
    }),
    "user-status": (el) => call("PATCH", `/apps/${encodeURIComponent(el.dataset.app)}/users/${encodeURIComponent(el.dataset.user)}`, { status: el.value }),
    "delete-user": (el) => confirm(`Delete user ${el.dataset.user}?`) &&
      call("DELETE", `/apps/${encodeURIComponent(el.dataset.app)}/users/${encodeURIComponent(el.dataset.user)}`),
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
  async function run(el, event) {
    const action = actions[el.dataset.action];
    if (!action) return;
    event.preventDefault();
    try {
      const done = await action(el);
      if (done !== false) flash(`${el.dataset.action}: done`, true);
      if (el.tagName === "FORM" && el.dataset.action === "create-user") el.elements.identifier.value = "";
    } catch (e) {
      flash(String(e.message || e), false);
    }
    await refresh();
  }
  document.addEventListener("click", (e) => {
    const el = e.target.closest("button[data-action]");
    if (el) run(el, e);
  });
  document.addEventListener("submit", (e) => {
    if (e.target.dataset.action) run(e.target, e);
  });
  document.addEventListener("change", (e) => {
    if (e.target.matches("select[data-action]")) run(e.target, e);
  });
  setInterval(refresh, Number(document.body.dataset.refreshMs) || 1000);
})();
