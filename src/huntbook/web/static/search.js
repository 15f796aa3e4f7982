// The search page: reads q/earliest/latest from the URL, asks /api/search, draws the results.
"use strict";

const PAGE = 50;
const HISTORY_KEY = "huntbook.history";
const HISTORY_MAX = 20;
const CORE = new Set(["_time", "_raw", "_cd", "index", "host", "source", "sourcetype"]);
const OPEN_FIELDS = new Set(["host", "source", "sourcetype", "EventCode"]);
const PROVENANCE = ["source", "index", "sourcetype", "EventRecordID", "RecordNumber"];
const KEY_FIELDS = 8;  // fields shown on an event's line besides time, host, source, sourcetype

let current = { q: "", earliest: "", latest: "" };
let running = null;  // {sid, controller} of the search in flight
let lastTotal = 0;
let offset = 0;
let summarizing = null;  // the summary request of the shown rows, while it runs: { sid, controller }
let shownSid = null;  // the search whose rows are shown

function text(value) {
  if (value === null || value === undefined) return "";
  return Array.isArray(value) ? value.join("\n") : String(value);
}

function query(extra = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...current, ...extra })) if (v !== "" && v !== null) p.set(k, v);
  return p.toString();
}

// --- the form --------------------------------------------------------------------------------
function readUrl() {
  const p = new URLSearchParams(location.search);
  current = { q: p.get("q") || "", earliest: p.get("earliest") || "", latest: p.get("latest") || "" };
  $("q").value = current.q;
  const preset = [...$("range").options].some((o) => o.value === current.earliest && o.value !== "custom");
  const custom = current.latest !== "" || (current.earliest !== "" && !preset);
  $("range").value = custom ? "custom" : current.earliest;
  $("earliest").value = current.earliest;
  $("latest").value = current.latest;
  $("custom-range").hidden = !custom;
}

function submit(event) {
  if (event) event.preventDefault();
  const range = $("range").value;
  current = {
    q: $("q").value.trim(),
    earliest: range === "custom" ? $("earliest").value.trim() : range,
    latest: range === "custom" ? $("latest").value.trim() : "",
  };
  if (!current.q) return;
  history.pushState(null, "", "/search?" + query());
  remember(current.q);
  start(0, true);
}

function remember(q) {
  const past = loadHistory().filter((h) => h !== q);
  localStorage.setItem(HISTORY_KEY, JSON.stringify([q, ...past].slice(0, HISTORY_MAX)));
}

function loadHistory() {
  try {
    const items = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
    return Array.isArray(items) ? items.filter((h) => typeof h === "string") : [];
  } catch (e) {
    return [];
  }
}

function showHistory() {
  const list = $("history");
  list.replaceChildren(...loadHistory().map((h) => el("li", {
    title: h,
    onmousedown: (e) => { e.preventDefault(); $("q").value = h; list.hidden = true; submit(); },
  }, h)));
  list.hidden = list.children.length === 0;
}

// --- running ---------------------------------------------------------------------------------
async function cancelRunning() {
  const stopped = [running, summarizing].filter((r) => r !== null);
  running = summarizing = null;
  for (const { sid, controller } of stopped) {
    controller.abort();
    await fetch("/api/cancel?sid=" + encodeURIComponent(sid), { method: "POST" }).catch(() => {});
  }
}

// Rows come first, alone; then the fields summary and timeline (summary) by a second request
// (computed beside the rows, on a machine of two cores, it would slow them down).
async function start(at, summary) {
  await cancelRunning();
  const sid = Math.random().toString(36).slice(2);
  const controller = new AbortController();
  running = { sid, controller };
  offset = at;
  $("error").hidden = true;
  $("status").textContent = "Searching…";
  $("cancel").hidden = false;
  const began = performance.now();
  const ask = (extra) => fetch("/api/search?" + query(extra), { signal: controller.signal })
    .then(async (response) => ({ ok: response.ok, body: await response.json() }));
  let answer;
  try {
    answer = await ask({ offset: at, count: PAGE, sid, summary: 0 });
  } catch (e) {
    if (running && running.sid === sid) finish("The search did not answer: " + e);
    return;
  }
  if (!running || running.sid !== sid) return;  // a newer search replaced this one
  running = null;
  shownSid = sid;
  $("cancel").hidden = true;
  if (!answer.ok) return showError(answer.body.error);
  const took = ((performance.now() - began) / 1000).toFixed(2);
  draw(answer.body, took);
  if (summary) summarize(ask, sid, controller);
}

