// The detections page: the Sigma rules of `huntbook serve --rules DIR` run on the store; every
// rule with its status (ran, skipped, failed and why) and every hit, linked to its event's search.
"use strict";


function eventLink(cd) {
  if (!Number.isInteger(cd)) return "no store id (_cd)";
  return el("a", { class: "hit-event", href: "/search?" + new URLSearchParams({ q: `index=* _cd=${cd}` }) }, "search event");
}

function fill(section, rows) {
  $(section).querySelector("tbody").replaceChildren(...rows);
  $(section).hidden = false;
}

function show(body) {
  if (body.help) {
    $("detect-status").textContent = "";
    $("detect-help").textContent = body.help;
    $("detect-help").hidden = false;
    return;
  }
  const c = body.counts;
  const again = el("a", { href: "#", id: "rerun" }, "run again");
  again.addEventListener("click", (e) => { e.preventDefault(); load(true); });
  $("detect-status").replaceChildren(
    `${body.rules.length} rules from ${body.folders.join(", ")}: ${c.ran} ran, ${c.skipped} skipped, ${c.failed} failed; ${body.hits.length} hits in ${body.seconds} s (`, again, ").");
  fill("detect-hits", body.hits.map((h) => el("tr", { class: "hit" }, el("td", {}, h.rule), el("td", {}, h.level || ""),
    el("td", { class: "time" }, String(h.time ?? "")), el("td", {}, String(h.host ?? "")), el("td", {}, eventLink(h._cd)))));
  fill("detect-rules", body.rules.map((r) => el("tr", { class: `rule ${r.status}` }, el("td", {}, r.title), el("td", {}, r.level || ""),
    el("td", {}, r.status), el("td", {}, String(r.hits)), el("td", {}, r.reason || ""), el("td", {}, r.path))));
}

async function load(rerun) {
  $("detect-error").hidden = true;
  $("detect-status").textContent = "Running the Sigma rules on the store…";
  const response = await fetch("/api/detections" + (rerun ? "?rerun=1" : ""));
  const body = await response.json();
  if (!response.ok) {
    $("detect-status").textContent = "";
    $("detect-error").textContent = body.error.message;
    $("detect-error").hidden = false;
    return;
  }
  show(body);
}

load(false);
