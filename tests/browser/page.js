// The app page of the real-browser suite (tests/tests/browser.rs).
//
// It calls the emulator's Auth API the way the official web SDK (passage-js 4.1.2, also bundled in
// passage-elements) does: cross-origin `fetch` with a `Passage-Version` header (and Elements'
// `Passage-Element-Version`) on every call, `Content-Type: application/json` on JSON-body calls,
// `Authorization: Bearer` on current-user calls only, no credentials (cookies). WebAuthn goes through
// `navigator.credentials`; binary members are converted between base64url and ArrayBuffer here.
//
// Every call is recorded in `t.calls` (secrets redacted) so a failing test can print the request and the
// answer. The test drives the page with `t.run(() => t.someFlow(...))`, which never throws: it resolves
// to `{ok: true, value, calls}` or `{ok: false, error, status, code, calls}`.
"use strict";

(function () {
  // {api: "http://127.0.0.1:PORT/v1" (the emulator, behind the suite's recording proxy), appId} from /config.js
  const cfg = window.PASSAGE_PAGE;
  const SDK_HEADERS = {
    "Passage-Version": "@passageidentity/passage-js 4.1.2",
    "Passage-Element-Version": "2.0.9",
  };
  // Keys whose values are secrets: never recorded, so never printed by a failing test.
  const SECRET_KEY = /^(auth_token|refresh_token|id_token|otp|magic_link|nonce)$|secret|authorization|challenge|signature|attestation/i;

  const calls = [];
  const session = { authToken: null, refreshToken: null, spentRefreshToken: null };

  function redact(value) {
    if (Array.isArray(value)) return value.map(redact);
    if (value && typeof value === "object") {
      const out = {};
      for (const [k, v] of Object.entries(value)) {
        out[k] = SECRET_KEY.test(k) && v !== null && typeof v !== "object" ? "[redacted]" : redact(v);
      }
      return out;
    }
    return value;
  }

  class ApiError extends Error {
    constructor(call) {
      super(`${call.method} ${call.path} answered ${call.status}` + (call.code ? ` ${call.code}` : ""));
      this.status = call.status;
      this.code = call.code;
    }
  }

  // One API call. `body === undefined` sends no body; `jsonHeader` sends `Content-Type` even then, as the
  // SDK does for devices/start and login/webauthn/start without a body.
  async function api(method, path, { body, token, jsonHeader } = {}) {
    const headers = { ...SDK_HEADERS };
    if (body !== undefined || jsonHeader) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + token;
    const call = { method, path, request: body === undefined ? null : redact(body), status: null, answer: null };
    calls.push(call);
    let resp;
    try {
      resp = await fetch(`${cfg.api}/apps/${cfg.appId}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      call.error = String(e);
      throw new Error(`${method} ${path}: fetch failed (${e}); a CORS refusal looks like this, see the console`);
    }
    call.status = resp.status;
    const text = await resp.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
      call.answer = redact(json);
    } catch (_) {
      call.answer = `(not JSON, ${text.length} bytes)`;
    }
    call.code = json && typeof json === "object" ? json.code : undefined;
    if (!resp.ok) throw new ApiError(call);
    return json;
  }

  // ---- base64url <-> ArrayBuffer
  function fromB64url(s) {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  }
  function toB64url(buf) {
    let bin = "";
    for (const byte of new Uint8Array(buf)) bin += String.fromCharCode(byte);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64url(c.id) }));

  function creationOptions(handshake) {
    const pk = handshake.challenge.publicKey;
    return {
      publicKey: {
        ...pk,
        challenge: fromB64url(pk.challenge),
        user: { ...pk.user, id: fromB64url(pk.user.id) },
        excludeCredentials: withIds(pk.excludeCredentials),
      },
    };
  }
  function requestOptions(handshake) {
    const pk = handshake.challenge.publicKey;
    return {
      publicKey: { ...pk, challenge: fromB64url(pk.challenge), allowCredentials: withIds(pk.allowCredentials) },
    };
  }
  // What the SDK sends for a new credential: transports at the top level, no response.transports.
  function attestation(cred) {
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      transports: cred.response.getTransports ? cred.response.getTransports() : [],
      response: {
        attestationObject: toB64url(cred.response.attestationObject),
        clientDataJSON: toB64url(cred.response.clientDataJSON),
      },
    };
  }
  // What the SDK sends for an assertion: no authenticatorAttachment, no clientExtensionResults.
  function assertion(cred) {
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: toB64url(cred.response.clientDataJSON),
        authenticatorData: toB64url(cred.response.authenticatorData),
        signature: toB64url(cred.response.signature),
        userHandle: cred.response.userHandle ? toB64url(cred.response.userHandle) : null,
      },
    };
  }

  function store(authResult) {
    if (!authResult || !authResult.auth_token) throw new Error("the answer holds no auth_token");
    session.authToken = authResult.auth_token;
    if (authResult.refresh_token) session.refreshToken = authResult.refresh_token;
    return { redirect_url: authResult.redirect_url, has_refresh_token: !!authResult.refresh_token };
  }
  function bearer() {
    if (!session.authToken) throw new Error("not signed in");
    return session.authToken;
  }

  async function credential(kind, options) {
    try {
      return await navigator.credentials[kind](options);
    } catch (e) {
      throw new Error(`navigator.credentials.${kind}() failed: ${e.name}: ${e.message}`);
    }
  }

  const t = {
    calls,
    // Runs `flow`, resolving to a plain outcome object for the test.
    // `calls` are the calls this flow made (redacted), so a failing check can show them.
    async run(flow) {
      const first = calls.length;
      try {
        const value = (await flow()) ?? null;
        return { ok: true, value, calls: calls.slice(first) };
      } catch (e) {
        const error = String(e && e.message ? e.message : e);
        return { ok: false, error, status: e.status ?? null, code: e.code ?? null, calls: calls.slice(first) };
      }
    },
    signOut() {
      session.authToken = null;
      session.refreshToken = null;
      session.spentRefreshToken = null;
    },

    async registerPasskey(identifier) {
      const start = await api("POST", "/register/webauthn/start", { body: { identifier } });
      const cred = await credential("create", creationOptions(start.handshake));
      const finish = await api("POST", "/register/webauthn/finish", {
        body: { handshake_id: start.handshake.id, handshake_response: attestation(cred), user_id: start.user?.id },
      });
      return { user_id: start.user?.id, credential_id: cred.id, auth: store(finish.auth_result) };
    },

    // With an identifier, or discoverable (no identifier, no body) as the SDK does.
    async loginPasskey(identifier) {
      const start = identifier
        ? await api("POST", "/login/webauthn/start", { body: { identifier } })
        : await api("POST", "/login/webauthn/start", { jsonHeader: true });
      const cred = await credential("get", requestOptions(start.handshake));
      const body = { handshake_id: start.handshake.id, handshake_response: assertion(cred) };
      if (identifier) body.user_id = start.user?.id;
      const finish = await api("POST", "/login/webauthn/finish", { body });
      return {
        credential_id: cred.id,
        allowed: (start.handshake.challenge.publicKey.allowCredentials || []).map((c) => c.id),
        auth: store(finish.auth_result),
      };
    },

    // The SDK's addPasskey asks for a platform authenticator unless told otherwise.
    async addPasskey(attachment = "platform") {
      const token = bearer();
      const start = await api("POST", "/currentuser/devices/start", {
        body: { authenticator_attachment: attachment },
        token,
      });
      const cred = await credential("create", creationOptions(start.handshake));
      const finish = await api("POST", "/currentuser/devices/finish", {
        body: { handshake_id: start.handshake.id, handshake_response: attestation(cred), user_id: start.user?.id },
        token,
      });
      return { credential_id: cred.id, device: finish.device };
    },
    async devices() {
      return (await api("GET", "/currentuser/devices", { token: bearer() })).devices;
    },
    async renameDevice(id, friendlyName) {
      const body = { friendly_name: friendlyName };
      return (await api("PATCH", `/currentuser/devices/${id}`, { body, token: bearer() })).device;
    },
    async revokeDevice(id) {
      await api("DELETE", `/currentuser/devices/${id}`, { token: bearer() });
      return null;
    },

    async currentUser() {
      return (await api("GET", "/currentuser", { token: bearer() })).user;
    },
    async metadata() {
      return (await api("GET", "/currentuser/user-metadata", { token: bearer() })).user_metadata;
    },
    async updateMetadata(values) {
      const body = { user_metadata: values };
      return (await api("PATCH", "/currentuser/user-metadata", { body, token: bearer() })).user;
    },
    // Rotates the pair; says whether both tokens changed (the tokens themselves never leave the
    // page) and keeps the spent refresh token for `presentSpentRefreshToken`.
    async refresh() {
      if (!session.refreshToken) throw new Error("no refresh token");
      const before = { auth: session.authToken, refresh: session.refreshToken };
      const out = store((await api("POST", "/tokens", { body: { refresh_token: before.refresh } })).auth_result);
      session.spentRefreshToken = before.refresh;
      return {
        ...out,
        auth_token_changed: session.authToken !== before.auth,
        refresh_token_changed: session.refreshToken !== before.refresh,
      };
    },
    // Presents the refresh token the last `refresh` spent (a reuse, as a stolen copy would be).
    async presentSpentRefreshToken() {
      if (!session.spentRefreshToken) throw new Error("no spent refresh token");
      return store((await api("POST", "/tokens", { body: { refresh_token: session.spentRefreshToken } })).auth_result);
    },

    async loginOtpStart(identifier) {
      return (await api("POST", "/login/otp", { body: { identifier } })).otp_id;
    },
    async activateOtp(otp, otpId) {
      return store((await api("POST", "/otp/activate", { body: { otp, otp_id: otpId } })).auth_result);
    },
    // magic_link_path is the current page (pathname + search + hash), as the SDK sends it.
    async loginMagicLinkStart(identifier) {
      const path = location.pathname + location.search + location.hash;
      const body = { identifier, magic_link_path: path };
      return (await api("POST", "/login/magic-link", { body })).magic_link.id;
    },
    // Resolves with the outcome of the next activation in another tab of this origin (see below).
    nextActivation() {
      return new Promise((resolve) => {
        const channel = new BroadcastChannel("passage-e2e-activation");
        channel.onmessage = (event) => {
          channel.close();
          resolve(event.data);
        };
      });
    },
    async magicLinkStatus(id) {
      return store((await api("POST", "/magic-link/status", { body: { id } })).auth_result);
    },
  };

  // A page opened from a magic link activates it at once; the test awaits `t.activation` in that tab,
  // or `t.nextActivation()` in another tab of the app (the outcome is broadcast, without secrets).
  const secret = new URLSearchParams(location.search).get("psg_magic_link");
  if (secret) {
    t.activation = t.run(async () => {
      const answer = await api("PATCH", "/magic-link/activate", { body: { magic_link: secret } });
      return store(answer.auth_result);
    });
    t.activation.then((outcome) => {
      document.getElementById("status").textContent = outcome.ok ? "magic link activated" : outcome.error;
      const channel = new BroadcastChannel("passage-e2e-activation");
      channel.postMessage({ ok: outcome.ok, error: outcome.error ?? null, status: outcome.status ?? null });
      channel.close();
    });
  }
  window.t = t;
})();
