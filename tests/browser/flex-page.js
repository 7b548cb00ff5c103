// The Passkey Flex page of the real-browser suite (tests/tests/browser_flex.rs).
//
// Passage's Flex web SDK (@passageidentity/passage-flex-js 1.0.2, `window.PassageFlex`) does all the
// work: this script only calls its public API and reports the outcome. Every `fetch` the SDK makes is
// recorded in the calls (secrets redacted) so that a failing test can print the request and the
// answer. The test drives the page with `t.run(() => t.register(transactionId))`, which never throws:
// it resolves to `{ok: true, value, calls}` or `{ok: false, error, status, code, calls}` (the shape
// tests/src/browser.rs reads).
"use strict";

(function () {
  const cfg = window.PASSAGE_PAGE; // {appId}, from /config.js
  // Keys whose values are secrets or one-time values: never recorded, so never printed.
  const SECRET_KEY = /^(nonce|auth_token|refresh_token)$|secret|authorization|challenge|signature|attestation/i;
  const calls = [];

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

  function parse(text) {
    try {
      return text ? redact(JSON.parse(text)) : null;
    } catch (_) {
      return `(not JSON, ${text.length} bytes)`;
    }
  }

  // Records the SDK's calls; the SDK gets the browser's own answer, untouched.
  const browserFetch = window.fetch.bind(window);
  window.fetch = async function (input, init) {
    const url = new URL(typeof input === "string" ? input : input.url);
    const call = {
      method: (init && init.method) || "GET",
      path: url.origin + url.pathname,
      request: typeof (init && init.body) === "string" ? parse(init.body) : null,
      status: null,
      answer: null,
    };
    calls.push(call);
    let resp;
    try {
      resp = await browserFetch(input, init);
    } catch (e) {
      call.error = `${e} (a CORS refusal or a proxy/TLS failure looks like this, see the console)`;
      throw e;
    }
    call.status = resp.status;
    call.answer = parse(await resp.clone().text());
    call.code = call.answer && typeof call.answer === "object" ? call.answer.code : undefined;
    return resp;
  };

  const flex = new window.PassageFlex(cfg.appId);

  const t = {
    async run(flow) {
      const first = calls.length;
      try {
        const value = (await flow()) ?? null;
        return { ok: true, value, calls: calls.slice(first) };
      } catch (e) {
        const failed = calls.slice(first).filter((c) => c.status === null || c.status >= 400).pop();
        const error = `${e && e.name ? e.name + ": " : ""}${e && e.message ? e.message : e}`;
        return {
          ok: false,
          error,
          status: e.statusCode ?? (failed ? failed.status : null),
          code: failed && failed.code ? failed.code : null,
          calls: calls.slice(first),
        };
      }
    },
    // Whether the SDK finds WebAuthn usable here.
    async capabilities() {
      return {
        register: await flex.passkey.canRegisterPasskey(),
        authenticate: await flex.passkey.canAuthenticateWithPasskey(),
      };
    },
    // The SDK's registration for a transaction the back end created; resolves to the nonce.
    register(transactionId) {
      return flex.passkey.register(transactionId);
    },
    // The SDK's authentication for a transaction the back end created; resolves to the nonce.
    authenticate(transactionId) {
      return flex.passkey.authenticate({ transactionId });
    },
  };
  window.t = t;
  document.getElementById("status").textContent = "ready";
})();