function summarize(ask, sid, controller) {
  summarizing = { sid: sid + "-summary", controller };
  ask({ count: 0, sid: sid + "-summary" }).then((answer) => {
    if (!summarizing || summarizing.controller !== controller) return;  // replaced
    summarizing = null;
    if (answer.ok && shownSid === sid) {
      drawFields(answer.body);
      drawTimeline(answer.body.timeline);
    }
  }).catch(() => {});
}

function finish(message) {
  running = null;
  $("cancel").hidden = true;
  $("status").textContent = message;
}

function showError(error) {
  $("status").textContent = "";
  const box = $("error");
  box.replaceChildren(el("strong", {}, error.reason || error.message));
  if (error.line) {
    const lines = current.q.split("\n");
    const line = lines[error.line - 1] || "";
    const at = error.col - 1;
    box.append(el("div", { class: "where" }, `Line ${error.line}, Col ${error.col}`));
    box.append(el("pre", {}, line.slice(0, at), el("mark", {}, line.slice(at, at + 1) || " "), line.slice(at + 1)));
    const q = $("q");
    q.focus();
    q.setSelectionRange(error.pos, error.pos + 1);
  } else if (error.reason === undefined && error.message) {
    box.firstChild.textContent = error.message;
  }
  box.hidden = false;
}

// --- drawing ---------------------------------------------------------------------------------
function draw(body, took) {
  lastTotal = body.total;
  const noun = body.events ? "event" : "result";
  $("status").textContent = `${body.total.toLocaleString()} ${noun}${body.total === 1 ? "" : "s"} (${took} s)`;
  $("warnings").hidden = body.warnings.length === 0;
  $("warnings").replaceChildren(...body.warnings.map((w) => el("div", {}, "Warning: " + w)));
  const last = Math.min(body.offset + body.rows.length, body.total);
  $("count").textContent = body.total ? `${body.offset + 1}–${last} of ${body.total.toLocaleString()}` : "No results.";
  $("page").textContent = ` page ${Math.floor(body.offset / PAGE) + 1} of ${Math.max(1, Math.ceil(body.total / PAGE))} `;
  $("prev").disabled = body.offset === 0;
  $("next").disabled = last >= body.total;
  $("export-csv").href = "/api/export?" + query({ format: "csv" });
  $("export-json").href = "/api/export?" + query({ format: "json" });
  if (body.events) drawEvents(body.rows);
  else drawTable(body.columns, body.rows);
}

function drawEvents(rows) {
  const head = el("tr", {}, el("th", {}, ""), el("th", {}, "Time"), el("th", {}, "Event"));
  const tbody = el("tbody");
  rows.forEach((row, i) => {
    const keys = Object.keys(row).filter((k) => !CORE.has(k) && row[k] !== null && row[k] !== "").slice(0, KEY_FIELDS);
    const summary = el("td", { class: "summary" },
      ...["host", "source", "sourcetype"].map((k) => kv(k, row[k])),
      ...keys.map((k) => kv(k, row[k])));
    const line = el("tr", { class: "event", "data-row": String(i) }, el("td", { class: "toggle" }, "▸"), el("td", { class: "time" }, text(row._time)), summary);
    line.addEventListener("click", () => toggleDetail(line, row));
    tbody.append(line);
  });
  $("chart").hidden = true;
  $("rows").replaceChildren(el("table", { class: "events" }, el("thead", {}, head), tbody));
}

function kv(key, value) {
  return el("span", { class: "kv" }, el("b", {}, key + "="), text(value));
}

