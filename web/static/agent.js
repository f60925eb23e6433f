// The agent desk: screen-pops from /ws/agent, the outcome form built from /api/taxonomy,
// the agent's phone state, caller flags and contacts that are not calls.
"use strict";
(async () => {
  const T = L1300.t, esc = L1300.esc;
  const UI = {
    ringing: { th: "โทรศัพท์กำลังดัง", en: "Ringing" },
    answered: { th: "กำลังสนทนา", en: "In call" },
    ended: { th: "วางสายแล้ว — บันทึกผล", en: "Call ended — record the outcome" },
    critical: { th: "วิกฤต — ฉุกเฉิน", en: "CRITICAL — emergency" },
    urgent: { th: "เร่งด่วน", en: "Urgent" },
    normal: { th: "ปกติ", en: "Normal" },
    caller: { th: "หมายเลขผู้โทร", en: "Caller" },
    withheld: { th: "ไม่แสดงหมายเลข", en: "Number withheld" },
    country: { th: "ประเทศ", en: "Country" },
    language: { th: "ภาษา", en: "Language" },
    line: { th: "สาย", en: "Line" },
    path: { th: "เส้นทางในระบบตอบรับ", en: "IVR path" },
    queue: { th: "คิว", en: "Queue" },
    waited: { th: "รอสาย", en: "Waited" },
    previous: { th: "การติดต่อครั้งก่อน", en: "Previous contacts" },
    none_before: { th: "ไม่เคยติดต่อมาก่อน", en: "No earlier contact" },
    when: { th: "เมื่อ", en: "When" },
    how: { th: "ช่องทาง", en: "How" },
    result: { th: "ผล", en: "Outcome" },
    agent: { th: "เจ้าหน้าที่", en: "Agent" },
    flags: { th: "ข้อควรทราบเกี่ยวกับผู้โทร", en: "Caller flags" },
    test_number: { th: "หมายเลขทดสอบ — นับแยกจากสายจริง", en: "Test number — counted apart from real calls" },
    flag_caller: { th: "ทำเครื่องหมายผู้โทรนี้", en: "Flag this caller" },
    reason: { th: "เหตุผล", en: "Reason" },
    days: { th: "จำนวนวัน", en: "Days" },
    flag: { th: "บันทึกเครื่องหมาย", en: "Save flag" },
    flagged: { th: "บันทึกเครื่องหมายแล้ว", en: "Flag saved" },
    until: { th: "ถึง", en: "until" },
    choose: { th: "— เลือก —", en: "— choose —" },
    none: { th: "— ไม่ระบุ —", en: "— none —" },
    saved: { th: "บันทึกแล้ว ส่งเข้าระบบรับเรื่องแล้ว", en: "Saved and sent to the case store" },
    recorded: { th: "บันทึกเรื่องแล้ว เลขที่", en: "Contact recorded, stub" },
    fix: { th: "กรุณาแก้ไขช่องที่มีข้อความสีแดง", en: "Please correct the fields marked in red" },
    outcome_for: { th: "บันทึกผลของสาย", en: "Outcome of the call" },
    connected: { th: "● เชื่อมต่อแล้ว", en: "● Connected" },
    reconnecting: { th: "○ กำลังเชื่อมต่อใหม่…", en: "○ Reconnecting…" },
    status: { th: "สถานะ", en: "Status" },
    domestic: { th: "1300 ในประเทศ", en: "1300 domestic" },
    international: { th: "สายต่างประเทศ +66 99 130 1300", en: "International +66 99 130 1300" },
    callback: { th: "โทรกลับ", en: "Callback" },
    other: { th: "ช่องทางอื่น", en: "Other channel" },
    rang_elsewhere: { th: "สายนี้ไปยังเจ้าหน้าที่ท่านอื่นแล้ว", en: "This call went to another agent" },
  };
  const STATUS = {
    available: { th: "พร้อมรับสาย", en: "Available" }, paused: { th: "พัก", en: "Paused" },
    logged_out: { th: "ไม่ได้เข้ารับสาย", en: "Logged out" }, off_shift: { th: "นอกเวร", en: "Off shift" },
    absent: { th: "ลา", en: "Absent" }, ringing: { th: "โทรศัพท์กำลังดัง", en: "Ringing" },
    on_call: { th: "กำลังสนทนา", en: "On a call" }, wrap_up: { th: "บันทึกหลังวางสาย", en: "Wrap-up" },
  };

  const session = await L1300.session();
  if (!session) return;
  applyStaticLabels();
  const [tax, routingDef] = await Promise.all([
    L1300.api("GET", "/api/taxonomy"),
    L1300.api("GET", "/api/routing/definition").catch(() => ({ languages: {}, pause_reasons: {}, menu: {} })),
  ]);
  const contacts = new Map();  // stub_id -> latest pop message (plus phase changes)
  const drafts = new Map();    // stub_id -> outcome form values not yet saved
  let selected = null, clockOffset = 0;
  let bound = null, justSaved = null;  // the contact the outcome form is for; the last one saved

  const outcomeForm = document.getElementById("outcome");
  const outcome = buildOutcomeFields(outcomeForm.querySelector(".outcome-fields"));
  const contactForm = document.getElementById("contact");
  const contactOutcome = buildOutcomeFields(contactForm.querySelector(".outcome-fields"));
  fillContactForm();
  wireHeader();
  await refreshState();
  setInterval(tick, 1000);

  L1300.socket("/ws/agent", onMessage, (s) => {
    const link = document.getElementById("link");
    link.textContent = T(s === "open" ? UI.connected : UI.reconnecting);
    link.className = "link-state " + (s === "open" ? "ok" : "warning");
  });

  // ------------------------------------------------------------------ pops

  function onMessage(m) {
    switch (m.type) {
      case "hello":
        clockOffset = Date.parse(m.server_time) - Date.now();
        contacts.clear();  // the server replays the open contacts next
        break;
      case "pop":
        m.received_at_page = Date.now();
        contacts.set(m.stub_id, m);
        if (!selected || m.phase === "ringing" || !contacts.has(selected)) selected = m.stub_id;
        window.L1300_LAST_POP = m;  // read by the browser test
        break;
      case "ring_ended":
        contacts.delete(m.stub_id);
        break;
      case "call_ended": {
        const c = contacts.get(m.stub_id);
        if (c && m.phase === "ended") Object.assign(c, { phase: "ended", ended_at: m.ended_at });
        else contacts.delete(m.stub_id);
        break;
      }
      case "closed":  // its outcome was saved (here or in another tab)
        if (m.stub_id === bound) justSaved = m.stub_id;
        contacts.delete(m.stub_id);
        drafts.delete(m.stub_id);
        break;
      default:
        return;
    }
    if (selected && !contacts.has(selected)) selected = contacts.size ? [...contacts.keys()].pop() : null;
    render();
  }

  function render() {
    renderTabs();
    renderPop(selected ? contacts.get(selected) : null);
    bindOutcome(selected);
  }

  function renderTabs() {
    const nav = document.getElementById("open-contacts");
    nav.innerHTML = [...contacts.values()].map((c) =>
      `<button type="button" data-stub="${esc(c.stub_id)}" class="tab ${c.stub_id === selected ? "active" : ""} prio-${esc(c.stub.priority)}">` +
      `${esc(T(UI[c.phase] || {}))} · ${esc(c.stub.caller.number || T(UI.withheld))}</button>`).join("");
    nav.querySelectorAll("button").forEach((b) => { b.onclick = () => { keepDraft(); selected = b.dataset.stub; render(); }; });
  }

  function renderPop(c) {
    const box = document.getElementById("pop");
    if (!c) {
      box.className = "card pop";
      box.innerHTML = `<p class="muted idle">${esc(T({ th: "ยังไม่มีสายเข้า — หน้านี้จะแสดงข้อมูลทันทีที่โทรศัพท์ดัง", en: "No call yet — this page shows the caller the moment your phone rings" }))}</p>`;
      return;
    }
    const s = c.stub, prio = s.priority || "normal";
    const flagDraft = box.dataset.stub === c.stub_id ? readFlagDraft(box) : null;
    box.className = `card pop phase-${c.phase} priority-${prio}`;
    box.dataset.stub = c.stub_id;
    box.innerHTML = `
      <div class="pop-head">
        <span class="phase">${esc(T(UI[c.phase] || {}))}</span>
        <span class="${prio === "normal" ? "badge" : prio}" data-priority="${esc(prio)}">${esc(T(UI[prio] || {}))}</span>
        ${c.test_number ? `<span class="badge test">${esc(T(UI.test_number))}</span>` : ""}
      </div>
      ${flagsHtml(c.flags)}
      <dl class="facts">
        <dt>${esc(T(UI.caller))}</dt><dd class="number" id="pop-number">${esc(s.caller.number || T(UI.withheld))}</dd>
        <dt>${esc(T(UI.country))}</dt><dd id="pop-country">${esc(countryName(s.caller.country))}</dd>
        <dt>${esc(T(UI.language))}</dt><dd id="pop-language">${esc(languageName(s.language))}</dd>
        <dt>${esc(T(UI.line))}</dt><dd>${esc(T(UI[s.line] || { th: s.line, en: s.line }))}${s.channel ? " · " + esc(choiceLabel(tax.intake_channels, s.channel)) : ""}</dd>
        <dt>${esc(T(UI.path))}</dt><dd id="pop-path">${esc((s.ivr.selections || []).map(selectionLabel).join(" → ") || "—")}</dd>
        <dt>${esc(T(UI.queue))}</dt><dd>${esc(s.queue || "—")}</dd>
        <dt>${esc(T(UI.waited))}</dt><dd id="pop-wait" data-since="${esc(c.queued_at || s.received_at || "")}" data-fixed="${c.phase === "ringing" ? "" : c.wait_seconds}">${duration(c.wait_seconds)}</dd>
      </dl>
      <h3>${esc(T(UI.previous))}</h3>
      ${previousHtml(c.previous)}
      <details class="flag-caller">
        <summary>${esc(T(UI.flag_caller))}</summary>
        <form class="flag-form" novalidate>
          <div class="row">
            <div class="field" data-field="kind"><label>${esc(T(UI.flags))}</label>
              <select name="kind">${tax.caller_flags.map((k) => `<option value="${esc(k.id)}" data-days="${k.default_days}">${esc(T(k))}</option>`).join("")}</select><p class="field-error"></p></div>
            <div class="field" data-field="days"><label>${esc(T(UI.days))}</label>
              <input name="days" type="number" min="1" value="${tax.caller_flags[0].default_days}"><p class="field-error"></p></div>
          </div>
          <div class="field" data-field="reason"><label>${esc(T(UI.reason))}</label>
            <input name="reason" maxlength="500"><p class="field-error"></p></div>
          <p class="form-error error" role="alert"></p>
          <button type="submit">${esc(T(UI.flag))}</button> <span class="saved ok"></span>
        </form>
      </details>`;
    wireFlagForm(box.querySelector(".flag-form"), c.stub_id);
    if (flagDraft) writeFlagDraft(box, flagDraft);
  }

  // A refreshed pop (new stub revision) must not wipe a flag the agent is typing.
  function readFlagDraft(box) {
    const form = box.querySelector(".flag-form");
    if (!form) return null;
    const v = (n) => form.querySelector(`[name="${n}"]`).value;
    return { open: box.querySelector(".flag-caller").open, kind: v("kind"), days: v("days"), reason: v("reason"),
             saved: form.querySelector(".saved").textContent };
  }

  function writeFlagDraft(box, draft) {
    box.querySelector(".flag-caller").open = draft.open;
    const form = box.querySelector(".flag-form");
    ["kind", "days", "reason"].forEach((n) => { form.querySelector(`[name="${n}"]`).value = draft[n]; });
    form.querySelector(".saved").textContent = draft.saved;
  }

  function flagsHtml(flags) {
    if (!flags || !flags.length) return "";
    return `<ul class="flags" aria-label="${esc(T(UI.flags))}">` + flags.map((f) =>
      `<li class="flag flag-${esc(f.kind)}"><strong>${esc(T(f.label))}</strong> — ${esc(f.reason)}` +
      ` <span class="muted">(${esc(T(UI.until))} ${esc(dateText(f.expires_at, false))})</span></li>`).join("") + "</ul>";
  }

  function previousHtml(previous) {
    if (!previous || !previous.length) return `<p class="muted">${esc(T(UI.none_before))}</p>`;
    const rows = previous.map((p) => `<tr>
      <td>${esc(dateText(p.received_at, true))}</td>
      <td>${esc(p.channel ? choiceLabel(tax.intake_channels, p.channel) : T(UI[p.line] || { th: p.line, en: p.line }))}</td>
      <td class="category">${esc(p.category ? choiceLabel(tax.categories, p.category) : p.disposition)}</td>
      <td>${esc((p.agent && p.agent.name) || "")}</td>
      <td class="notes">${esc((p.notes || "").slice(0, 160))}</td></tr>`).join("");
    return `<table class="previous"><thead><tr><th>${esc(T(UI.when))}</th><th>${esc(T(UI.how))}</th>` +
      `<th>${esc(T(UI.result))}</th><th>${esc(T(UI.agent))}</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  function tick() {
    const el = document.getElementById("pop-wait");
    if (!el || el.dataset.fixed !== "" || !el.dataset.since) return;
    el.textContent = duration((Date.now() + clockOffset - Date.parse(el.dataset.since)) / 1000);
  }

  // --------------------------------------------------------------- outcome

  function buildOutcomeFields(container) {
    container.append(document.getElementById("outcome-template").content.cloneNode(true));
    applyStaticLabels(container);
    const q = (n) => container.querySelector(`[name="${n}"]`);
    options(q("category"), tax.categories, true);
    options(q("target_group"), tax.target_groups);
    options(q("sex"), tax.sexes);
    options(q("province"), tax.provinces);
    options(q("referral.urgency"), tax.referral_urgency);
    options(q("referral.destination.kind"), tax.destination_kinds);
    options(q("mobile_team_result"), tax.mobile_team_results);
    container.querySelector(".checks").innerHTML = tax.problem_types.map((p) =>
      `<label class="check"><input type="checkbox" name="problem_types" value="${esc(p.id)}"> ${esc(T(p))}</label>`).join("");
    q("category").onchange = () => showSubtypes(container);
    q("referral.destination.kind").onchange = () => showDestinations(container);
    showSubtypes(container);
    showDestinations(container);
    return container;
  }

  function showSubtypes(container) {
    const category = tax.categories.find((c) => c.id === container.querySelector('[name="category"]').value);
    const field = container.querySelector('[data-field="subtype"]');
    const subtypes = (category && category.subtypes) || [];
    field.classList.toggle("hidden", !subtypes.length);
    options(field.querySelector("select"), subtypes, true);
    container.querySelector(".referral").classList.toggle("required", !!category && category.requires.includes("referral"));
  }

  function showDestinations(container) {
    const kind = container.querySelector('[name="referral.destination.kind"]').value;
    const places = { department: tax.departments, province: tax.provinces, abroad: tax.agencies_abroad }[kind] || [];
    options(container.querySelector('[name="referral.destination.id"]'), places.map((p) =>
      p.abbr ? { ...p, th: `${p.abbr} ${p.th}` } : p));
    container.querySelector('[data-field="referral.destination.country"]').classList.toggle("hidden", kind !== "abroad");
  }

  function collectOutcome(container) {
    const v = (n) => container.querySelector(`[name="${n}"]`).value.trim();
    const urgency = v("referral.urgency"), kind = v("referral.destination.kind");
    return {
      category: v("category"),
      subtype: v("subtype") || null,
      problem_types: [...container.querySelectorAll('[name="problem_types"]:checked')].map((c) => c.value),
      target_group: v("target_group") || null,
      sex: v("sex") || null,
      province: v("province") || null,
      district: v("district") || null,
      referral: urgency || kind ? {
        urgency: urgency || null,
        destination: kind ? { kind, id: v("referral.destination.id") || null,
                              country: kind === "abroad" ? v("referral.destination.country") || null : null } : null,
      } : null,
      mobile_team_result: v("mobile_team_result") || null,
      notes: v("notes"),
    };
  }

  function restoreOutcome(container, values) {
    const set = (n, value) => { container.querySelector(`[name="${n}"]`).value = value || ""; };
    container.querySelectorAll("select, input:not([type=checkbox]), textarea").forEach((el) => { el.value = ""; });
    container.querySelectorAll('[name="problem_types"]').forEach((c) => { c.checked = false; });
    values = values || {};
    set("category", values.category); showSubtypes(container); set("subtype", values.subtype);
    (values.problem_types || []).forEach((id) => {
      const box = container.querySelector(`[name="problem_types"][value="${CSS.escape(id)}"]`);
      if (box) box.checked = true;
    });
    ["target_group", "sex", "province", "district", "mobile_team_result", "notes"].forEach((n) => set(n, values[n]));
    const r = values.referral || {}, d = r.destination || {};
    set("referral.urgency", r.urgency); set("referral.destination.kind", d.kind); showDestinations(container);
    set("referral.destination.id", d.id); set("referral.destination.country", d.country);
  }

  function bindOutcome(stubId) {
    const title = document.getElementById("outcome-for");
    outcomeForm.classList.toggle("hidden", !stubId);
    if (!stubId) {
      title.textContent = justSaved ? T(UI.saved) : T({ th: "เลือกสายที่ต้องการบันทึก", en: "Choose the contact to record" });
      bound = null;
      return;
    }
    justSaved = null;
    const c = contacts.get(stubId);
    title.textContent = `${T(UI.outcome_for)} ${c.stub.caller.number || T(UI.withheld)} · ${dateText(c.stub.received_at, true)}`;
    if (bound === stubId) return;
    bound = stubId;
    clearErrors(outcomeForm);
    outcomeForm.querySelector(".saved").textContent = "";
    const suggested = c.test_number ? { category: "test_call" } : null;
    restoreOutcome(outcome, drafts.get(stubId) || suggested || (c.stub.outcome || null));
  }

  function keepDraft() { if (bound) drafts.set(bound, collectOutcome(outcome)); }

  outcomeForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!bound) return;
    const stubId = bound;
    clearErrors(outcomeForm);
    try {
      await L1300.api("PUT", `/api/case-stubs/${encodeURIComponent(stubId)}/outcome`, collectOutcome(outcome));
      outcomeForm.querySelector(".saved").textContent = T(UI.saved);
      drafts.delete(stubId);
    } catch (err) {
      showErrors(outcomeForm, err, "");
    }
  });

  // ----------------------------------------------------------------- flags

  function wireFlagForm(form, stubId) {
    const kind = form.querySelector('[name="kind"]');
    kind.onchange = () => { form.querySelector('[name="days"]').value = kind.selectedOptions[0].dataset.days; };
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const v = (n) => form.querySelector(`[name="${n}"]`).value.trim();
      try {
        await L1300.api("POST", "/api/caller-flags", { stub_id: stubId, kind: v("kind"), reason: v("reason"), days: Number(v("days")) || null });
        form.querySelector(".saved").textContent = T(UI.flagged);
      } catch (err) {
        showErrors(form, err, "");
      }
    });
  }

  // -------------------------------------------------------- other contacts

  function fillContactForm() {
    const nonCall = tax.intake_channels.filter((c) => !c.phone);
    options(contactForm.querySelector('[name="channel"]'), nonCall, true);
    const langs = Object.entries(routingDef.languages || {}).map(([id, l]) => ({ id, th: l.name_native, en: l.name_en }));
    options(contactForm.querySelector('[name="language"]'), langs.length ? langs : [{ id: "th", th: "ไทย", en: "Thai" }], false, "th");
    options(contactForm.querySelector('[name="priority"]'), ["normal", "urgent", "critical"].map((p) => ({ id: p, ...UI[p] })), false, "normal");
    contactForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(contactForm);
      const v = (n) => contactForm.querySelector(`[name="${n}"]`).value.trim();
      const withOutcome = contactOutcome.querySelector('[name="category"]').value;
      const body = {
        channel: v("channel"), caller_number: v("caller_number") || null, language: v("language"),
        priority: v("priority"), reference: v("reference") || null,
        received_at: v("received_at") ? new Date(v("received_at")).toISOString() : null,
        outcome: withOutcome ? collectOutcome(contactOutcome) : null,
      };
      try {
        const r = await L1300.api("POST", "/api/contacts", body);
        contactForm.querySelector(".saved").textContent = `${T(UI.recorded)} ${r.stub.id}`;
        contactForm.reset();
        restoreOutcome(contactOutcome, null);
      } catch (err) {
        showErrors(contactForm, err, "outcome.");
      }
    });
  }

  // ----------------------------------------------------------- agent state

  function wireHeader() {
    document.getElementById("me").textContent = `${session.user.name} (${session.user.agent_id || "—"})`;
    document.getElementById("lang").textContent = L1300.lang() === "th" ? "EN" : "ไทย";
    document.getElementById("lang").onclick = () => { keepDraft(); L1300.setLang(L1300.lang() === "th" ? "en" : "th"); };
    document.getElementById("logout").onclick = () => L1300.logout();
    const reasons = Object.entries(routingDef.pause_reasons || {}).map(([id, l]) => ({ id, ...l }));
    options(document.getElementById("pause-reason"), reasons, false, reasons.length ? reasons[0].id : "");
    const act = (path, body) => async () => {
      try {
        await L1300.api("POST", `/api/agents/me/${path}`, body && body());
        document.getElementById("state-error").classList.add("hidden");
      } catch (err) {
        const box = document.getElementById("state-error");
        box.textContent = err.message;
        box.classList.remove("hidden");
      }
      await refreshState();
    };
    document.getElementById("phone-login").onclick = act("login");
    document.getElementById("phone-logout").onclick = act("logout");
    document.getElementById("pause").onclick = act("pause", () => ({ reason: document.getElementById("pause-reason").value }));
    document.getElementById("unpause").onclick = act("unpause");
  }

  async function refreshState() {
    const el = document.getElementById("agent-status");
    try {
      const s = await L1300.api("GET", "/api/agents/me/state");
      const status = s.state || s.status || "";
      el.textContent = `${T(UI.status)}: ${T(STATUS[status] || { th: status, en: status })}` +
        (s.pause_reason ? ` (${T((routingDef.pause_reasons || {})[s.pause_reason] || s.pause_reason)})` : "");
    } catch (err) {
      el.textContent = "";
    }
  }

  // --------------------------------------------------------------- helpers

  function options(select, choices, required, value) {
    const keep = value !== undefined ? value : select.value;
    const blank = `<option value="">${esc(T(required ? UI.choose : UI.none))}</option>`;
    select.innerHTML = (value !== undefined ? "" : blank) +
      choices.map((c) => `<option value="${esc(c.id)}">${esc(T(c))}</option>`).join("");
    select.value = keep || "";
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error, .form-error").forEach((p) => { p.textContent = ""; });
    form.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid"));
  }

  // Puts each message next to its field; paths the form does not show go to the form's banner.
  function showErrors(form, err, outcomePrefix) {
    const fields = (err.data && err.data.fields) || {};
    const loose = [];
    for (const [path, e] of Object.entries(fields)) {
      const text = L1300.lang() === "th" ? (e.message_th || e.message) : e.message;
      const inOutcome = outcomePrefix && path.startsWith(outcomePrefix);
      const scope = inOutcome ? form.querySelector(".outcome-fields") : form;
      const name = inOutcome ? path.slice(outcomePrefix.length) : path;
      const wrapper = scope.querySelector(`[data-field="${CSS.escape(name)}"]`);
      const target = wrapper ? wrapper.querySelector(".field-error") : scope.querySelector(`[data-field-error="${CSS.escape(name)}"]`);
      if (target) {
        target.textContent = text;
        if (wrapper) wrapper.classList.add("invalid");
        if (inOutcome) form.querySelector("details") && (form.querySelector("details").open = true);
      } else {
        loose.push(`${path}: ${text}`);
      }
    }
    const banner = form.querySelector(".form-error");
    banner.textContent = Object.keys(fields).length ? [T(UI.fix), ...loose].join(" · ") : err.message;
  }

  function choiceLabel(list, id) {
    const found = (list || []).find((c) => c.id === id);
    return found ? T(found) : id;
  }

  function languageName(code) {
    const l = (routingDef.languages || {})[code];
    return l ? T({ th: l.name_native, en: l.name_en }) : (code || "—");
  }

  function selectionLabel(id) {
    if ((routingDef.languages || {})[id]) return languageName(id);
    const option = (routingDef.menu || {})[id];  // config/ivr.toml's menu labels
    return T(option ? option.label : (UI[id] || { th: id, en: id }));
  }

  function countryName(code) {
    if (!code) return "—";
    try { return `${new Intl.DisplayNames([L1300.lang()], { type: "region" }).of(code)} (${code})`; } catch (e) { return code; }
  }

  function dateText(iso, withTime) {
    if (!iso) return "";
    const opts = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
    return new Date(iso).toLocaleString(L1300.lang() === "th" ? "th-TH" : "en-GB", { ...opts, timeZone: "Asia/Bangkok" });
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function applyStaticLabels(root) {
    (root || document).querySelectorAll("[data-t-th]").forEach((el) => {
      el.textContent = T({ th: el.dataset.tTh, en: el.dataset.tEn });
    });
  }
})();
