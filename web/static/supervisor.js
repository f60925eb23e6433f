// The supervisor page: who is on now (state, time in state), the week's roster by shift with
// coverage warnings, roster changes (absent + cover, add, move, swap, remove), "who would get
// this call", Asterisk's live queues, callbacks and the roster's audit trail.
"use strict";
(() => {
  const T = {
    title: { th: "หัวหน้าเวร · สายด่วน 1300", en: "Supervisor · 1300 line" },
    signout: { th: "ออกจากระบบ", en: "Sign out" },
    now: { th: "ตอนนี้: ใครอยู่เวร", en: "Now: who is on" },
    agent: { th: "เจ้าหน้าที่", en: "Agent" }, languages: { th: "ภาษา", en: "Languages" },
    shift: { th: "เวร", en: "Shift" }, state: { th: "สถานะ", en: "State" },
    time_in_state: { th: "เวลาในสถานะ", en: "Time in state" }, actions: { th: "จัดการ", en: "Actions" },
    week: { th: "ตารางเวร 7 วัน", en: "Roster, 7 days" },
    prev_week: { th: "◀ สัปดาห์ก่อน", en: "◀ Previous" }, next_week: { th: "สัปดาห์ถัดไป ▶", en: "Next ▶" },
    today: { th: "วันนี้", en: "Today" }, note: { th: "หมายเหตุ", en: "Note" },
    add_agent: { th: "เพิ่มเจ้าหน้าที่", en: "Add agent" }, covers: { th: "แทน", en: "Covering for" },
    add: { th: "เพิ่มเข้าเวร", en: "Add to shift" },
    explain: { th: "ใครจะได้รับสายนี้ และเพราะอะไร", en: "Who would get this call, and why" },
    language: { th: "ภาษา", en: "Language" }, priority: { th: "ความเร่งด่วน", en: "Priority" },
    ask: { th: "ตรวจสอบ", en: "Ask" }, queues: { th: "คิวใน Asterisk ตอนนี้", en: "Asterisk queues now" },
    callbacks: { th: "การโทรกลับ", en: "Callbacks" }, requested: { th: "เวลาขอ", en: "Requested" },
    number: { th: "หมายเลข", en: "Number" }, status: { th: "สถานะ", en: "Status" },
    attempts: { th: "ครั้งที่โทร", en: "Attempts" }, next_attempt: { th: "โทรครั้งถัดไป", en: "Next attempt" },
    audit: { th: "ประวัติการแก้ไขตารางเวร", en: "Roster audit trail" }, when: { th: "เวลา", en: "When" },
    who: { th: "ผู้แก้ไข", en: "Who" }, what: { th: "รายการ", en: "What" }, detail: { th: "รายละเอียด", en: "Detail" },
    absent: { th: "ขาด/ลา", en: "Absent" }, move: { th: "ย้าย", en: "Move" }, swap: { th: "สลับ", en: "Swap" },
    remove: { th: "นำออก", en: "Remove" }, confirm: { th: "ยืนยัน?", en: "Confirm?" },
    cancel: { th: "ยกเลิก", en: "Cancel" }, ok: { th: "ตกลง", en: "OK" },
    cancel_absence: { th: "ยกเลิกการลา", en: "Cancel absence" },
    reason: { th: "เหตุผล", en: "Reason" }, no_cover: { th: "— ไม่มีคนแทน —", en: "— no cover —" },
    nobody: { th: "— ไม่แทนใคร —", en: "— nobody —" },
    swap_with: { th: "สลับกับรายการนี้", en: "Swap with this" },
    swap_hint: { th: "เลือกรายการที่จะสลับกับ ", en: "Choose the assignment to swap with " },
    saved: { th: "บันทึกแล้ว", en: "Saved" }, no_warnings: { th: "ไม่มีคำเตือน", en: "No warnings" },
    absent_note: { th: "ขาด/ลา: ", en: "absent: " }, covers_note: { th: "แทน ", en: "covers " },
    pause: { th: "พักสาย", en: "Pause" }, unpause: { th: "เลิกพัก", en: "Unpause" },
    login: { th: "เข้าระบบโทรศัพท์", en: "Log in" }, logout: { th: "ออกจากระบบโทรศัพท์", en: "Log out" },
    no_asterisk: { th: "ไม่ได้เชื่อมต่อ Asterisk", en: "Not connected to Asterisk" },
    would_ring: { th: "จะโทรหา", en: "Would ring" }, fallback: { th: "ทางเลือกสำรอง", en: "Fallback" },
    penalty: { th: "ลำดับ (penalty)", en: "Penalty" }, why: { th: "เหตุผล", en: "Why" },
    members: { th: "สมาชิก", en: "members" }, none: { th: "ไม่มี", en: "none" },
    normal: { th: "ปกติ", en: "Normal" }, urgent: { th: "เร่งด่วน", en: "Urgent" }, critical: { th: "วิกฤต", en: "Critical" },
  };
  const STATES = {
    available: { th: "ว่าง", en: "Available" }, paused: { th: "พักสาย", en: "Paused" },
    on_call: { th: "กำลังคุยสาย", en: "On a call" }, ringing: { th: "กำลังเรียก", en: "Ringing" },
    wrap_up: { th: "บันทึกหลังรับสาย", en: "Wrap-up" }, logged_out: { th: "ไม่ได้เข้าระบบ", en: "Logged out" },
    absent: { th: "ขาด/ลา", en: "Absent" }, off_shift: { th: "นอกเวร", en: "Off shift" },
  };
  const TZ = "Asia/Bangkok";
  const $ = (sel) => document.querySelector(sel);
  const t = (key) => L1300.t(T[key] || key);
  const esc = L1300.esc;
  const state = { week: null, selected: null, swapSource: null, definition: null, floorAt: 0 };

  function locale() { return L1300.lang() === "th" ? "th-TH" : "en-GB"; }
  function fmtDay(iso, opts) {
    return new Intl.DateTimeFormat(locale(), { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", ...opts })
      .format(new Date(iso + "T00:00:00Z"));
  }
  function fmtTime(iso) {
    return iso ? new Intl.DateTimeFormat(locale(), { timeZone: TZ, dateStyle: "short", timeStyle: "short" }).format(new Date(iso)) : "";
  }
  function fmtDuration(seconds) {
    if (seconds == null) return "";
    const s = Math.max(0, Math.floor(seconds)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    const two = (n) => String(n).padStart(2, "0");
    return (h ? h + ":" + two(m) : m) + ":" + two(s % 60);
  }
  function addDays(iso, n) {
    const d = new Date(iso + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10);
  }
  function agentName(id) { const a = state.week && state.week.agents[id]; return a ? a.name : id; }
  function shiftName(s) { return L1300.lang() === "th" ? s.name_th : s.name_en; }
  function shiftLabel(id) {
    const def = id && state.week && state.week.shifts.find((s) => s.id === id);
    return def ? shiftName(def) : (id || "");
  }

  function say(text, kind) {
    const el = $("#msg");
    el.textContent = text; el.className = "msg " + (kind || "ok");
    clearTimeout(say.timer);
    if (kind !== "error") say.timer = setTimeout(() => el.classList.add("hidden"), 4000);
  }
  function sayError(err) {
    const data = Object.assign({}, err.data || {}); delete data.error;
    const extra = Object.keys(data).length ? " — " + JSON.stringify(data) : "";
    say((err.message || String(err)) + extra, "error");
  }

  async function change(method, url, body) {
    try {
      await L1300.api(method, url, body);
      say(t("saved"), "ok");
    } catch (err) { sayError(err); return false; }
    await Promise.all([loadWeek(state.week.first_day), loadFloor(), loadAudit(), loadQueues()]);
    return true;
  }

  // --- now -------------------------------------------------------------------------------
  function warningItems(list) {
    if (!list.length) return `<li class="info">${esc(t("no_warnings"))}</li>`;
    return list.map((w) => `<li class="${esc(w.severity)}">${esc(L1300.t(w.message))}</li>`).join("");
  }

  async function loadFloor() {
    const floor = await L1300.api("GET", "/api/floor");
    state.floorAt = Date.now();
    $("#now-shifts").textContent = floor.shifts.map((s) => {
      const def = state.week && state.week.shifts.find((x) => x.id === s.shift_id);
      return (def ? shiftName(def) : s.shift_id) + " " + fmtTime(s.start) + " – " + fmtTime(s.end);
    }).join(" · ");
    $("#warnings-now").innerHTML = warningItems(floor.warnings);
    const reasons = floor.pause_reasons;
    $("#floor tbody").innerHTML = floor.agents.map((a) => `
      <tr data-agent="${esc(a.id)}">
        <td>${esc(a.name)} <span class="muted">${esc(a.id)}</span></td>
        <td>${esc(a.languages.join(", "))}</td>
        <td>${esc(shiftLabel(a.shift_id))}</td>
        <td class="state-${esc(a.state)}">${esc(L1300.t(STATES[a.state] || a.state))}${a.pause_reason ? " (" + esc(L1300.t(reasons[a.pause_reason])) + ")" : ""}</td>
        <td class="timer" data-seconds="${a.seconds_in_state == null ? "" : a.seconds_in_state}">${fmtDuration(a.seconds_in_state)}</td>
        <td>${floorActions(a, reasons)}</td>
      </tr>`).join("");
  }

  function floorActions(a, reasons) {
    if (a.state === "absent" || a.state === "off_shift") return "";
    if (a.state === "logged_out") return `<button type="button" data-do="login">${esc(t("login"))}</button>`;
    const pause = a.pause_reason
      ? `<button type="button" data-do="unpause">${esc(t("unpause"))}</button>`
      : `<select data-reason>${Object.keys(reasons).map((k) => `<option value="${esc(k)}">${esc(L1300.t(reasons[k]))}</option>`).join("")}</select>
         <button type="button" data-do="pause">${esc(t("pause"))}</button>`;
    return `<span class="row-form">${pause}<button type="button" data-do="logout">${esc(t("logout"))}</button></span>`;
  }

  function tick() {
    const elapsed = (Date.now() - state.floorAt) / 1000;
    document.querySelectorAll("#floor td.timer").forEach((td) => {
      if (td.dataset.seconds !== "") td.textContent = fmtDuration(Number(td.dataset.seconds) + elapsed);
    });
  }

  // --- week ------------------------------------------------------------------------------
  async function loadWeek(start) {
    state.week = await L1300.api("GET", "/api/roster/week" + (start ? "?start=" + start : ""));
    renderWeek();
    if (state.selected) renderDetail();
  }

  function cellOf(shiftId, day) {
    return state.week.cells.find((c) => c.shift_id === shiftId && c.day === day);
  }

  function renderWeek() {
    const w = state.week, today = state.today;
    $("#week-label").textContent = fmtDay(w.days[0], { year: "numeric" }) + " – " + fmtDay(w.days[6], { year: "numeric" });
    $("#week-grid thead").innerHTML = "<tr><th></th>" + w.days.map((d) =>
      `<th class="${d === today ? "today" : ""}">${esc(fmtDay(d))}</th>`).join("") + "</tr>";
    $("#week-grid tbody").innerHTML = w.shifts.map((s) => "<tr>" +
      `<th>${esc(shiftName(s))}<br><span class="muted">${esc(s.start)}–${esc(s.end)}</span></th>` +
      w.days.map((d) => {
        const c = cellOf(s.id, d);
        const sel = state.selected && state.selected.shift === s.id && state.selected.day === d;
        const badges = c.warnings.map((x) => `<span class="badge ${esc(x.severity)}" title="${esc(L1300.t(x.message))}">⚠ ${esc(x.language || x.kind)}</span>`).join("");
        return `<td class="cell${sel ? " selected" : ""}" data-shift="${esc(s.id)}" data-day="${esc(d)}">
          <span class="count">${c.staffed}</span><br>${badges}</td>`;
      }).join("") + "</tr>").join("");
  }

  function renderDetail() {
    const { shift, day } = state.selected;
    const c = cellOf(shift, day);
    if (!c) { $("#cell-detail").classList.add("hidden"); return; }
    const def = state.week.shifts.find((s) => s.id === shift);
    $("#cell-detail").classList.remove("hidden");
    $("#cell-title").textContent = shiftName(def) + " · " + fmtDay(day, { year: "numeric" }) + " (" + def.start + "–" + def.end + ")";
    $("#cell-warnings").innerHTML = warningItems(c.warnings);
    $("#cell-assignments tbody").innerHTML = c.assignments.map((a) => {
      const agent = state.week.agents[a.agent_id] || { name: a.agent_id, languages: [] };
      const notes = [];
      if (a.covers_agent_id) notes.push(t("covers_note") + agentName(a.covers_agent_id));
      if (a.absence) notes.push(t("absent_note") + a.absence.reason);
      return `<tr data-assignment="${a.id}" data-agent="${esc(a.agent_id)}" class="${a.absence ? "absent" : ""}">
        <td>${esc(agent.name)} <span class="muted">${esc(a.agent_id)}</span></td>
        <td>${esc(agent.languages.join(", "))}</td><td>${esc(notes.join(" · "))}</td>
        <td class="row-actions">${rowActions(a)}</td></tr>`;
    }).join("");
    const inCell = new Set(c.assignments.map((a) => a.agent_id));
    $("#add-agent").innerHTML = Object.values(state.week.agents).filter((a) => a.active && !inCell.has(a.id))
      .map((a) => `<option value="${esc(a.id)}">${esc(a.id)} · ${esc(a.name)} (${esc(a.languages.join(", "))})</option>`).join("");
    $("#add-covers").innerHTML = `<option value="">${esc(t("nobody"))}</option>` +
      c.assignments.map((a) => `<option value="${esc(a.agent_id)}">${esc(a.agent_id)} · ${esc(agentName(a.agent_id))}</option>`).join("");
    const hint = $("#swap-hint");
    hint.classList.toggle("hidden", !state.swapSource);
    if (state.swapSource) hint.innerHTML = esc(t("swap_hint") + agentName(state.swapSource.agent_id)) +
      ` <button type="button" data-do="swap-cancel">${esc(t("cancel"))}</button>`;
  }

  function rowActions(a) {
    if (a.absence) return `<button type="button" data-do="cancel-absence" data-absence="${a.absence.id}">${esc(t("cancel_absence"))}</button>`;
    if (state.swapSource && state.swapSource.id !== a.id) {
      return `<button type="button" data-do="swap-here">${esc(t("swap_with"))}</button>`;
    }
    return ["absent", "move", "swap", "remove"].map((k) =>
      `<button type="button" class="${k}" data-do="${k}">${esc(t(k))}</button>`).join(" ");
  }

  function openAbsentForm(row) {
    const c = cellOf(state.selected.shift, state.selected.day);
    const busy = new Set(c.assignments.map((a) => a.agent_id));
    const options = Object.values(state.week.agents).filter((a) => a.active && !busy.has(a.id))
      .map((a) => `<option value="${esc(a.id)}">${esc(a.id)} · ${esc(a.name)}</option>`).join("");
    row.querySelector(".row-actions").innerHTML = `<span class="row-form">
      <input name="reason" aria-label="${esc(t("reason"))}" placeholder="${esc(t("reason"))}" value="${L1300.lang() === "th" ? "ลา" : "leave"}">
      <select name="cover" aria-label="${esc(t("covers"))}"><option value="">${esc(t("no_cover"))}</option>${options}</select>
      <button type="button" data-do="absent-ok">${esc(t("ok"))}</button>
      <button type="button" data-do="row-cancel">${esc(t("cancel"))}</button></span>`;
  }

  function openMoveForm(row) {
    const days = state.week.days.map((d) => `<option value="${d}" ${d === state.selected.day ? "selected" : ""}>${esc(fmtDay(d))}</option>`).join("");
    const shifts = state.week.shifts.map((s) => `<option value="${esc(s.id)}">${esc(shiftName(s))}</option>`).join("");
    row.querySelector(".row-actions").innerHTML = `<span class="row-form">
      <select name="day">${days}</select><select name="shift">${shifts}</select>
      <button type="button" data-do="move-ok">${esc(t("ok"))}</button>
      <button type="button" data-do="row-cancel">${esc(t("cancel"))}</button></span>`;
  }

  async function onDetailClick(ev) {
    const button = ev.target.closest("button[data-do]");
    if (!button) return;
    const row = button.closest("tr[data-assignment]");
    const id = row && Number(row.dataset.assignment);
    const action = button.dataset.do;
    const { shift, day } = state.selected;
    if (action === "absent") return openAbsentForm(row);
    if (action === "move") return openMoveForm(row);
    if (action === "row-cancel") return renderDetail();
    if (action === "swap") { state.swapSource = { id, agent_id: row.dataset.agent }; return renderDetail(); }
    if (action === "swap-cancel") { state.swapSource = null; return renderDetail(); }
    if (action === "remove" && button.dataset.armed !== "1") {
      button.dataset.armed = "1"; button.textContent = t("confirm"); return;
    }
    if (action === "remove") return change("DELETE", "/api/roster/assignments/" + id);
    if (action === "cancel-absence") return change("DELETE", "/api/roster/absences/" + button.dataset.absence);
    if (action === "absent-ok") {
      const reason = row.querySelector("[name=reason]").value.trim() || "-";
      const cover = row.querySelector("[name=cover]").value || null;
      return change("POST", "/api/roster/absences", { agent_id: row.dataset.agent, day, shift_id: shift, reason, cover_agent_id: cover });
    }
    if (action === "move-ok") {
      return change("POST", `/api/roster/assignments/${id}/move`, { day: row.querySelector("[name=day]").value, shift_id: row.querySelector("[name=shift]").value });
    }
    if (action === "swap-here") {
      const first = state.swapSource.id; state.swapSource = null;
      return change("POST", "/api/roster/swap", { first, second: id });
    }
  }

  // --- explain, queues, callbacks, audit ----------------------------------------------------
  function explainQueue(q) {
    const rows = q.candidates.map((c) => `<tr class="${c.ready ? "" : "muted"}">
      <td>${esc(c.agent_id)} · ${esc(c.name)}</td><td>${c.penalty}</td>
      <td class="state-${esc(c.status)}">${esc(L1300.t(STATES[c.status] || c.status))}</td><td>${esc(L1300.t(c.reason))}</td></tr>`).join("");
    return `<p><strong>${esc(q.queue)}</strong> · ${esc(t("would_ring"))}: ${esc(q.would_ring.join(", ") || t("none"))}</p>
      <table><thead><tr><th>${esc(t("agent"))}</th><th>${esc(t("penalty"))}</th><th>${esc(t("state"))}</th><th>${esc(t("why"))}</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  async function onExplain(ev) {
    ev.preventDefault();
    const q = new URLSearchParams({ language: $("#explain-language").value, priority: $("#explain-priority").value });
    try {
      const r = await L1300.api("GET", "/api/routing/explain?" + q);
      $("#explain-result").innerHTML = `<p class="summary"><strong>${esc(L1300.t(r.summary))}</strong></p>` + explainQueue(r.queue) +
        (r.fallback ? `<h3>${esc(t("fallback"))}</h3>` + explainQueue(r.fallback) : "");
    } catch (err) { sayError(err); }
  }

  async function loadQueues() {
    try {
      const r = await L1300.api("GET", "/api/routing/queues");
      $("#queues").innerHTML = Object.entries(r.queues).map(([name, list]) => `<div class="queue">
        <code>${esc(name)}</code> ${list.length} ${esc(t("members"))}:
        ${list.map((m) => esc(m.agent_id) + "(" + m.penalty + (m.paused ? ", ⏸" : "") + (m.in_call ? ", ☎" : "") + ")").join(" ")}</div>`).join("");
    } catch (err) {
      $("#queues").innerHTML = `<p class="muted">${esc(t("no_asterisk"))}</p>`;
    }
  }

  async function loadCallbacks() {
    const r = await L1300.api("GET", "/api/callbacks?status=all");
    $("#callbacks tbody").innerHTML = r.callbacks.map((c) => `<tr data-callback="${esc(c.id)}">
      <td>${esc(fmtTime(c.requested_at))}</td><td>${esc(c.language)}</td><td>${esc(c.number)}</td>
      <td>${esc(c.status)}</td><td>${c.attempts}</td><td>${c.status === "waiting" ? esc(fmtTime(c.next_attempt_at)) : ""}</td>
      <td>${c.status === "waiting" ? `<button type="button" data-do="cancel-callback">${esc(t("cancel"))}</button>` : ""}</td></tr>`).join("");
  }

  async function loadAudit() {
    const r = await L1300.api("GET", "/api/roster/audit?limit=20");
    $("#audit tbody").innerHTML = r.entries.map((e) => `<tr><td>${esc(fmtTime(e.at))}</td><td>${esc(e.actor)}</td>
      <td>${esc(e.action)}</td><td class="muted">${esc(JSON.stringify(e.after || e.before))}</td></tr>`).join("");
  }

  async function onFloorClick(ev) {
    const button = ev.target.closest("button[data-do]");
    if (!button) return;
    const row = button.closest("tr[data-agent]");
    const agent = row.dataset.agent, action = button.dataset.do;
    const body = action === "pause" ? { reason: row.querySelector("[data-reason]").value } : undefined;
    await change("POST", `/api/agents/${encodeURIComponent(agent)}/${action}`, body);
  }

  async function onCallbackClick(ev) {
    const button = ev.target.closest("button[data-do=cancel-callback]");
    if (!button) return;
    await change("POST", `/api/callbacks/${button.closest("tr").dataset.callback}/cancel`);
    await loadCallbacks();
  }

  // --- start -------------------------------------------------------------------------------
  function labels() {
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    document.querySelectorAll("#explain-priority option").forEach((o) => { o.textContent = t(o.value); });
    $("#lang").textContent = L1300.lang() === "th" ? "English" : "ไทย";
    document.documentElement.lang = L1300.lang();
  }

  async function start() {
    const session = await L1300.session();
    if (!session) return;
    labels();
    $("#who").textContent = session.user.name;
    state.today = new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(new Date());
    state.definition = await L1300.api("GET", "/api/routing/definition");
    $("#explain-language").innerHTML = Object.entries(state.definition.languages).map(([code, l]) =>
      `<option value="${esc(code)}">${esc(l.name_native)} · ${esc(l.name_en)}</option>`).join("");
    $("#lang").addEventListener("click", () => L1300.setLang(L1300.lang() === "th" ? "en" : "th"));
    $("#signout").addEventListener("click", () => L1300.logout());
    $("#prev-week").addEventListener("click", () => loadWeek(addDays(state.week.first_day, -7)));
    $("#next-week").addEventListener("click", () => loadWeek(addDays(state.week.first_day, 7)));
    $("#this-week").addEventListener("click", () => loadWeek());
    $("#week-grid").addEventListener("click", (ev) => {
      const td = ev.target.closest("td.cell");
      if (!td) return;
      state.selected = { shift: td.dataset.shift, day: td.dataset.day };
      renderWeek(); renderDetail();
    });
    $("#cell-detail").addEventListener("click", (ev) => { onDetailClick(ev).catch(sayError); });
    $("#floor").addEventListener("click", (ev) => { onFloorClick(ev).catch(sayError); });
    $("#callbacks").addEventListener("click", (ev) => { onCallbackClick(ev).catch(sayError); });
    $("#add-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const covers = $("#add-covers").value || null;
      change("POST", "/api/roster/assignments", { agent_id: $("#add-agent").value, shift_id: state.selected.shift, day: state.selected.day, covers_agent_id: covers });
    });
    $("#explain-form").addEventListener("submit", onExplain);
    await loadWeek();
    await Promise.all([loadFloor(), loadQueues(), loadCallbacks(), loadAudit()]);
    document.body.dataset.ready = "1";
    setInterval(() => { loadFloor().catch(() => {}); loadQueues(); loadCallbacks().catch(() => {}); }, 5000);
    setInterval(tick, 1000);
  }

  start().catch(sayError);
})();
