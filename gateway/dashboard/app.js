// hybrid-gateway savings dashboard: reads GET /admin/reports with the finance key, draws charts.
// No network access beyond this gateway; Chart.js is served from /dashboard/static.
"use strict";

const KEY = "hybridgw.financeKey";
const charts = {};
const $ = (id) => document.getElementById(id);

// Cents for large sums, six decimals below a dollar (one request costs a fraction of a cent).
const usd = (v) =>
  "$" + (Math.abs(v) >= 100 ? v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    : v.toFixed(Math.abs(v) < 1 ? 6 : 4));
const pct = (v) => (v === null ? "—" : v.toFixed(1) + "%");
const share = (v) => (v === null ? "—" : (v * 100).toFixed(1) + "%");
const ms = (v) => (v === null ? "—" : Math.round(v).toString());

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function params(groupBy, withTenant = true) {
  const q = new URLSearchParams({ group_by: groupBy, since: $("since").value, until: $("until").value });
  if (withTenant && $("tenant").value) q.set("tenant", $("tenant").value);
  return q;
}

async function api(query, format = "json") {
  query.set("format", format);
  const response = await fetch("/admin/reports?" + query, {
    headers: { authorization: "Bearer " + sessionStorage.getItem(KEY) },
  });
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(KEY);
    showLogin("That key does not grant finance access.");
    throw new Error("unauthorised");
  }
  if (!response.ok) throw new Error("report request failed: HTTP " + response.status);
  return format === "json" ? response.json() : response.blob();
}

function showLogin(message) {
  $("content").hidden = true;
  $("whatif").hidden = true;
  $("tabs").hidden = true;
  $("login").hidden = false;
  setError(message || "");
}

function setError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function kpi(id, value, text) {
  const el = $(id);
  el.dataset.value = value === null ? "" : String(value);
  el.textContent = text;
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
  charts[id] = new Chart($(id), config);
}

function render(days, apps, tiers) {
  const t = days.total;
  kpi("kpi-requests", t.requests, t.requests.toLocaleString("en-US"));
  kpi("kpi-cost", t.cost_usd, usd(t.cost_usd));
  kpi("kpi-counterfactual", t.counterfactual_cost_usd, usd(t.counterfactual_cost_usd));
  kpi("kpi-savings", t.savings_usd, usd(t.savings_usd));
  kpi("kpi-savings-pct", t.savings_pct, pct(t.savings_pct));
  kpi("kpi-local-share", t.local_share, share(t.local_share));
  $("reference-model").textContent = days.basis.reference_models.join(", ") || "the reference model";
  kpi("stat-savings-local", t.savings_local_usd, usd(t.savings_local_usd));
  kpi("stat-savings-choice", t.savings_cloud_choice_usd, usd(t.savings_cloud_choice_usd));
  kpi("stat-savings-unattributed", t.savings_unattributed_usd, usd(t.savings_unattributed_usd));
  $("stat-unattributed-box").hidden = !t.savings_unattributed_usd;
  renderQuality(days.quality);

  const b = days.basis;
  const local = b.local_cost_notes.length ? b.local_cost_notes.join("; ") : "no local requests";
  $("basis").textContent =
    `Local cost: ${local}. Latency reference ${ms(b.latency_reference_ms)} ms ` +
    `(${b.latency_reference_basis}${b.latency_reference_basis === "measured" ? ", " + b.latency_reference_samples + " requests" : ""}). ` +
    `All-cloud cost = the same tokens on the reference cloud model (${b.reference_models.join(", ") || "none recorded"}).`;

  const labels = days.rows.map((r) => r.group);
  draw("chart-cost", {
    type: "bar",
    data: {
      labels,
      datasets: [
        { label: "actual", data: days.rows.map((r) => r.cost_usd), backgroundColor: "#3b6fb6" },
        { label: "all-cloud", data: days.rows.map((r) => r.counterfactual_cost_usd), backgroundColor: "#c9d3df" },
      ],
    },
  });
  let running = 0;
  draw("chart-cumulative", {
    type: "line",
    data: {
      labels,
      datasets: [{
        label: "cumulative savings",
        data: days.rows.map((r) => (running += r.savings_usd)),
        borderColor: "#137a4b", backgroundColor: "rgba(19,122,75,.15)", fill: true,
      }],
    },
  });
  draw("chart-local-share", {
    type: "line",
    data: {
      labels,
      datasets: [{
        label: "local share %",
        data: days.rows.map((r) => (r.local_share === null ? null : r.local_share * 100)),
        borderColor: "#8a5cc2",
      }],
    },
    options: { scales: { y: { min: 0, max: 100 } } },
  });
  const tierRows = tiers.rows.filter((r) => r.group === "local" || r.group === "cloud");
  const p = (r, q) => r["latency_" + q + "_ms_" + r.group];
  draw("chart-latency", {
    type: "bar",
    data: {
      labels: tierRows.map((r) => r.group),
      datasets: [
        { label: "p50", data: tierRows.map((r) => p(r, "p50")), backgroundColor: "#3b6fb6" },
        { label: "p95", data: tierRows.map((r) => p(r, "p95")), backgroundColor: "#e0a13a" },
        {
          label: "reference model (" + b.latency_reference_basis + ")",
          data: tierRows.map(() => b.latency_reference_ms), backgroundColor: "#c9d3df",
        },
      ],
    },
  });
  const top = [...apps.rows].sort((a, c) => c.cost_usd - a.cost_usd).slice(0, 10);
  draw("chart-apps", {
    type: "bar",
    data: {
      labels: top.map((r) => r.group),
      datasets: [{ label: "actual spend", data: top.map((r) => r.cost_usd), backgroundColor: "#3b6fb6" }],
    },
    options: { indexAxis: "y" },
  });

  const body = $("days").querySelector("tbody");
  body.replaceChildren(
    ...[...days.rows, Object.assign({}, t, { group: "TOTAL" })].map((r) => {
      const tr = document.createElement("tr");
      for (const cell of [r.group, r.requests, usd(r.cost_usd), usd(r.counterfactual_cost_usd),
        usd(r.savings_usd), usd(r.savings_local_usd), usd(r.savings_cloud_choice_usd), pct(r.savings_pct),
        share(r.local_share), r.fallbacks, r.pii_redacted_requests]) {
        const td = document.createElement("td");
        td.textContent = String(cell);
        tr.append(td);
      }
      return tr;
    }),
  );
}

