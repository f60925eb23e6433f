// Recordings and callback messages: listening (every play is audited by the server), the
// callback messages with their machine transcript and suggested priority, the transcription
// queue, replacing an IVR prompt, and what the retention purge would remove.
// `L1300Media.messagesCard(el)` is also mounted on the supervisor page (#messages-card).
"use strict";
const L1300Media = (() => {
  const T = {
    title: { th: "บันทึกเสียงและข้อความ · สายด่วน 1300", en: "Recordings and messages · 1300 line" },
    signout: { th: "ออกจากระบบ", en: "Sign out" },
    home_supervisor: { th: "← หน้าหัวหน้าเวร", en: "← Supervisor page" },
    home_agent: { th: "← หน้าเจ้าหน้าที่", en: "← Agent page" },
    messages: { th: "ข้อความขอให้โทรกลับ", en: "Callback messages" },
    messages_hint: { th: "คำถอดความและความเร่งด่วนเป็นเพียงข้อเสนอแนะจากเครื่อง ให้ฟังเสียงจริงก่อนตัดสินใจ",
      en: "Transcripts and priorities are machine suggestions: listen before deciding." },
    requested: { th: "เวลาฝากข้อความ", en: "Left at" }, language: { th: "ภาษา", en: "Language" },
    callback: { th: "การโทรกลับ", en: "Callback" }, listen: { th: "ฟัง", en: "Listen" },
    transcript: { th: "คำถอดความ", en: "Transcript" }, suggested: { th: "ข้อเสนอแนะ", en: "Suggestion" },
    download: { th: "ดาวน์โหลด", en: "Download" }, retry: { th: "ถอดความใหม่", en: "Transcribe again" },
    no_messages: { th: "ยังไม่มีข้อความ", en: "No messages yet" },
    no_recordings: { th: "ยังไม่มีบันทึกเสียง", en: "No recordings yet" },
    queue: { th: "คิวถอดความ", en: "Transcription queue" },
    recordings: { th: "บันทึกเสียง", en: "Recordings" }, when: { th: "เวลา", en: "When" },
    call: { th: "สาย", en: "Call" }, length: { th: "ความยาว", en: "Length" }, state: { th: "สถานะ", en: "State" },
    prompt: { th: "เปลี่ยนเสียงประกาศ (IVR)", en: "Replace an IVR prompt" },
    prompt_hint: { th: "ไฟล์เสียง wav, mp3, ogg, flac หรือ m4a ไม่เกิน 50 MB ระบบจะแปลงเป็น 8 kHz ให้เอง",
      en: "An audio file (wav, mp3, ogg, flac or m4a, up to 50 MB); converted to 8 kHz for you." },
    prompt_id: { th: "เสียงประกาศ", en: "Prompt" }, file: { th: "ไฟล์", en: "File" },
    upload: { th: "อัปโหลด", en: "Upload" },
    now: { th: "ใช้งานแล้ว: สายถัดไปจะได้ยินเสียงใหม่", en: "Installed: the next caller hears it" },
    after_restart: { th: "บันทึกแล้ว: มีผลเมื่อเริ่ม Asterisk ใหม่", en: "Saved: takes effect after Asterisk restarts" },
    retention: { th: "ระยะเวลาเก็บรักษา", en: "Retention" },
    days: { th: "วัน", en: "days" }, would_remove: { th: "รอบลบถัดไปจะลบ", en: "The next purge would remove" },
    queued: { th: "รอคิว", en: "Queued" }, running: { th: "กำลังถอด", en: "Running" },
    done: { th: "เสร็จแล้ว", en: "Done" }, failed: { th: "ล้มเหลว", en: "Failed" },
    models: { th: "ภาษาที่มีโมเดล", en: "Languages with a model" }, none: { th: "ไม่มี", en: "none" },
    normal: { th: "ปกติ", en: "Normal" }, urgent: { th: "เร่งด่วน", en: "Urgent" }, critical: { th: "วิกฤต", en: "Critical" },
    keywords: { th: "คำที่พบ", en: "Words found" },
  };
  const TSTATE = {
    ok: { th: "ถอดความแล้ว", en: "Transcribed" }, silent: { th: "ไม่มีเสียงพูด", en: "Silent" },
    no_model: { th: "ไม่มีคำถอดความ (ไม่มีโมเดลภาษานี้)", en: "No transcript (no model for the language)" },
    pending: { th: "รอถอดความ", en: "Waiting" }, error: { th: "ถอดความไม่สำเร็จ", en: "Failed" },
  };
  const MEDIA_STATE = {
    pending: { th: "รอแปลงไฟล์", en: "Converting" }, archived: { th: "จัดเก็บแล้ว", en: "Kept" },
    missing: { th: "ไม่พบไฟล์", en: "Missing" }, failed: { th: "ไฟล์เสีย", en: "Unreadable" },
  };
  const CALLBACK = {
    waiting: { th: "รอโทรกลับ", en: "Waiting" }, placing: { th: "กำลังโทร", en: "Calling" },
    answered: { th: "โทรกลับแล้ว", en: "Reached" }, unanswered: { th: "ติดต่อไม่ได้", en: "Not reached" },
    cancelled: { th: "ยกเลิก", en: "Cancelled" },
  };
  const LANGS = { th: "ไทย / Thai", en: "English", km: "ខ្មែរ / Khmer", my: "မြန်မာ / Burmese", ko: "한국어 / Korean" };
  const t = (key) => L1300.t(T[key] || key);
  const esc = L1300.esc;

  function when(iso) {
    if (!iso) return "";
    return new Intl.DateTimeFormat(L1300.lang() === "th" ? "th-TH" : "en-GB", {
      timeZone: "Asia/Bangkok", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    }).format(new Date(iso));
  }
  function seconds(s) {
    if (s == null) return "";
    const m = Math.floor(s / 60);
    return `${m}:${String(Math.round(s % 60)).padStart(2, "0")}`;
  }
  function playable(m) { return (m.state === "archived" || m.state === "pending") && m.duration_seconds !== 0; }
  function player(m) {
    if (!playable(m)) return `<span class="muted">—</span>`;
    return `<audio controls preload="none" src="/api/recordings/${esc(m.id)}/audio"></audio>`;
  }
  function downloadLink(m) {
    return playable(m) ? `<a class="button" href="/api/recordings/${esc(m.id)}/download">${esc(t("download"))}</a>` : "";
  }
  function transcriptCell(m) {
    const s = m.transcript_state || "pending";
    const text = m.transcript ? `<div class="transcript" lang="${esc(m.language || "")}">${esc(m.transcript)}</div>` : "";
    return `<span class="tstate ${esc(s)}">${esc(L1300.t(TSTATE[s] || s))}</span>${text}`;
  }
  function suggestionCell(m) {
    const tri = m.triage;
    if (!tri || !tri.suggested_priority) return "";
    const p = tri.suggested_priority;
    const words = (tri.keywords || []).length
      ? `<div class="keywords">${esc(t("keywords"))}: ${tri.keywords.map(esc).join(", ")}</div>` : "";
    return `<span class="suggest ${p === "normal" ? "" : esc(p)}">${esc(t(p))}</span>${words}`;
  }

  function messagesCard(el) {
    el.classList.remove("hidden");
    el.innerHTML = `<h2>${esc(t("messages"))}</h2><p class="muted">${esc(t("messages_hint"))}</p>
      <p class="queue-line" data-role="queue"></p>
      <table id="messages"><thead><tr><th>${esc(t("requested"))}</th><th>${esc(t("language"))}</th>
      <th>${esc(t("callback"))}</th><th>${esc(t("listen"))}</th><th>${esc(t("transcript"))}</th>
      <th>${esc(t("suggested"))}</th><th></th></tr></thead><tbody></tbody></table>`;
    const body = el.querySelector("tbody");
    let shown = "";
    async function load() {
      const r = await L1300.api("GET", "/api/callback-messages?limit=50");
      const w = r.transcription.worker;
      el.querySelector("[data-role=queue]").textContent = `${t("queue")}: ${t("queued")} ${w.queued}`
        + ` · ${t("running")} ${w.running} · ${t("done")} ${w.done} · ${t("failed")} ${w.failed}`;
      // Re-render only on change: a re-render would stop an audio element that is playing.
      const key = JSON.stringify(r.messages);
      if (key === shown) return r;
      shown = key;
      body.innerHTML = r.messages.length ? r.messages.map((m) => `<tr data-media="${esc(m.id)}">
        <td>${esc(when(m.callback ? m.callback.requested_at : m.recorded_at))}</td>
        <td>${esc(LANGS[m.language] || m.language || "")}</td>
        <td>${m.callback ? esc(L1300.t(CALLBACK[m.callback.status] || m.callback.status)) : ""}</td>
        <td>${player(m)}</td><td>${transcriptCell(m)}</td><td>${suggestionCell(m)}</td>
        <td>${downloadLink(m)}${["error", "no_model"].includes(m.transcript_state) && m.state === "archived"
          ? ` <button type="button" data-do="retry">${esc(t("retry"))}</button>` : ""}</td></tr>`).join("")
        : `<tr><td colspan="7" class="muted">${esc(t("no_messages"))}</td></tr>`;
      return r;
    }
    el.addEventListener("click", async (ev) => {
      const button = ev.target.closest("button[data-do=retry]");
      if (!button) return;
      button.disabled = true;
      await L1300.api("POST", `/api/transcriptions/${button.closest("tr").dataset.media}/retry`);
      await load();
    });
    const started = load();
    setInterval(() => { load().catch(() => {}); }, 5000);
    return started;
  }

  return { T, t, when, seconds, player, downloadLink, messagesCard, MEDIA_STATE, LANGS };
})();

