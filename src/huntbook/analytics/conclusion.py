"""The hunt's conclusion, written from its findings in the seed report's register.

API (stable): ``conclude(edges, powershell=None, visibility=None) -> str``; ``glance(findings,
techniques) -> str``, the same findings told as the answer to one hunt's hypothesis (its ATT&CK
techniques): its own technique's movement first, the rest as one "also found" line.

``edges`` is the output of ``find_lateral_movement``; ``powershell`` of ``powershell_findings``;
``visibility`` of ``visibility``. Each may be the objects or their ``to_dict()`` forms, and the
first argument may also be one mapping holding all three (``{"lateral_movement": ...,
"powershell": ..., "visibility": ...}``, the shape of report.json's ``findings``).

Why generated: a typed-in conclusion drifts from the data; this one names only hosts, accounts,
methods, payloads and gaps that the findings contain, e.g. "The hunt found lateral movement
involving 3 hosts. venus and wrk-klagerf were reached from wrk-btun via WMI as frothly\\service. The
processes on venus and wrk-klagerf ran encoded PowerShell (PowerShell Empire stager, C2
http://...). wrk-btun also ran the same payload under a different launcher, most likely the
initial foothold. Visibility gap: no Sysmon Event ID 3 logs."
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from huntbook.analytics.methods import load_methods

MAX_NAMED = 4
MAX_C2 = 2
FOOTHOLD = "most likely the initial foothold"
OBSERVED = ("powershell host >", "script block >")


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def join_names(names: Iterable[str]) -> str:
    """``a``; ``a and b``; ``a, b and c``; long lists end with ``and N more``."""
    items = list(dict.fromkeys(n for n in names if n))
    if len(items) > MAX_NAMED:
        items = [*items[: MAX_NAMED - 1], f"{len(items) - MAX_NAMED + 1} more"]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _unresolved(edge: Mapping[str, Any]) -> bool:
    return edge.get("source_kind") == "unresolved"


def _routes(edges: list[Mapping[str, Any]]) -> list[str]:
    """ "B and C were reached from A via WMI as svc." per source and method ("from an unresolved
    source" when no event names it)."""
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for e in edges:
        grouped[(e["source"], e["method"])].append(e)
    sentences = []
    for (source, method), group in grouped.items():
        destinations = [e["destination"] for e in group]
        verb = "was" if len(set(destinations)) == 1 else "were"
        accounts = join_names(e.get("account") or "" for e in group)
        tail = f" as {accounts}" if accounts else ""
        origin = f"an {source}" if _unresolved(group[0]) else source
        sentences.append(
            f"{join_names(destinations)} {verb} reached from {origin} via {method}{tail}."
        )
    return sentences


def split_edges(
    edges: list[Mapping[str, Any]], findings: list[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Edges touching a host where encoded PowerShell ran (the intrusion) and the rest (other
    remote access, e.g. an administrator's RDP). Without PowerShell findings every edge counts."""
    tainted = {h for f in findings for h in f.get("hosts") or []}
    if not tainted:
        return edges, []
    hit = [e for e in edges if e["source"] in tainted or e["destination"] in tainted]
    if not hit:
        return edges, []
    return hit, [e for e in edges if e not in hit]


def _movement(
    edges: list[Mapping[str, Any]], findings: list[Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    """Sentences on the intrusion's movement, and on other remote access (told later)."""
    if not edges:
        return ["The hunt found no lateral movement."], []
    main, other = split_edges(edges, findings)
    # an unresolved source is no host: it is not counted
    hosts = {e["source"] for e in main if not _unresolved(e)} | {e["destination"] for e in main}
    noun = "host" if len(hosts) == 1 else "hosts"
    sentences = [f"The hunt found lateral movement involving {len(hosts)} {noun}.", *_routes(main)]
    others = (
        ["Other remote access, with no encoded PowerShell seen:", *_routes(other)] if other else []
    )
    return sentences, others


def _payload_name(finding: Mapping[str, Any]) -> str:
    iocs = finding.get("iocs") or {}
    c2 = list(iocs.get("c2") or iocs.get("server") or iocs.get("url") or [])
    parts = [finding.get("family") or "unrecognised payload"]
    if c2:
        shown = c2 if len(c2) <= MAX_C2 else [*c2[:MAX_C2], "..."]
        parts.append("C2 " + ", ".join(shown))
    return ", ".join(parts)


def _launchers(by_host: Mapping[str, Any], hosts: Iterable[str]) -> set[str]:
    """Launchers that name a parent process (engine events and script blocks only observe)."""
    found = {launcher for h in hosts for launcher in by_host.get(h, ())}
    return {launcher for launcher in found if not launcher.startswith(OBSERVED)}


def _first_run(finding: Mapping[str, Any], host: str) -> str | None:
    times = [e["_time"] for e in finding.get("evidence") or [] if e.get("host") == host]
    return min(times, default=None)


def _foothold(finding: Mapping[str, Any], edges: list[Mapping[str, Any]]) -> str | None:
    """A source host that ran the payload before moving on: the likely foothold, said with the
    launcher difference when both sides show the process that launched it."""
    destinations = {e["destination"] for e in edges}
    by_host: Mapping[str, list[str]] = finding.get("launchers_by_host") or {}
    for host in by_host:
        moves = [e["first_seen"] for e in edges if e["source"] == host and e.get("first_seen")]
        if not moves or host in destinations:
            continue
        first = _first_run(finding, host)
        earlier = first is not None and first <= min(moves)
        different = bool(_launchers(by_host, [host]) - _launchers(by_host, destinations))
        launcher = " under a different launcher" if different else ""
        tail = f", {FOOTHOLD}" if earlier or different else ""
        return f"{host} also ran the same payload{launcher}{tail}."
    return None


def _powershell(findings: list[Mapping[str, Any]], edges: list[Mapping[str, Any]]) -> list[str]:
    destinations = {e["destination"] for e in edges}
    sentences = []
    for f in findings:
        hosts = list(f.get("hosts") or [])
        reached = [h for h in hosts if h in destinations]
        if reached:
            on = join_names(reached)
            sentences.append(f"The processes on {on} ran encoded PowerShell ({_payload_name(f)}).")
            foothold = _foothold(f, edges)
            if foothold:
                sentences.append(foothold)
        elif hosts:
            also = " also" if edges else ""
            on = join_names(hosts)
            sentences.append(f"Encoded PowerShell{also} ran on {on} ({_payload_name(f)}).")
    return sentences


def _need_gaps(need: Mapping[str, Any]) -> list[str]:
    """``no Sysmon Event ID 3 logs`` when a source is missing everywhere, else the hosts lacking
    the need."""
    missing = [g[0].lower() + g[1:] for g in need.get("gaps") or [] if g.startswith("No ")]
    if missing:
        return missing
    absent = [h for h, v in (need.get("hosts") or {}).items() if v == "absent"]
    return [f"no {str(need.get('need', '')).lower()} on {join_names(absent)}"] if absent else []


def _gaps(visibility: Any) -> list[str]:
    """One sentence naming what is missing (thin data is left to the report's visibility table)."""
    needs = visibility.get("needs") if isinstance(visibility, Mapping) else None
    gaps = list(
        dict.fromkeys(g for n in needs or [] if n.get("known", True) for g in _need_gaps(n))
    )
    if not gaps:
        return []
    label = "Visibility gap" if len(gaps) == 1 else "Visibility gaps"
    return [f"{label}: {'; '.join(gaps)}."]


def conclude(edges: Any, powershell: Any = None, visibility: Any = None) -> str:
    """A few sentences stating what the findings show: hosts, accounts, methods, payloads, gaps."""
    if isinstance(edges, Mapping):
        bundle = edges
        edges = bundle.get("lateral_movement") or []
        powershell = bundle.get("powershell") if powershell is None else powershell
        visibility = bundle.get("visibility") if visibility is None else visibility
    edge_list = _plain(list(edges or []))
    ps_list = _plain(list(powershell or []))
    vis = _plain(visibility)
    movement, others = _movement(edge_list, ps_list)
    sentences = movement + _powershell(ps_list, edge_list) + others + _gaps(vis)
    return " ".join(sentences)


#: the ATT&CK ids the PowerShell analytic answers (a hunt naming one asks about encoded PowerShell)
POWERSHELL_TECHNIQUES = ("T1059.001", "T1027", "T1132")
Techniques = Iterable[tuple[str, Iterable[str]]]


def _covers(asked: str, attack: str) -> bool:
    """A hunt's technique id answers for ``attack``: the same id, or ``attack`` a sub-technique."""
    return bool(asked) and (attack == asked or attack.startswith(asked + "."))


def _movement_attacks() -> set[str]:
    table = load_methods()
    return {m.attack for m in (*table.methods, table.explicit) if m.attack}


def _asked(techniques: list[tuple[str, list[str]]], answered: Iterable[str]) -> list[str]:
    """``name (ids)`` of each technique whose ids answer for one of ``answered``."""
    known = list(answered)
    return [
        f"{name} ({', '.join(ids)})"
        for name, ids in techniques
        if any(_covers(i, a) for i in ids for a in known)
    ]


def _also(edges: list[Mapping[str, Any]]) -> list[str]:
    """One sentence on the edges outside the hunt's techniques, counted by method."""
    if not edges:
        return []
    counts: dict[str, int] = defaultdict(int)
    for e in edges:
        counts[f"{e.get('method') or '?'} ({e.get('attack') or 'no ATT&CK id'})"] += 1
    listed = join_names(f"{n} {kind} edge{'s' if n > 1 else ''}" for kind, n in counts.items())
    return [f"Also found, outside this hunt's techniques: {listed} (see Lateral Movement)."]


def _hunt_movement(
    mine: list[Mapping[str, Any]], named: list[str], payloads: list[Mapping[str, Any]]
) -> list[str]:
    """The movement by the hunt's own techniques and the payloads it delivered, or its absence."""
    if not mine:
        return [f"No lateral movement by {join_names(named)} was found in the data searched."]
    hosts = {e["source"] for e in mine if not _unresolved(e)} | {e["destination"] for e in mine}
    noun = "host" if len(hosts) == 1 else "hosts"
    reached = {e["destination"] for e in mine}
    delivered = [f for f in payloads if reached & set(f.get("hosts") or [])]
    return [
        f"Lateral movement by {join_names(named)}: found, involving {len(hosts)} {noun}.",
        *_routes(mine),
        *_powershell(delivered, mine),
    ]


def _hunt_powershell(
    payloads: list[Mapping[str, Any]], edges: list[Mapping[str, Any]], named: list[str]
) -> list[str]:
    """The encoded PowerShell found (payloads, hosts, where it arrived), or its absence."""
    if not payloads:
        return [f"No encoded PowerShell ({join_names(named)}) was found in the data searched."]
    hosts = {h for f in payloads for h in f.get("hosts") or []}
    kinds = f"{len(payloads)} payload{'s' if len(payloads) > 1 else ''}"
    noun = "host" if len(hosts) == 1 else "hosts"
    lead = f"Encoded PowerShell ({join_names(named)}): found, {kinds} on {len(hosts)} {noun}."
    return [lead, *_powershell(payloads, edges)]


def answers(edges: Iterable[Mapping[str, Any]], techniques: Techniques) -> list[bool]:
    """Per edge: whether it is movement by one of the hunt's ``techniques`` (every edge counts
    when the hunt asks about no lateral-movement technique: then none is singled out)."""
    rows = [(str(name), [str(i) for i in ids]) for name, ids in techniques]
    plain = [dict(_plain(e)) for e in edges]
    if not _asked(rows, _movement_attacks()):
        return [True] * len(plain)
    asked = [i for _, ids in rows for i in ids]
    return [any(_covers(i, str(e.get("attack"))) for i in asked) for e in plain]


def glance(findings: Mapping[str, Any], techniques: Techniques) -> str:
    """The findings as the answer to a hunt whose playbook names ``techniques`` (``(name, ids)``
    rows of its ATT&CK table): movement by those techniques (edges whose ``attack`` they cover),
    encoded PowerShell when the hunt asks about it, the edges of other techniques in one line,
    and the visibility gaps of the hunt's data needs. A hunt naming no technique the analytics
    answer gets the whole conclusion, said to be that."""
    rows = [(str(name), [str(i) for i in ids]) for name, ids in techniques]
    edges = _plain(list(findings.get("lateral_movement") or []))
    payloads = _plain(list(findings.get("powershell") or []))
    moves = _asked(rows, _movement_attacks())
    scripts = _asked(rows, POWERSHELL_TECHNIQUES)
    if not moves and not scripts:
        ids = ", ".join(i for _, ids in rows for i in ids) or "none"
        return (
            f"The analytics answer none of this hunt's techniques ({ids}); "
            f"what they found in the data searched: {conclude(findings)}"
        )
    mine = [e for e, hit in zip(edges, answers(edges, rows), strict=True) if hit and moves]
    sentences = _hunt_movement(mine, moves, payloads) if moves else []
    if scripts and not mine:
        sentences += _hunt_powershell(payloads, edges, scripts)
    others = [e for e in edges if e not in mine]
    return " ".join(sentences + _also(others) + _gaps(_plain(findings.get("visibility"))))