// Shadow evaluation: share of sampled local answers judged as good as the reference model's.
function renderQuality(q) {
  if (!q || !q.samples) {
    kpi("stat-quality", null, "—");
    $("stat-quality-detail").textContent = "no shadow verdicts in this window";
    return;
  }
  kpi("stat-quality", q.retained, share(q.retained));
  $("stat-quality-detail").textContent =
    `${q.samples} sampled local answers vs ${q.reference.join(", ")}; ` +
    `95% CI ${share(q.ci_low)}–${share(q.ci_high)} (Wilson)`;
}

function cells(tr, values) {
  for (const value of values) {
    const td = document.createElement("td");
    td.textContent = String(value);
    tr.append(td);
  }
  return tr;
}

function renderWhatIf(w) {
  $("whatif-summary").textContent =
    `${w.changed} of ${w.requests} requests change route` +
    (w.skipped_without_inputs ? ` (${w.skipped_without_inputs} older rows without decision inputs skipped)` : "") +
    ". Costs replay each row's real token counts on the replayed model.";
  $("whatif-summary").dataset.changed = String(w.changed);
  const latency = (s) => (s.latency_ms_mean === null ? "—" : `${ms(s.latency_ms_mean)} (${s.latency_basis})`);
  $("whatif-policies").querySelector("tbody").replaceChildren(
    ...["current", "draft"].map((name) => {
      const s = w[name];
      const tr = cells(document.createElement("tr"),
        [name, share(s.local_share), usd(s.cost_usd), s.pii_exposure, s.blocked, latency(s)]);
      tr.dataset.policy = name;
      tr.dataset.localShare = s.local_share === null ? "" : String(s.local_share);
      tr.dataset.cost = String(s.cost_usd);
      return tr;
    }),
  );
  $("whatif-changes").querySelector("tbody").replaceChildren(
    ...w.transitions.map((t) => cells(document.createElement("tr"),
      [`${t.from_rule} → ${t.from_route}`, `${t.to_rule} → ${t.to_route}`, t.requests])),
  );
  $("whatif-result").hidden = false;
}

async function runWhatIf() {
  $("whatif-error").hidden = true;
  const q = new URLSearchParams({ since: $("since").value, until: $("until").value });
  const response = await fetch("/admin/policy/whatif?" + q, {
    method: "POST",
    headers: { authorization: "Bearer " + $("whatif-key").value, "content-type": "application/yaml" },
    body: $("whatif-draft").value,
  });
  const body = await response.json();
  if (!response.ok) {
    $("whatif-error").textContent = (body.error && body.error.message) || "HTTP " + response.status;
    $("whatif-error").hidden = false;
    return;
  }
  renderWhatIf(body);
  document.body.dataset.whatif = "done";
}

function showTab(name) {
  const savings = name === "savings";
  $("content").hidden = !savings;
  $("whatif").hidden = savings;
  $("tab-savings").setAttribute("aria-selected", String(savings));
  $("tab-whatif").setAttribute("aria-selected", String(!savings));
}

async function fillTenants() {
  const tenants = await api(params("tenant", false));
  const select = $("tenant");
  const chosen = select.value;
  select.replaceChildren(new Option("all tenants", ""), ...tenants.rows.map((r) => new Option(r.group, r.group)));
  select.value = tenants.rows.some((r) => r.group === chosen) ? chosen : "";
}

async function load() {
  setError("");
  try {
    await fillTenants();
    const [days, apps, tiers] = await Promise.all([api(params("day")), api(params("app")), api(params("tier"))]);
    $("login").hidden = true;
    $("tabs").hidden = false;
    showTab($("whatif").hidden ? "savings" : "whatif");
    render(days, apps, tiers);
    document.body.dataset.loaded = "true";
  } catch (error) {
    if (error.message !== "unauthorised") setError(error.message);
  }
}

async function downloadCsv() {
  const blob = await api(params("day"), "csv");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `hybridgw-report-${$("since").value}-${$("until").value}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

function init() {
  const today = new Date();
  $("until").value = isoDay(today);
  $("since").value = isoDay(new Date(today.getTime() - 29 * 86400000));
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("csv").addEventListener("click", () => downloadCsv().catch((e) => setError(e.message)));
  $("logout").addEventListener("click", () => { sessionStorage.removeItem(KEY); showLogin(); });
  $("tab-savings").addEventListener("click", () => showTab("savings"));
  $("tab-whatif").addEventListener("click", () => showTab("whatif"));
  $("whatif-form").addEventListener("submit", (e) => {
    e.preventDefault();
    runWhatIf().catch((error) => { $("whatif-error").textContent = error.message; $("whatif-error").hidden = false; });
  });
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $("key").value);
    $("key").value = "";
    load();
  });
  if (sessionStorage.getItem(KEY)) load(); else showLogin();
}

document.addEventListener("DOMContentLoaded", init);