(() => {
  const mount = document.getElementById("messages-card");
  if (document.body.dataset.page !== "recordings") {
    // Another page (the supervisor's) that has room for the messages.
    if (mount) L1300Media.messagesCard(mount).catch((e) => console.error(e));
    return;
  }
  const { t, when, seconds, player, downloadLink, MEDIA_STATE, LANGS } = L1300Media;
  const esc = L1300.esc;
  const $ = (sel) => document.querySelector(sel);
  let csrf = "";
  let catalog = null;
  let shownRecordings = "";

  function say(text, ok) {
    const msg = $("#msg");
    msg.textContent = text;
    msg.className = "msg " + (ok ? "ok" : "error");
  }

  async function loadRecordings() {
    const r = await L1300.api("GET", "/api/recordings?kind=call_recording&limit=100");
    const key = JSON.stringify(r.recordings);
    if (key === shownRecordings) return;  // a re-render would stop a playing recording
    shownRecordings = key;
    $("#recordings tbody").innerHTML = r.recordings.length ? r.recordings.map((m) => `<tr data-media="${esc(m.id)}">
      <td>${esc(when(m.recorded_at))}</td><td><code>${esc(m.linkedid)}</code></td>
      <td>${esc(seconds(m.duration_seconds))}</td>
      <td>${esc(L1300.t(MEDIA_STATE[m.state] || m.state))}</td><td>${player(m)}</td>
      <td>${downloadLink(m)}</td></tr>`).join("")
      : `<tr><td colspan="6" class="muted">${esc(t("no_recordings"))}</td></tr>`;
  }

  async function loadQueue() {
    const p = await L1300.api("GET", "/api/transcriptions");
    const figures = [["queued", p.worker.queued], ["running", p.worker.running], ["done", p.worker.done],
      ["failed", p.worker.failed]];
    $("#queue").innerHTML = `<dl class="figures">${figures.map(([k, v]) =>
      `<dt>${esc(t(k))}</dt><dd data-figure="${k}">${v}</dd>`).join("")}
      ${Object.entries(p.messages).map(([k, v]) => `<dt><span class="tstate ${esc(k)}">${esc(k)}</span></dt><dd>${v}</dd>`).join("")}
      <dt>${esc(t("models"))}</dt><dd>${esc(p.languages_with_model.join(", ") || t("none"))}</dd></dl>`;
  }

  async function loadPrompts() {
    catalog = await L1300.api("GET", "/api/prompts");
    $("#prompt-id").innerHTML = catalog.prompts.map((p) =>
      `<option value="${esc(p.id)}">${esc(p.id)}${p.use ? " — " + esc(p.use) : ""}</option>`).join("");
    fillLanguages();
  }

  function fillLanguages() {
    const prompt = catalog.prompts.find((p) => p.id === $("#prompt-id").value);
    if (!prompt) return;
    const keep = $("#prompt-lang").value;
    $("#prompt-lang").innerHTML = prompt.languages.map((l) =>
      `<option value="${esc(l)}">${esc(LANGS[l] || l)}${prompt.recorded.includes(l) ? " ✓" : ""}</option>`).join("");
    if (prompt.languages.includes(keep)) $("#prompt-lang").value = keep;
    showText();
  }

  function showText() {
    const prompt = catalog.prompts.find((p) => p.id === $("#prompt-id").value);
    $("#prompt-text").textContent = prompt ? prompt.texts[$("#prompt-lang").value] || "" : "";
  }

  async function upload(ev) {
    ev.preventDefault();
    const file = $("#prompt-file").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("audio", file, file.name);
    const id = $("#prompt-id").value, lang = $("#prompt-lang").value;
    const result = $("#prompt-result");
    const r = await fetch(`/api/prompts/${encodeURIComponent(id)}/${encodeURIComponent(lang)}`, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }, body: form,
    });
    const data = await r.json().catch(() => ({ error: r.statusText }));
    result.classList.remove("hidden");
    if (!r.ok) {
      result.className = "msg error";
      result.textContent = data.reason ? `${data.error}: ${data.reason}` : data.error;
      return;
    }
    result.className = "msg ok";
    result.textContent = `${id} [${lang}] ${seconds(data.duration_seconds)} — ${t(data.takes_effect)}`;
    await loadPrompts();
  }

  async function loadRetention() {
    const r = await L1300.api("GET", "/api/retention");
    const counts = r.dry_run.counts;
    const kind = (k) => L1300.t(r.labels[k] || k);  // the kinds' labels: the server's table
    $("#retention").innerHTML = `<dl class="figures">${Object.entries(r.policy_days).map(([k, d]) =>
      `<dt>${esc(kind(k))}</dt><dd>${d} ${esc(t("days"))}</dd>`).join("")}</dl>
      <p>${esc(t("would_remove"))}: ${Object.entries(counts).map(([k, n]) =>
        `${esc(kind(k))} <strong data-purge="${esc(k)}">${n}</strong>`).join(" · ")}</p>`;
  }

  async function main() {
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    $("#lang").textContent = L1300.lang() === "th" ? "English" : "ไทย";
    $("#lang").addEventListener("click", () => L1300.setLang(L1300.lang() === "th" ? "en" : "th"));
    $("#signout").addEventListener("click", () => L1300.logout());
    const session = await L1300.session();
    if (!session) return;
    csrf = session.csrf;
    const supervisor = session.user.role === "supervisor";
    $("#who").textContent = session.user.name;
    $("#home").href = session.home;
    $("#home").textContent = t(supervisor ? "home_supervisor" : "home_agent");
    const jobs = [loadRecordings()];
    if (supervisor) {
      document.querySelectorAll(".supervisor-only").forEach((el) => el.classList.remove("hidden"));
      jobs.push(L1300Media.messagesCard($("#messages-card")), loadQueue(), loadPrompts(), loadRetention());
      $("#prompt-id").addEventListener("change", fillLanguages);
      $("#prompt-lang").addEventListener("change", showText);
      $("#prompt-form").addEventListener("submit", (ev) => { upload(ev).catch((e) => say(e.message)); });
      setInterval(() => { loadQueue().catch(() => {}); }, 5000);
    }
    await Promise.all(jobs);
    document.body.dataset.ready = "1";
    setInterval(() => { loadRecordings().catch(() => {}); }, 15000);
  }

  main().catch((e) => say(e.message));
})();
