// The wallboard: one board per message over /ws/wallboard; waits tick locally between boards.
"use strict";
(() => {
  const T = L1300.t, esc = L1300.esc;
  const STATES = [
    ["available", { th: "ว่าง", en: "Available" }],
    ["on_call", { th: "กำลังสนทนา", en: "On call" }],
    ["wrapup", { th: "สรุปงาน", en: "Wrap-up" }],
    ["paused", { th: "พัก", en: "Paused" }],
    ["unavailable", { th: "โทรศัพท์ไม่พร้อม", en: "Phone offline" }],
  ];
  let board = null, receivedAt = 0;

  function translateStatic() {
    document.querySelectorAll("[data-t-th]").forEach((el) => {
      el.textContent = T({ th: el.dataset.tTh, en: el.dataset.tEn });
    });
    document.getElementById("lang").textContent = L1300.lang() === "th" ? "EN" : "ไทย";
  }

  function elapsed() { return board ? (performance.now() - receivedAt) / 1000 : 0; }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const m = Math.floor(s / 60), r = s % 60;
    return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(r).padStart(2, "0")}`
                   : `${m}:${String(r).padStart(2, "0")}`;
  }

  function percent(x) { return x == null ? "–" : `${Math.round(x * 1000) / 10}%`; }

  function renderToday() {
    const today = board.today || {}, total = today.total || {};
    const threshold = today.service_level_seconds;
    const sl = total.service_level, ab = total.abandon_rate;
    const figure = (label, value, cls = "") =>
      `<div class="figure"><div class="label">${esc(T(label))}</div><div class="value ${cls}">${esc(value)}</div></div>`;
    document.getElementById("today").innerHTML = [
      figure({ th: `ระดับบริการวันนี้ (รับภายใน ${threshold} วิ)`, en: `Service level today (within ${threshold} s)` },
             percent(sl), sl == null ? "" : sl >= 0.8 ? "good" : "bad"),
      figure({ th: "อัตราวางสายก่อนรับ", en: "Abandon rate" }, percent(ab), ab == null ? "" : ab > 0.1 ? "bad" : "good"),
      figure({ th: "สายเข้าคิววันนี้", en: "Offered today" }, total.offered ?? 0),
      figure({ th: "รับสายแล้ว", en: "Answered" }, total.answered ?? 0),
      figure({ th: "วางสายก่อนรับ", en: "Abandoned" }, total.abandoned ?? 0),
      figure({ th: "ผู้รอสายทั้งหมด", en: "Callers waiting" },
             board.queues.reduce((n, q) => n + q.waiting, 0)),
    ].join("");
  }

  function renderCoverage() {
    document.getElementById("coverage").innerHTML = (board.coverage || []).map((w) =>
      `<div class="warn ${esc(w.severity)}" data-kind="${esc(w.kind)}">⚠ ${esc(T(w.message))}</div>`).join("");
  }

  function queueTile(q, extra) {
    const longest = q.waiting ? q.longest_wait + extra : 0;
    const agents = STATES.map(([key, label]) =>
      `<span class="${key}" data-state="${key}">${esc(T(label))} ${q.agents[key] || 0}</span>`).join("");
    const callers = q.callers.map((c) =>
      `<li class="${c.critical ? "critical" : ""}" data-linkedid="${esc(c.linkedid)}">
         <span>${c.critical ? "⚠ " + esc(T({ th: "วิกฤต", en: "CRITICAL" })) + " · " : ""}${esc(c.caller || "—")}</span>
         <span class="wait">${clock(c.wait + extra)}</span></li>`).join("");
    return `<article class="queue ${q.critical_waiting ? "has-critical" : ""}" data-queue="${esc(q.name)}">
      <h2>${esc(q.name)} · ${esc(languageName(q.language))}</h2>
      <div class="desc">${esc(q.description)}</div>
      <div class="numbers">
        <div><span class="label">${esc(T({ th: "รอสาย", en: "Waiting" }))}</span>
             <span class="big waiting ${q.waiting ? "alert" : ""}">${q.waiting}</span></div>
        <div><span class="label">${esc(T({ th: "รอนานสุด", en: "Longest wait" }))}</span>
             <span class="big longest">${clock(longest)}</span></div>
      </div>
      <div class="agents">${agents}</div>
      <ul class="callers">${callers}</ul>
    </article>`;
  }

  function languageName(code) {
    const lang = (board.languages || []).find((l) => l.code === code);
    return lang ? T({ th: lang.name_native, en: lang.name_en }) : code;
  }

  function renderLanguages() {
    const head = `<tr><th>${esc(T({ th: "ภาษา", en: "Language" }))}</th><th class="n">${esc(T({ th: "รอสาย", en: "Waiting" }))}</th>` +
      STATES.map(([, label]) => `<th class="n">${esc(T(label))}</th>`).join("") + "</tr>";
    const rows = board.languages.map((l) =>
      `<tr data-language="${esc(l.code)}"><td>${esc(T({ th: l.name_native, en: l.name_en }))}</td><td class="n">${l.waiting}</td>` +
      STATES.map(([key]) => `<td class="n" data-state="${key}">${l.agents[key] || 0}</td>`).join("") + "</tr>").join("");
    document.getElementById("languages").innerHTML = head + rows;
  }

  function renderQueues() {
    const extra = elapsed();
    // Queues with callers first, critical ones before all: the eye goes where help is needed.
    const queues = [...board.queues].sort((a, b) =>
      (b.critical_waiting - a.critical_waiting) || (b.waiting - a.waiting) || a.name.localeCompare(b.name));
    document.getElementById("queues").innerHTML = queues.map((q) => queueTile(q, extra)).join("");
  }

  function render() {
    if (!board) return;
    renderToday(); renderCoverage(); renderQueues(); renderLanguages();
    const link = document.getElementById("link");
    link.textContent = board.ami === "connected" ? "Asterisk ✓" : T({ th: "ขาดการเชื่อมต่อ Asterisk", en: "Asterisk not connected" });
    link.className = "link-state " + (board.ami === "connected" ? "ok" : "down");
  }

  function tick() {
    document.getElementById("clock").textContent = new Date().toLocaleTimeString(L1300.lang() === "th" ? "th-TH" : "en-GB");
    if (board) renderQueues();
  }

  async function start() {
    if (!(await L1300.session())) return;
    translateStatic();
    document.getElementById("lang").onclick = () => L1300.setLang(L1300.lang() === "th" ? "en" : "th");
    document.getElementById("logout").onclick = () => L1300.logout();
    L1300.socket("/ws/wallboard", (message) => {
      board = message; receivedAt = performance.now(); render();
      document.body.dataset.boards = String(Number(document.body.dataset.boards || 0) + 1);
    }, (state) => { document.body.dataset.socket = state; });
    setInterval(tick, 1000);
    tick();
  }
  start();
})();
