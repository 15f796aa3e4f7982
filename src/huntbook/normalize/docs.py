"""docs/field-mapping.md, rendered from the mapping tables (``cog -r docs/field-mapping.md``).

The tables are the single source of the names; the document is generated from them so it cannot
drift (tests run ``cog --check`` on it).
"""

from __future__ import annotations

from collections.abc import Iterable

from huntbook.normalize.tables import Tables, tables
from huntbook.normalize.types import column_owners


def _table(header: tuple[str, ...], rows: Iterable[Iterable[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _cell(value: object) -> str:
    text = str(value).replace("|", "\\|")
    return f"`{text}`" if text else ""


def _channels(t: Tables) -> list[str]:
    rows = [
        ("(any other)", "(as sent)", t.default_channel["source"], t.default_channel["sourcetype"])
    ]
    for key, spec in t.channels.items():
        channel = spec.get("channel", key)
        rows.append(
            (
                key,
                channel,
                spec.get("source", t.default_channel["source"]).format(Channel=channel),
                spec.get("sourcetype", t.default_channel["sourcetype"]),
            )
        )
    return _table(("channel (any case)", "Channel", "source", "sourcetype"), rows)


def _classic(t: Tables) -> list[str]:
    lines = _table(
        ("EventData name", "classic name", "multivalue"),
        ((k, v, "yes" if v in t.multivalue else "") for k, v in t.classic_default.items()),
    )
    lines += ["Overrides by EventCode:", ""]
    lines += _table(
        ("EventCode", "EventData name", "classic name"),
        ((code, k, v) for code, names in t.classic_by_event.items() for k, v in names.items()),
    )
    return lines


def _cim(t: Tables) -> list[str]:
    def sources(rule: object) -> str:
        parts = [f"{n}[{i}]" if i is not None else n for n, i in rule.sources]  # type: ignore[attr-defined]
        return ", ".join(parts) + (" (domain stripped)" if rule.strip_domain else "")  # type: ignore[attr-defined]

    return _table(
        ("events", "CIM field", "first present of"),
        ((group, r.name, sources(r)) for group, rules in t.cim.items() for r in rules),
    )


def field_mapping_markdown() -> str:
    """The generated part of docs/field-mapping.md."""
    t = tables()
    out = ["## Source and sourcetype by channel", "", *_channels(t)]
    out += ["## System fields (EVTX, XML, evtx_dump, Winlogbeat)", ""]
    out += _table(("System path", "field"), ((".".join(p), n) for p, n in t.system))
    out += ["Classic header names filled from the System names (and back):", ""]
    out += _table(("classic header", "System field"), t.header_aliases.items())
    out += ["## Flat JSON objects (Security-Datasets / NXLog)", ""]
    out += _table(("key", "field"), t.flat_rename.items())
    out += [f"Dropped keys: {', '.join(f'`{k}`' for k in sorted(t.flat_drop))}.", ""]
    out += ["## Multivalue fields (always lists)", ""]
    out += [", ".join(f"`{n}`" for n in sorted(t.multivalue)), ""]
    owners = ", ".join(f"`{n}`" for n in sorted(column_owners().values()))
    out += [f"Fields that own their column over case variants: {owners}.", ""]
    out += ["## Classic names of Security events", "", *_classic(t)]
    out += ["Message-table inserts shown as words in classic fields:", ""]
    out += _table(("insert", "word"), t.inserts.items())
    out += ["TaskCategory by EventCode (Security):", ""]
    out += _table(("EventCode", "TaskCategory"), t.task_categories.items())
    out += ["## CIM fields", "", *_cim(t)]
    return "\n".join(out)
