// Report pages: the monthly and provincial reports (tables + SVG bar charts) and the KPIs.
"use strict";
(() => {
  const T = L1300.t, esc = L1300.esc, $ = (id) => document.getElementById(id);
  const TREND = { "↑": "trend-up", "↓": "trend-down", "=": "trend-same" };
  let options = null;

  function translateStatic() {
    document.querySelectorAll("[data-t-th]").forEach((el) => { el.textContent = T({ th: el.dataset.tTh, en: el.dataset.tEn }); });
    $("lang").textContent = L1300.lang() === "th" ? "EN" : "ไทย";
  }

  function showError(err) { $("error").textContent = err ? (err.message || String(err)) : ""; }

  function num(n) { return n == null ? "" : Number(n).toLocaleString("en-US"); }

  // ---- report documents (monthly, provincial)

  function chart(section, compared) {
    const rows = section.rows.filter((r) => r.level === 0 && (r.value || r.previous));
    if (!section.chart || !rows.length) return "";
    const max = Math.max(...rows.map((r) => Math.max(r.value, r.previous || 0)), 1);
    const labelW = 190, barW = 230, rowH = compared ? 22 : 16, width = labelW + barW + 50;
    const bars = rows.map((r, i) => {
      const y = i * rowH + 4, label = T(r.label);
      const cur = Math.max(1, (barW * r.value) / max), prev = Math.max(r.previous ? 1 : 0, (barW * (r.previous || 0)) / max);
      return `<text x="${labelW - 6}" y="${y + 10}" text-anchor="end">${esc(label.length > 32 ? label.slice(0, 31) + "…" : label)}</text>` +
        `<rect class="current" x="${labelW}" y="${y}" width="${cur}" height="10"><title>${num(r.value)}</title></rect>` +
        (compared ? `<rect class="previous" x="${labelW}" y="${y + 11}" width="${prev}" height="5"><title>${num(r.previous)}</title></rect>` : "") +
        `<text x="${labelW + cur + 4}" y="${y + 9}">${num(r.value)}</text>`;
    }).join("");
    return `<svg class="chart" viewBox="0 0 ${width} ${rows.length * rowH + 8}" role="img" aria-label="${esc(T(section.title))}">${bars}</svg>`;
  }

  function sectionCard(section, compared) {
    const total = section.total ? ` (${num(section.total.value)})` : "";
    const head = compared
      ? `<tr><th></th><th class="n">${esc(T({ th: "เดือนนี้", en: "This month" }))}</th><th class="n">${esc(T({ th: "เดือนก่อน", en: "Previous" }))}</th><th></th></tr>`
      : `<tr><th></th><th class="n">${esc(T({ th: "จำนวน", en: "Count" }))}</th></tr>`;
    const rows = [];
    for (const r of section.rows) {
      rows.push(tableRow(r, compared, r.level));
      // A split that is empty in both months says nothing: the table stays readable.
      for (const p of r.parts) if (p.value || p.previous) rows.push(tableRow(p, compared, r.level + 1));
    }
    return `<article class="card" data-section="${esc(section.key)}"><h2>${esc(T(section.title))}${esc(total)}</h2>
      <table>${head}${rows.join("")}</table>${chart(section, compared)}</article>`;
  }

  function tableRow(r, compared, level) {
    const trend = r.trend ? `<td class="${TREND[r.trend]}">${esc(r.trend)}</td>` : "<td></td>";
    return `<tr class="level-${level}" data-key="${esc(r.key)}"><td>${esc(T(r.label))}</td><td class="n value">${num(r.value)}</td>` +
      (compared ? `<td class="n previous">${num(r.previous)}</td>${trend}` : "") + "</tr>";
  }

  function renderDocument(target, doc) {
    const compared = !!doc.previous_period;
    const legend = compared
      ? `<p class="legend"><i style="background:#1d4ed8"></i>${esc(T(doc.period))}<i style="background:#94a3b8"></i>${esc(T(doc.previous_period))}</p>` : "";
    target.innerHTML = `<div class="heading card"><h2>${esc(T(doc.title))}</h2><p>${esc(T(doc.period))}</p>${legend}</div>` +
      doc.sections.map((s) => sectionCard(s, compared)).join("");
  }

  async function showMonthly(ev) {
    ev && ev.preventDefault(); showError(null);
    const month = $("month").value;
    const q = `month=${encodeURIComponent(month)}`;
    $("monthly-csv").href = `/api/reports/monthly?${q}&format=csv`;
    $("monthly-pdf-th").href = `/api/reports/monthly?${q}&format=pdf&lang=th`;
    $("monthly-pdf-en").href = `/api/reports/monthly?${q}&format=pdf&lang=en`;
    try { renderDocument($("monthly-out"), await L1300.api("GET", `/api/reports/monthly?${q}`)); }
    catch (err) { showError(err); }
  }

  async function showProvincial(ev) {
    ev && ev.preventDefault(); showError(null);
    const q = `province=${encodeURIComponent($("province").value)}&from=${$("p-from").value}&to=${$("p-to").value}`;
    $("provincial-csv").href = `/api/reports/provincial?${q}&format=csv`;
    $("provincial-pdf-th").href = `/api/reports/provincial?${q}&format=pdf&lang=th`;
    $("provincial-pdf-en").href = `/api/reports/provincial?${q}&format=pdf&lang=en`;
    try { renderDocument($("provincial-out"), await L1300.api("GET", `/api/reports/provincial?${q}`)); }
    catch (err) { showError(err); }
  }

  // ---- KPIs

  const KPI_COLUMNS = [
    ["offered", { th: "เข้าคิว", en: "Offered" }], ["answered", { th: "รับสาย", en: "Answered" }],
    ["abandoned", { th: "วางสายก่อนรับ", en: "Abandoned" }], ["service_level", { th: "ระดับบริการ", en: "Service level" }, "pct"],
    ["abandon_rate", { th: "อัตราวางสาย", en: "Abandon rate" }, "pct"], ["asa", { th: "เวลารอเฉลี่ย (ASA)", en: "ASA" }, "s"],
    ["avg_abandon_time", { th: "รอก่อนวางสายเฉลี่ย", en: "Avg abandon time" }, "s"],
    ["longest_wait", { th: "รอนานสุด", en: "Longest wait" }, "s"], ["aht", { th: "เวลาจัดการเฉลี่ย (AHT)", en: "AHT" }, "s"],
  ];
  const AGENT_COLUMNS = [
    ["answered", { th: "รับสาย", en: "Answered" }], ["talk_time", { th: "เวลาสนทนา", en: "Talk time" }, "s"],
    ["logged_in_time", { th: "เวลาเข้าระบบ", en: "Logged in" }, "s"], ["pause_time", { th: "เวลาพัก", en: "Paused" }, "s"],
    ["wrapup_time", { th: "เวลาสรุปงาน", en: "Wrap-up" }, "s"], ["occupancy", { th: "อัตราการใช้เวลา", en: "Occupancy" }, "pct"],
  ];

  function cell(value, kind) {
    if (value == null) return "–";
    if (kind === "pct") return `${Math.round(value * 1000) / 10}%`;
    if (kind === "s") return value >= 3600 ? `${(value / 3600).toFixed(1)} h` : `${Math.round(value)} s`;
    return num(value);
  }

  function kpiTable(title, rows, columns, keyLabel) {
    const head = `<tr><th></th>${columns.map(([, l]) => `<th class="n">${esc(T(l))}</th>`).join("")}</tr>`;
    const body = rows.map((r) => `<tr data-key="${esc(keyLabel(r))}"><td>${esc(keyLabel(r))}</td>` +
      columns.map(([k, , kind]) => `<td class="n" data-col="${k}">${esc(cell(r[k], kind))}</td>`).join("") + "</tr>").join("");
    return `<article class="card kpi-table"><h2>${esc(T(title))}</h2><table>${head}${body}</table></article>`;
  }

  async function showKpis(ev) {
    ev && ev.preventDefault(); showError(null);
    const params = new URLSearchParams({ from: $("k-from").value, to: $("k-to").value });
    for (const [id, name] of [["k-shift", "shift"], ["k-language", "language"], ["k-queue", "queue"]]) {
      if ($(id).value) params.set(name, $(id).value);
    }
    $("kpi-csv").href = `/api/reports/kpis?${params}&format=csv`;
    try {
      const r = await L1300.api("GET", `/api/reports/kpis?${params}`);
      const key = (f) => f.key || T({ th: "รวม", en: "All" });
      const pauses = (a) => Object.entries(a.pause_by_reason).map(([k, v]) => `${k}: ${cell(v, "s")}`).join(", ");
      $("kpi-out").innerHTML =
        `<div class="heading card"><h2>${esc(T({ th: "ตัวชี้วัดคิวและเจ้าหน้าที่", en: "Queue and agent KPIs" }))}</h2>` +
        `<p>${esc(T({ th: `ระดับบริการ = รับสายภายใน ${r.service_level_seconds} วินาที`, en: `Service level = answered within ${r.service_level_seconds} s` }))}</p></div>` +
        kpiTable({ th: "รวม", en: "Total" }, [r.total], KPI_COLUMNS, key) +
        kpiTable({ th: "ตามคิว", en: "By queue" }, r.by_queue, KPI_COLUMNS, key) +
        kpiTable({ th: "ตามภาษา", en: "By language" }, r.by_language, KPI_COLUMNS, key) +
        kpiTable({ th: "ตามเวร", en: "By shift" }, r.by_shift, KPI_COLUMNS, key) +
        kpiTable({ th: "ตามเจ้าหน้าที่", en: "By agent" }, r.by_agent.map((a) => ({ ...a, key: `${a.agent_id} ${a.name}` })),
                 AGENT_COLUMNS, key) +
        `<article class="card kpi-table"><h2>${esc(T({ th: "เวลาพักตามเหตุผล", en: "Pause time by reason" }))}</h2><table>` +
        r.by_agent.map((a) => `<tr><td>${esc(a.agent_id)}</td><td>${esc(pauses(a) || "–")}</td></tr>`).join("") + "</table></article>";
    } catch (err) { showError(err); }
  }

  // ---- set-up

  function fill(select, items, value, label, any) {
    select.innerHTML = (any ? `<option value="">${esc(T({ th: "ทั้งหมด", en: "All" }))}</option>` : "") +
      items.map((i) => `<option value="${esc(value(i))}">${esc(label(i))}</option>`).join("");
  }

  function selectTab(name) {
    document.querySelectorAll(".tabs button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("hidden", s.id !== name));
    history.replaceState(null, "", `#${name}`);
  }

  async function start() {
    if (!(await L1300.session())) return;
    translateStatic();
    $("lang").onclick = () => L1300.setLang(L1300.lang() === "th" ? "en" : "th");
    $("logout").onclick = () => L1300.logout();
    options = await L1300.api("GET", "/api/reports/options");
    fill($("province"), options.provinces, (p) => p.id, (p) => T(p));
    fill($("k-shift"), options.shifts, (s) => s.id, (s) => `${T({ th: s.name_th, en: s.name_en })} ${s.start}–${s.end}`, true);
    fill($("k-language"), options.languages, (l) => l.code, (l) => T({ th: l.name_native, en: l.name_en }), true);
    fill($("k-queue"), options.queues, (q) => q.name, (q) => q.name, true);
    $("month").value = options.current_month;
    const firstOfMonth = `${options.current_month}-01`;
    $("p-from").value = firstOfMonth; $("p-to").value = options.today;
    $("k-from").value = options.today; $("k-to").value = options.today;
    $("monthly-form").onsubmit = showMonthly;
    $("provincial-form").onsubmit = showProvincial;
    $("kpi-form").onsubmit = showKpis;
    document.querySelectorAll(".tabs button").forEach((b) => { b.onclick = () => selectTab(b.dataset.tab); });
    selectTab(["monthly", "provincial", "kpis"].includes(location.hash.slice(1)) ? location.hash.slice(1) : "monthly");
    await showMonthly();
    document.body.dataset.ready = "1";
  }
  start().catch(showError);
})();
