"""Every encoded PowerShell in a store, decoded and grouped by payload.

API (stable): ``powershell_findings(store) -> list[PowerShellFinding]``, most widespread first
(hosts, then occurrences), each with ``to_dict()``.

Where command lines are read from (EVTX/JSON names and classic names, whichever the store has):
Sysmon 1 ``CommandLine``; 4688 ``CommandLine`` / ``Process_Command_Line``; 4104
``ScriptBlockText``; 400/403/600/800 ``HostApplication`` (parsed from ``Message`` when the export
kept only the rendered text); 7045 ``ImagePath`` and 4697 ``ServiceFileName`` (PsExec-style
services carry the launcher in the service's command). A PowerShell host repeats its
``HostApplication`` in every engine event: those count in ``events`` (``count`` in ``to_dict()``)
but only the first per host, event id and command line is kept as evidence. Each is decoded with
:func:`huntbook.analytics.powershell.decode_powershell`; occurrences with the same ``payload_id``
form one finding, whatever launched them, so "the same payload under a different launcher" shows
as one finding with several ``launchers`` (``launchers_by_host`` says which host used which).

A launcher here is the parent process's name, ``>``, and the normalised command line
(``wmiprvse > powershell -nop -sta -w 1 -enc <payload>``); script blocks and services name their
source instead of a parent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import (
    Candidate,
    Columns,
    StoreLike,
    code_in,
    is_sysmon,
    not_sysmon,
    rows,
    text,
)
from huntbook.analytics.aliases import aliases
from huntbook.analytics.evidence import Evidence, iso, unique_sorted
from huntbook.analytics.powershell import Decoded, Layer, decode_powershell

SOURCE_FIELDS: dict[str, list[Candidate]] = aliases(
    "CommandLine", "ScriptBlockText", "HostApplication", "ServiceFileName", "ParentImage", "User"
)
TEXT_FIELDS = ("CommandLine", "ScriptBlockText", "HostApplication", "ServiceFileName")
ENGINE_CODES = ("400", "403", "600", "800")
HOST_APPLICATION_RE = r"HostApplication=([^\r\n]*)"
SOURCE_NAME = {
    "4104": "script block",
    **dict.fromkeys(ENGINE_CODES, "powershell host"),
    "7045": "service",
    "4697": "service",
}
FLAG_HINTS = ("-e", "/e", "\u2013e", "\u2014e", "\u2015e")
STAGE_HINT = "frombase64string"
HINTS = (*FLAG_HINTS, STAGE_HINT)
# powershell.HOST_RE as RE2 reads it: Python's IGNORECASE also matches "ſ" for "s"
HOST_PATTERN = "[pP][oO][wW][eE][rR][sS\u017f][hH][eE][lL][lL]|[pP][wW][sS\u017f][hH]"
SNIPPET = 160


@dataclass(frozen=True)
class PowerShellFinding:
    """One payload, every place it ran, and every launcher it ran under."""

    payload_id: str
    family: str | None
    script: str
    layers: tuple[Layer, ...]
    traits: tuple[str, ...]
    iocs: Mapping[str, tuple[str, ...]]
    launchers: tuple[str, ...]
    launchers_by_host: Mapping[str, tuple[str, ...]]
    hosts: tuple[str, ...]
    accounts: tuple[str, ...]
    first_seen: float
    last_seen: float
    events: int = 0
    evidence: tuple[Evidence, ...] = field(default=())

    @property
    def c2(self) -> tuple[str, ...]:
        return self.iocs.get("c2") or self.iocs.get("url", ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "payload_id": self.payload_id,
            "family": self.family,
            "script": self.script,
            "layers": [layer.to_dict() for layer in self.layers],
            "traits": list(self.traits),
            "iocs": {k: list(v) for k, v in self.iocs.items()},
            "launchers": list(self.launchers),
            "launchers_by_host": {h: list(v) for h, v in self.launchers_by_host.items()},
            "hosts": list(self.hosts),
            "accounts": list(self.accounts),
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "count": self.events,
            "evidence": [e.to_dict() for e in self.evidence],
        }


def _field(columns: Columns, name: str) -> exp.Expr:
    """A source field; ``HostApplication`` falls back to the rendered ``Message`` of 400/600/800
    (JSON exports such as Security-Datasets keep only the message text for classic PowerShell)."""
    value = columns.get(*SOURCE_FIELDS[name])
    if name != "HostApplication" or not columns.has("Message"):
        return value
    pattern = text(HOST_APPLICATION_RE)
    extracted = exp.RegexpExtract(
        this=exp.column("Message", quoted=True), expression=pattern, group=exp.Literal.number(1)
    )
    fallback = exp.Case().when(
        code_in(columns, ENGINE_CODES), exp.Nullif(this=extracted, expression=text(""))
    )
    return (
        fallback
        if isinstance(value, exp.Null)
        else exp.Coalesce(this=value, expressions=[fallback])
    )


def _codes(columns: Columns) -> exp.Expr:
    return exp.or_(
        exp.and_(code_in(columns, ["1"]), is_sysmon(columns)),
        exp.and_(
            code_in(columns, ["4688", "4104", "7045", "4697", *ENGINE_CODES]), not_sysmon(columns)
        ),
    )


def _hinted(texts: list[exp.Expr]) -> exp.Expr:
    lowered = [exp.Lower(this=t) for t in texts]
    return exp.or_(*[exp.Like(this=t, expression=text(f"%{h}%")) for t in lowered for h in HINTS])


def _where(columns: Columns) -> exp.Expr:
    return exp.and_(_codes(columns), _hinted([_field(columns, name) for name in TEXT_FIELDS]))


def _may_decode(value: exp.Expr) -> exp.Expr:
    """Never false for a text ``_where`` lets through that ``decode_powershell`` decodes: its
    first layer is a compressed stage (``FromBase64String``) or an encoded argument, whose flag
    a hint finds and which needs ``powershell`` or ``pwsh`` before it (``HOST_RE``)."""
    lowered = exp.Lower(this=value)
    stage = exp.Like(this=lowered, expression=text(f"%{STAGE_HINT}%"))
    flags = [exp.Like(this=lowered, expression=text(f"%{h}%")) for h in FLAG_HINTS]
    host = exp.RegexpLike(this=value, expression=text(HOST_PATTERN))
    return exp.or_(stage, exp.and_(exp.or_(*flags), host))


def scan_filters(columns: Columns) -> list[exp.Expr]:
    """The events ``_rows`` may use, for :mod:`huntbook.analytics.scan`: those ``_where`` lets
    through with a text that may decode (the others give no finding), without reading
    ``Message`` (its rendered text differs in every event, and the scan tests filters once per
    distinct value): every engine event is kept, as its ``HostApplication`` may come from it."""
    texts = [columns.get(*SOURCE_FIELDS[name]) for name in TEXT_FIELDS]
    engine = exp.and_(code_in(columns, ENGINE_CODES), not_sysmon(columns))
    return [exp.and_(_codes(columns), exp.or_(*[_may_decode(t) for t in texts])), engine]


def scan_columns(columns: Columns, codes: Collection[str]) -> dict[str, exp.Expr]:
    """Columns read beyond the source fields, for events of ``codes``: ``Message``, read of
    engine events only (read of every event it costs the scan most of its time)."""
    if not columns.has("Message"):
        return {}
    if not set(ENGINE_CODES) & set(codes):
        return {"Message": exp.cast(exp.null(), exp.DataType.Type.VARCHAR)}
    message = exp.column("Message", quoted=True)
    return {"Message": exp.Case().when(code_in(columns, ENGINE_CODES), message)}


def _rows(store: StoreLike) -> list[dict[str, Any]]:
    """The events carrying a command line or script that decodes, in time order.

    Two passes in the engine, so Python sees the distinct texts and then only the events behind
    the ones that decode (a store repeats a few launchers' command lines many times): the
    distinct texts of the candidate events, decoded once each; then the events holding one."""
    columns, con = Columns.of(store), store.connect()
    texts = {name: _field(columns, name) for name in TEXT_FIELDS}
    where = _where(columns)
    distinct = exp.select(*[v.as_(n) for n, v in texts.items()]).distinct().from_(columns.table)
    seen = rows(con, distinct.where(where))
    encoded = sorted({row[n] for row in seen for n in TEXT_FIELDS if _decode(row[n])})
    if not encoded:
        return []
    carries = exp.or_(*[v.isin(*[text(t) for t in encoded]) for v in texts.values()])
    fields = [_field(columns, alias).as_(alias) for alias in SOURCE_FIELDS]
    core = [exp.column(n, quoted=True).as_(n) for n in ("_time", "_cd", "host", "EventCode")]
    query = exp.select(*core, *fields).from_(columns.table).where(exp.and_(where, carries))
    return rows(con, query.order_by("_time", "_cd"))


def _file_name(path: str | None) -> str:
    name = (path or "").replace("/", "\\").rsplit("\\", 1)[-1].lower()
    return name.removesuffix(".exe")


def account_name(user: str | None) -> str | None:
    """``THESHIRE\\pgustavo`` -> ``pgustavo``; None for empty values."""
    if not user:
        return None
    return user.rsplit("\\", 1)[-1]


def _launcher(row: Mapping[str, Any], decoded: Decoded) -> str:
    origin = (
        SOURCE_NAME.get(str(row["EventCode"]))
        or _file_name(row.get("ParentImage"))
        or "unknown parent"
    )
    return f"{origin} > {decoded.launcher}"


@lru_cache(maxsize=4096)
def _decode(text: str | None) -> Decoded | None:
    """Decoding is pure: a PowerShell host logs the same HostApplication in every engine event."""
    return decode_powershell(text)


def _occurrence(row: Mapping[str, Any]) -> tuple[Decoded, Evidence] | None:
    for name in TEXT_FIELDS:
        decoded = _decode(row.get(name))
        if decoded is None:
            continue
        source = row[name]
        snippet = source if len(source) <= SNIPPET else source[:SNIPPET] + "..."
        fields = {"launcher": _launcher(row, decoded), name: snippet}
        for extra in ("ParentImage", "User"):
            if row.get(extra):
                fields[extra] = str(row[extra])
        evidence = Evidence(
            float(row["_time"]), str(row["host"]), str(row["EventCode"]), row.get("_cd"), fields
        )
        return decoded, evidence
    return None


def _merged_iocs(decoded: list[Decoded]) -> dict[str, tuple[str, ...]]:
    """Indicators of every occurrence (Empire writes a new URI per launcher for one listener)."""
    merged: dict[str, dict[str, None]] = defaultdict(dict)
    for d in decoded:
        for kind, values in d.iocs.items():
            merged[kind].update(dict.fromkeys(values))
    return {k: tuple(v) for k, v in merged.items()}


def _finding(occurrences: list[tuple[Decoded, Evidence]], events: int) -> PowerShellFinding:
    decoded = occurrences[0][0]
    ordered = unique_sorted([e for _, e in occurrences])
    by_host: dict[str, dict[str, None]] = defaultdict(dict)
    for e in ordered:
        by_host[e.host][e.fields["launcher"]] = None
    accounts = {account_name(e.fields.get("User")) for e in ordered}
    return PowerShellFinding(
        payload_id=decoded.payload_id,
        family=decoded.family,
        script=decoded.script,
        layers=decoded.layers,
        traits=decoded.traits,
        iocs=_merged_iocs([d for d, _ in occurrences]),
        launchers=tuple(dict.fromkeys(e.fields["launcher"] for e in ordered)),
        launchers_by_host={h: tuple(v) for h, v in by_host.items()},
        hosts=tuple(by_host),
        accounts=tuple(sorted(a for a in accounts if a)),
        first_seen=ordered[0].time,
        last_seen=ordered[-1].time,
        events=events,
        evidence=ordered,
    )


def powershell_findings(store: StoreLike) -> list[PowerShellFinding]:
    """Decoded encoded PowerShell grouped by payload; most hosts (then most events) first."""
    groups: dict[str, list[tuple[Decoded, Evidence]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    seen_engine: set[tuple[str, str, str]] = set()
    for row in _rows(store):
        hit = _occurrence(row)
        if hit is None:
            continue
        counts[hit[0].payload_id] += 1
        if row["EventCode"] in ENGINE_CODES:  # one engine event per host, id and command line
            key = (row["host"], row["EventCode"], hit[0].command_line)
            if key in seen_engine:
                continue
            seen_engine.add(key)
        groups[hit[0].payload_id].append(hit)
    findings = [_finding(occ, counts[pid]) for pid, occ in groups.items()]
    return sorted(findings, key=lambda f: (-len(f.hosts), -f.events, f.first_seen))
