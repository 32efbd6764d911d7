// OptiInfra console: charts from the data the page carries, and a rollout's progress live over SSE.
"use strict";

const palette = ["#0b6e4f", "#1f5fbf", "#a86200", "#7b3fa0", "#b3261e", "#2a8f9c", "#6b7a8f", "#c78c16",
                 "#3d9a5f", "#8a5a44", "#4f6bd8"];

function drawCharts(root) {
  if (typeof Chart === "undefined") return;
  root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    if (canvas.dataset.drawn) return;
    const spec = JSON.parse(canvas.dataset.chart);
    spec.data.datasets.forEach((set, i) => {
      const many = spec.type === "doughnut" || spec.type === "pie";
      set.backgroundColor = set.backgroundColor || (many ? palette : palette[i % palette.length]);
      set.borderColor = set.borderColor || (many ? "#fff" : palette[i % palette.length]);
    });
    spec.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: spec.type === "doughnut" || spec.data.datasets.length > 1,
                           position: "bottom" } } }, spec.options || {});
    new Chart(canvas, spec);
    canvas.dataset.drawn = "yes";
  });
}

function describe(e) {
  switch (e.event) {
    case "planned": return `Plan: ${e.changes} changes of ${e.instances_analyzed} instances analysed`;
    case "review": return `${e.agent} agent ${e.approved ? "approves" : "vetoes"} (confidence ${e.confidence.toFixed(2)}, ${e.vetoes} vetoed)`;
    case "awaiting_approval": return `Waiting for approval: ${e.instance_ids.length} instances`;
    case "decision": return `Decision: ${e.decision} by ${e.by} (${e.approved} instances)`;
    case "wave_started": return `Wave ${e.number} started: ${e.instances} instance(s)`;
    case "wave_progress": return `Wave ${e.number}: ${e.done} of ${e.instances} done`;
    case "wave": return `Wave ${e.number} done: ${e.changed} changed, ${e.failed} failed`;
    case "monitoring": return `Watching ${e.applications} service(s) after wave ${e.number}`;
    case "monitor": return `Wave ${e.number} quality: ${e.degraded || e.too_many_failures ? "degraded" : "healthy"} ` +
      `(worst p95 ${e.worst_latency_change_pct.toFixed(2)} %, errors ${e.worst_error_rate_change_pt.toFixed(2)} pt)`;
    case "rollback_started": return `Rolling back ${e.instances} change(s)`;
    case "rollback": return `Rolled back: ${e.reverted} restored, ${e.failed} failed`;
    case "report": return `Report: ${e.status}, ${e.changed} changed`;
    case "failed": return `Failed: ${e.reason}`;
    case "status": return `Now ${e.status.replace(/_/g, " ")}`;
    default: return e.event;
  }
}

function followRollout(root) {
  const list = root.querySelector("[data-events-url]");
  if (!list || list.dataset.following) return;
  list.dataset.following = "yes";
  const source = new EventSource(list.dataset.eventsUrl);
  const settled = new Set(["status", "report", "failed"]);
  source.onmessage = () => {};
  const onEvent = (message) => {
    const e = JSON.parse(message.data);
    const item = document.createElement("li");
    item.dataset.event = e.event;
    item.classList.add("live");  // arrived over the stream, not with the page
    item.textContent = describe(e);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    const live = document.getElementById("live-status");
    if (live) live.textContent = item.textContent;
    if (e.event === "wave_started") {
      setText("status", "rolling out");
      addWave(e);
    }
    if (e.event === "wave") setCell(e.number, 2, String(e.failed));
    if (e.event === "monitor") {
      const bad = e.degraded || e.too_many_failures;
      setCell(e.number, 4, bad ? "degraded" : "healthy");
      setCell(e.number, 5, `${e.worst_latency_change_pct >= 0 ? "+" : ""}${e.worst_latency_change_pct.toFixed(1)} %`);
      setCell(e.number, 6, `${e.worst_error_rate_change_pt >= 0 ? "+" : ""}${e.worst_error_rate_change_pt.toFixed(2)} pt`);
    }
    if (settled.has(e.event)) {
      source.close();
      // The page itself shows where it stands now: the report, the request waiting for a person.
      setTimeout(() => window.location.reload(), 400);
    }
  };
  ["planned", "review", "awaiting_approval", "decision", "wave_started", "wave_progress", "wave", "monitoring",
   "monitor", "rollback_started", "rollback", "report", "failed", "status"].forEach((name) =>
    source.addEventListener(name, onEvent));
  source.onerror = () => source.close();  // it ended (the stream closes when the workflow settles)
}

function setText(id, text) {
  const found = document.getElementById(id);
  if (found) found.textContent = text;
}

function addWave(e) {
  const body = document.querySelector("#waves tbody");
  if (!body || document.getElementById(`wave-${e.number}`)) return;
  body.querySelector(".no-wave")?.remove();
  const row = body.insertRow();
  row.id = `wave-${e.number}`;
  [String(e.number), String(e.instances), "0", "now", "watching…", "", ""].forEach((text, i) => {
    const cell = row.insertCell();
    cell.textContent = text;
    if ([1, 2, 5, 6].includes(i)) cell.className = "num";
    if (i === 4) cell.className = "verdict";
  });
}

function setCell(number, column, text) {
  const row = document.getElementById(`wave-${number}`);
  if (row && row.cells[column]) row.cells[column].textContent = text;
}

function describeSaid(root) {
  root.querySelectorAll("li[data-said]").forEach((item) => { item.textContent = describe(JSON.parse(item.dataset.said)); });
}

function wireSelection(root) {
  root.querySelectorAll("[data-select-all]").forEach((box) => {
    if (box.dataset.wired) return;
    box.dataset.wired = "yes";
    box.addEventListener("change", () => {
      document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`).forEach((b) => { b.checked = box.checked; });
    });
  });
}

function ready(root) { drawCharts(root); describeSaid(root); followRollout(root); wireSelection(root); }
document.addEventListener("DOMContentLoaded", () => ready(document));
document.addEventListener("htmx:afterSwap", (event) => ready(event.target));
