// The findings page: what every analytic finds on the whole store (`huntbook findings`): the
// lateral-movement edges (click one for its evidence, each event linked to its search by its
// store id), the decoded PowerShell payloads, visibility, the conclusion.
"use strict";

const EDGE_KEYS = ["first_seen", "source", "destination", "account", "method", "attack", "confidence"];
const HIDDEN_KEYS = ["_time", "_raw", "_cd", "host", "EventCode", "file", "record"];
const CLIP = 200;  // characters of an evidence value shown (the event's search shows it whole)

function text(value) {
  if (value === null || value === undefined) return "";
  return Array.isArray(value) ? value.map(text).join(", ") : String(value);
}

function clip(value) {
  return value.length > CLIP ? value.slice(0, CLIP) + "…" : value;
}

function searchUrl(q) {
  return "/search?" + new URLSearchParams({ q }).toString();
}

function hostText(edge, end) {
  const address = edge[`${end}_ip`];
  return address && address !== edge[end] ? `${edge[end]} (${address})` : text(edge[end]);
}

// Where an evidence event came from, and the link to its search (by its store id).
function eventCells(e) {
  const where = [e.file, e.record ? `record ${e.record}` : ""].filter(Boolean).join(" · ");
  const link = Number.isInteger(e._cd)
    ? el("a", { class: "event-search", href: searchUrl(`index=* _cd=${e._cd}`) }, `search event ${e._cd}`)
    : "no store id (_cd): its file and record, where known, name it";
  return [el("td", { class: "prov" }, where || "file not recorded"), el("td", {}, link)];
}

function evidenceTable(events) {
  const rows = events.map((e) => el("tr", { class: "evidence-event" },
    el("td", { class: "time" }, text(e._time)), el("td", {}, text(e.host)), el("td", {}, text(e.EventCode)),
    el("td", {}, Object.entries(e).filter(([k, v]) => !HIDDEN_KEYS.includes(k) && v !== null && v !== "")
      .map(([k, v]) => `${k}=${clip(text(v))}`).join("  ")),
    ...eventCells(e)));
  const head = el("tr", {}, ...["Time", "Host", "EventCode", "Fields", "From", "Event"].map((h) => el("th", {}, h)));
  return el("table", { class: "evidence-events" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

function showEdge(edge, i) {
  document.querySelectorAll("tr.edge").forEach((row) => row.classList.toggle("picked", row.dataset.edge === String(i)));
  const events = (edge.evidence || []).map((e) => (typeof e === "object" && e !== null ? e : { event: e }));
  const ids = events.map((e) => e._cd).filter((cd) => Number.isInteger(cd));
  const box = $("edge-evidence");
  box.replaceChildren(
    el("h3", {}, `${edge.source} → ${edge.destination}: ${edge.method || "?"} (${edge.attack || "no ATT&CK id"}) as ${edge.account || "?"}, confidence ${edge.confidence || "?"}`),
    evidenceTable(events));
  if (ids.length) {
    box.append(el("p", {}, el("a", { id: "search-evidence", href: searchUrl(`index=* _cd IN (${ids.join(", ")})`) }, `Search these ${ids.length} events`)));
  }
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

function showEdges(edges) {
  const rows = edges.map((edge, i) => {
    const row = el("tr", { class: "edge", "data-edge": String(i) },
      ...EDGE_KEYS.map((k) => el("td", { class: k === "first_seen" ? "time" : k },
        k === "source" || k === "destination" ? hostText(edge, k) : text(edge[k]))),
      el("td", {}, `${(edge.evidence || []).length} events`));
    row.addEventListener("click", () => showEdge(edge, i));
    return row;
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "8" }, "No lateral movement found.")));
  $("edges").querySelector("tbody").replaceChildren(...rows);
  $("edges").hidden = false;
}

function definitionList(pairs) {
  return el("dl", {}, ...pairs.filter(([, v]) => text(v) !== "").flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, text(v))]));
}

function showPowerShell(payloads) {
  const blocks = payloads.map((p) => el("div", { class: "payload" },
    el("h3", {}, `${p.family || "unrecognised payload"} (${p.count} launches)`),
    definitionList([["Hosts", p.hosts], ["Accounts", p.accounts], ["First seen", p.first_seen], ["Last seen", p.last_seen],
      ["Traits", p.traits], ["Launchers", p.launchers],
      ...Object.entries(p.iocs || {}).map(([k, v]) => [`IOC ${k}`, v])]),
    el("details", { class: "script" }, el("summary", {}, `Decoded script (${text(p.script).length} characters)`), el("pre", {}, text(p.script))),
    el("details", {}, el("summary", {}, `Evidence (${(p.evidence || []).length} events)`), evidenceTable(p.evidence || []))));
  $("powershell").querySelector(".payloads").replaceChildren(...(blocks.length ? blocks : [el("p", {}, "No encoded PowerShell found.")]));
  $("powershell").hidden = false;
}

function showVisibility(vis) {
  const needs = (vis.needs || []).map((n) => el("tr", {}, el("td", {}, text(n.need)), el("td", {}, text(n.status)),
    el("td", {}, Object.entries(n.hosts || {}).map(([h, v]) => `${h}: ${v}`).join(", "))));
  const parts = [el("p", {}, `Hosts seen: ${text(vis.hosts) || "none"}.`)];
  parts.push(needs.length
    ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Data need"), el("th", {}, "Status"), el("th", {}, "Per host"))), el("tbody", {}, ...needs))
    : el("p", {}, "No data needs were checked: a playbook names them (run one on the Hunts page)."));
  if ((vis.gaps || []).length) parts.push(el("ul", {}, ...vis.gaps.map((g) => el("li", {}, g))));
  $("visibility").querySelector(".needs").replaceChildren(...parts);
  $("visibility").hidden = false;
}

function show(body) {
  const again = el("a", { href: "#", id: "rerun" }, "run again");
  again.addEventListener("click", (e) => { e.preventDefault(); load(body.index || "", true); });
  const edges = body.lateral_movement || [];
  $("findings-status").replaceChildren(
    `${body.index ? "Index " + body.index : "Every index"}: ${edges.length} lateral-movement edges, ${(body.powershell || []).length} PowerShell payloads, in ${body.seconds} s (`, again, ").");
  $("conclusion").querySelector(".conclusion").textContent = body.conclusion || "";
  $("conclusion").hidden = false;
  $("findings-errors").hidden = !(body.errors || []).length;
  $("findings-errors").textContent = (body.errors || []).map((e) => `Not computed: ${e}`).join("\n");
  showEdges(edges);
  showPowerShell(body.powershell || []);
  showVisibility(body.visibility || {});
}

async function load(index, rerun) {
  $("findings-error").hidden = true;
  $("findings-status").textContent = "Running every analytic on the store…";
  const params = new URLSearchParams();
  if (index) params.set("index", index);
  if (rerun) params.set("rerun", "1");
  const response = await fetch("/api/findings?" + params.toString());
  const body = await response.json();
  if (!response.ok) {
    $("findings-status").textContent = "";
    $("findings-error").textContent = body.error.message;
    $("findings-error").hidden = false;
    return;
  }
  show(body);
}

$("scope").addEventListener("submit", (e) => {
  e.preventDefault();
  const index = $("index").value.trim();
  history.pushState(null, "", "/findings" + (index ? "?" + new URLSearchParams({ index }) : ""));
  load(index, false);
});
const wanted = new URLSearchParams(location.search).get("index") || "";
$("index").value = wanted;
load(wanted, false);
