// The hunts page: the playbooks, a run's report (in a shadow root, its CSS kept apart) with the
// lateral-movement graph made clickable: a host searches its events, an edge shows its evidence.
"use strict";

const CLIP = 200;  // characters of an evidence value shown (the search shows them whole)

function quote(value) {
  return '"' + String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
}

function searchUrl(q, earliest = "", latest = "") {
  const p = new URLSearchParams({ q });
  if (earliest) p.set("earliest", earliest);
  if (latest) p.set("latest", latest);
  return "/search?" + p.toString();
}

async function loadPlaybooks() {
  const response = await fetch("/api/hunts");
  const body = await response.json();
  if (!response.ok) return showError(body.error.message);
  $("playbooks").replaceChildren(...body.map((p) => el("li", {},
    p.error ? el("span", { class: "broken", "data-name": p.name }, p.title)
      : el("a", { href: "/hunts?run=" + encodeURIComponent(p.name), "data-name": p.name }, p.title),
    el("small", {}, `${p.name} · ${p.source}${p.attack_ids.length ? " · " + p.attack_ids.join(", ") : ""}`),
    ...(p.error ? [el("small", { class: "reason" }, `cannot run: ${p.error}`)] : []))));
}

function showError(message) {
  $("hunt-error").textContent = message;
  $("hunt-error").hidden = false;
}

async function run(name, rerun) {
  $("hunt-status").textContent = `Running ${name}…`;
  $("hunt-error").hidden = true;
  $("evidence").hidden = true;
  const response = await fetch(`/api/hunts/${encodeURIComponent(name)}/report${rerun ? "?rerun=1" : ""}`);
  const body = await response.json();
  if (!response.ok) {
    $("hunt-status").textContent = "";
    return showError(body.error.message);
  }
  const again = el("a", { href: "#", id: "rerun" }, "run again");
  again.addEventListener("click", (e) => { e.preventDefault(); run(name, true); });
  $("hunt-status").replaceChildren(`${body.title}: run ${body.run_time} (`, again, "). Click a host to search its events, an edge to see its evidence.");
  const host = $("report");
  const root = host.shadowRoot || host.attachShadow({ mode: "open" });
  root.innerHTML = body.html;
  wireGraph(root, body.edges);
}

// The graph's nodes come in the order of the edges' first mention of a host (source, then
// destination), its edge groups in the order of the edges: the same order render/svg.py draws.
function wireGraph(root, edges) {
  const hosts = [...new Set(edges.flatMap((e) => [String(e.source), String(e.destination)]))];
  root.querySelectorAll("svg.host-graph g.node").forEach((node, i) => {
    node.style.cursor = "pointer";
    node.setAttribute("data-host", hosts[i]);
    node.addEventListener("click", () => { location.href = searchUrl(`host=${quote(hosts[i])}`); });
  });
  root.querySelectorAll("svg.host-graph g.edge").forEach((group, i) => {
    group.style.cursor = "pointer";
    const path = group.querySelector("path");
    if (path) {  // a wide invisible stroke, so the thin arrow is easy to hit
      const hit = path.cloneNode();
      hit.setAttribute("stroke", "transparent");
      hit.setAttribute("stroke-width", "16");
      hit.removeAttribute("marker-end");
      group.prepend(hit);
    }
    group.setAttribute("data-edge", String(i));
    group.addEventListener("click", () => showEvidence(edges[i]));
  });
}

function clip(value) {
  return value.length > CLIP ? value.slice(0, CLIP) + "…" : value;
}

function showEvidence(edge) {
  const items = (edge.evidence || []).map((e) => (typeof e === "object" && e !== null ? e : { event: e }));
  const ids = items.map((e) => e._cd).filter((cd) => Number.isInteger(cd));
  const rows = items.map((e) => el("tr", {}, el("td", { class: "time" }, String(e._time || "")),
    el("td", {}, Object.entries(e).filter(([k, v]) => !["_time", "_raw", "_cd"].includes(k) && v !== null && v !== "")
      .map(([k, v]) => `${k}=${clip(Array.isArray(v) ? v.join(",") : String(v))}`).join("  "))));
  const box = $("evidence");
  const title = `${edge.source} → ${edge.destination}: ${edge.method || "?"} as ${edge.account || "?"}`;
  box.replaceChildren(el("h3", {}, title), el("table", { class: "evidence-events" }, el("tbody", {}, ...rows)));
  if (ids.length) {
    box.append(el("p", {}, el("a", { id: "search-evidence", href: searchUrl(`index=* _cd IN (${ids.join(", ")})`) }, `Search these ${ids.length} events`)));
  } else {
    box.append(el("p", {}, "These evidence events carry no store id (_cd), so they cannot be searched by id."));
  }
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

loadPlaybooks();
const wanted = new URLSearchParams(location.search).get("run");
if (wanted) run(wanted, false);
