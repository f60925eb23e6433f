// Shared helpers of every page: the session (CSRF), JSON calls, a self-reconnecting WebSocket,
// and the page language (Thai first, English).
"use strict";
const L1300 = (() => {
  let csrf = null;
  let user = null;
  const lang = () => localStorage.getItem("line1300.lang") || "th";

  async function session() {
    const r = await fetch("/api/session", { credentials: "same-origin" });
    if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return null; }
    const body = await r.json();
    csrf = body.csrf; user = body.user;
    return body;
  }

  async function api(method, url, body) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf || "";
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(url, opts);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (!r.ok) { const err = new Error((data && data.error) || r.statusText); err.status = r.status; err.data = data; throw err; }
    return data;
  }

  // Reconnects by itself with backoff; the server closes with 1001 when it shuts down.
  function socket(path, onMessage, onState) {
    let delay = 500, ws = null, stopped = false;
    function open() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      ws = new WebSocket(proto + "//" + location.host + path);
      ws.onopen = () => { delay = 500; onState && onState("open"); };
      ws.onmessage = (ev) => { try { onMessage(JSON.parse(ev.data)); } catch (e) { console.error(e); } };
      ws.onclose = () => {
        onState && onState("closed");
        if (!stopped) setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
    return { close() { stopped = true; ws && ws.close(); }, send(obj) { ws && ws.readyState === 1 && ws.send(JSON.stringify(obj)); } };
  }

  function t(labels) {  // labels: {th: "...", en: "..."}
    if (labels == null) return "";
    if (typeof labels === "string") return labels;
    return labels[lang()] || labels.en || labels.th || "";
  }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  async function logout() { await api("POST", "/api/logout"); location.href = "/login"; }

  return { session, api, socket, t, esc, lang, logout, get user() { return user; },
           setLang(l) { localStorage.setItem("line1300.lang", l); location.reload(); } };
})();