function toggleDetail(line, row) {
  const next = line.nextElementSibling;
  if (next && next.classList.contains("detail")) {
    next.remove();
    line.firstChild.textContent = "▸";
    return;
  }
  line.firstChild.textContent = "▾";
  const prov = PROVENANCE.filter((k) => row[k] !== undefined && row[k] !== null).map((k) => `${k}: ${text(row[k])}`).join(" · ");
  const all = Object.keys(row).filter((k) => k !== "_raw" && row[k] !== null).map((k) => kv(k, row[k]));
  const cell = el("td", { colspan: "3" },
    el("div", { class: "prov" }, "Provenance — " + (prov || "not recorded")),
    el("pre", { class: "raw" }, text(row._raw)),
    el("div", { class: "all-fields" }, ...all));
  line.after(el("tr", { class: "detail" }, cell));
}

function drawTable(columns, rows) {
  const head = el("tr", {}, ...columns.map((c) => el("th", {}, c)));
  const body = rows.map((r) => el("tr", {}, ...columns.map((c) => el("td", {}, text(r[c])))));
  $("rows").replaceChildren(el("table", { class: "table" }, el("thead", {}, head), el("tbody", {}, ...body)));
  drawChart(columns, rows);
}

// A bar chart of the first numeric column against the first other one, when the table has both.
function drawChart(columns, rows) {
  const numeric = columns.filter((c) => rows.length && rows.every((r) => r[c] === null || typeof r[c] === "number"));
  const value = numeric.find((c) => c !== "_time");
  const label = columns.find((c) => c !== value && (c === "_time" || !numeric.includes(c)));
  const box = $("chart");
  box.hidden = !(value && label && rows.length > 1);
  if (box.hidden) return;
  const W = 1000, H = 180, top = Math.max(...rows.map((r) => r[value] || 0)) || 1;
  const w = W / rows.length;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H + 20}`, width: "100%", height: H + 20, role: "img" });
  svg.append(svgEl("title", {}, `${value} by ${label}`));
  rows.forEach((r, i) => {
    const h = ((r[value] || 0) / top) * H;
    const bar = svgEl("rect", { x: i * w + 1, y: H - h, width: Math.max(1, w - 2), height: h, fill: "#3b6fc2" });
    bar.append(svgEl("title", {}, `${text(r[label])}: ${r[value]}`));
    svg.append(bar);
  });
  svg.append(svgEl("text", { x: 4, y: H + 15, class: "axis", "font-size": 11 }, `${value} by ${label} (max ${top})`));
  box.replaceChildren(svg);
}

function svgEl(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

// --- fields sidebar --------------------------------------------------------------------------
// The fields of the result's first rows only when it has more than the server summarizes: said.
function fieldsScope(body) {
  if (body.fields_from >= body.total) return "";
  const noun = body.events ? "events" : "results";
  return `in the first ${body.fields_from.toLocaleString()} of ${body.total.toLocaleString()} ${noun}, in the order shown`;
}

function drawFields(body) {
  const fields = body.fields;
  const box = $("fields");
  const scope = fieldsScope(body);
  box.replaceChildren(el("h3", {}, `Fields (${fields.length})`), ...(scope ? [el("div", { class: "sampled", id: "fields-scope" }, `Counts and top values ${scope}.`)] : []),
    el("div", { class: "hint" }, "Click a value to add it; Alt/Ctrl-click to exclude it."));
  for (const f of fields) {
    const items = f.top.map((t) => el("li", {}, el("a", {
      href: "#", "data-field": f.name, "data-value": t.value, title: t.value,
      onclick: (e) => { e.preventDefault(); addTerm(f.name, t.value, e.altKey || e.ctrlKey || e.metaKey || e.shiftKey); },
    }, el("span", { class: "v" }, t.value), el("span", { class: "n" }, t.count.toLocaleString()))));
    const details = el("details", { class: "field", "data-field": f.name },
      el("summary", {}, f.name + " ", el("span", { class: "n" }, f.count.toLocaleString())), el("ul", {}, ...items));
    details.open = OPEN_FIELDS.has(f.name);
    box.append(details);
  }
}

function quote(value) {
  return '"' + String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
}

function addTerm(field, value, exclude) {
  const term = `${field}${exclude ? "!=" : "="}${quote(value)}`;
  const q = $("q").value.trim();
  $("q").value = q.includes("|") ? `${q} | search ${term}` : `${q} ${term}`;
  submit();
}

// --- timeline --------------------------------------------------------------------------------
const TW = 1000, TH = 70;

function drawTimeline(timeline) {
  const box = $("timeline");
  box.hidden = !timeline;
  if (!timeline) return;
  const n = timeline.counts.length;
  const top = Math.max(...timeline.counts) || 1;
  const w = TW / n;
  const svg = svgEl("svg", { viewBox: `0 0 ${TW} ${TH + 18}`, preserveAspectRatio: "none", role: "img" });
  svg.append(svgEl("title", {}, "Matching events over time; drag to zoom"));
  timeline.counts.forEach((c, i) => {
    const h = (c / top) * TH;
    const t = timeline.start + i * timeline.span;
    const bar = svgEl("rect", { class: "bar", x: i * w, y: TH - h, width: Math.max(0.5, w - 1), height: h, "data-bucket": i });
    bar.append(svgEl("title", {}, `${iso(t)}: ${c}`));
    svg.append(bar);
  });
  const end = timeline.start + n * timeline.span;
  svg.append(svgEl("text", { x: 2, y: TH + 14, class: "axis" }, iso(timeline.start)));
  svg.append(svgEl("text", { x: TW - 2, y: TH + 14, class: "axis", "text-anchor": "end" }, `${iso(end)} · ${spanText(timeline.span)} per bar`));
  const brush = svgEl("rect", { class: "brush", x: 0, y: 0, width: 0, height: TH, visibility: "hidden" });
  svg.append(brush);
  box.replaceChildren(svg);
  let from = null;
  const xOf = (e) => Math.min(TW, Math.max(0, ((e.clientX - svg.getBoundingClientRect().left) / svg.getBoundingClientRect().width) * TW));
  svg.addEventListener("mousedown", (e) => { from = xOf(e); e.preventDefault(); });
  svg.addEventListener("mousemove", (e) => {
    if (from === null) return;
    const x = xOf(e);
    brush.setAttribute("x", Math.min(from, x));
    brush.setAttribute("width", Math.abs(x - from));
    brush.setAttribute("visibility", "visible");
  });
  window.addEventListener("mouseup", (e) => {
    if (from === null) return;
    const x = xOf(e);
    const first = Math.floor(Math.min(from, x) / w);
    const last = Math.floor(Math.max(from, x) / w);
    from = null;
    zoom(timeline.start + first * timeline.span, timeline.start + (last + 1) * timeline.span);
  });
}

function zoom(earliest, latest) {
  $("range").value = "custom";
  $("custom-range").hidden = false;
  $("earliest").value = String(earliest);
  $("latest").value = String(latest);
  submit();
}

function iso(epoch) {
  return new Date(epoch * 1000).toISOString().replace(".000Z", "Z");
}

function spanText(seconds) {
  const units = [[86400, "d"], [3600, "h"], [60, "m"], [1, "s"]];
  const [size, unit] = units.find(([s]) => seconds % s === 0);
  return `${seconds / size}${unit}`;
}

// --- wiring ----------------------------------------------------------------------------------
function init() {
  $("search-form").addEventListener("submit", submit);
  $("q").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) submit(e); });
  $("q").addEventListener("focus", showHistory);
  $("q").addEventListener("blur", () => { $("history").hidden = true; });
  $("range").addEventListener("change", () => { $("custom-range").hidden = $("range").value !== "custom"; });
  $("cancel").addEventListener("click", async () => { await cancelRunning(); finish("Cancelled."); });
  $("prev").addEventListener("click", () => start(Math.max(0, offset - PAGE), false));
  $("next").addEventListener("click", () => { if (offset + PAGE < lastTotal) start(offset + PAGE, false); });
  window.addEventListener("popstate", () => { readUrl(); if (current.q) start(0, true); });
  window.addEventListener("pagehide", () => {  // leaving: the server stops what this page asked
    for (const r of [running, summarizing]) {
      if (r) navigator.sendBeacon("/api/cancel?sid=" + encodeURIComponent(r.sid));
    }
  });
  readUrl();
  if (current.q) start(0, true);
  else $("q").focus();
}

init();
