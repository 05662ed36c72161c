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

  const b = days.basis;
  const local = b.local_cost_notes.length ? b.local_cost_notes.join("; ") : "no local requests";
  $("basis").textContent =
    `Local cost: ${local}. Latency reference ${ms(b.latency_reference_ms)} ms ` +
    `(${b.latency_reference_basis}${b.latency_reference_basis === "measured" ? ", " + b.latency_reference_samples + " requests" : ""}). ` +
    "All-cloud cost = the same tokens on the policy's reference cloud model.";

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
        usd(r.savings_usd), pct(r.savings_pct), share(r.local_share), r.fallbacks, r.pii_redacted_requests]) {
        const td = document.createElement("td");
        td.textContent = String(cell);
        tr.append(td);
      }
      return tr;
    }),
  );
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
    $("content").hidden = false;
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
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $("key").value);
    $("key").value = "";
    load();
  });
  if (sessionStorage.getItem(KEY)) load(); else showLogin();
}

document.addEventListener("DOMContentLoaded", init);
