"""``iplocation``: where an IP address is, from a MaxMind City database (Splunk ships
GeoLite2-City.mmdb; huntbook fetches nothing, so the user places one).

The database is ``GeoLite2-City.mmdb`` in the store's ``lookups/`` folder or a ``--lookups``
folder (the first found, contained as lookups are), read with the ``maxminddb`` package by a
Python function the search calls on DuckDB (``PythonFunction``). The fields are Splunk's:
City, Country, Region, lat, lon, and with ``allfields=true`` also Continent, MetroCode and
Timezone, each after ``prefix``. An address the database does not hold (private ranges, text
that is no address) gets empty fields; an event without the field gets none.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlglot import exp

from huntbook.query.spl import ast
from huntbook.query.spl.compiler.basic import assign_many
from huntbook.query.spl.compiler.runtime import PythonFunction
from huntbook.query.spl.compiler.state import State, alias
from huntbook.query.spl.compiler.values import NUM, TEXT, Val, as_text, col, fn, lit

DATABASE = "GeoLite2-City.mmdb"
FUNCTION = "huntbook_iplocation"
#: Splunk's field -> (its DuckDB type, the record's value); the last three need allfields=true.
FIELDS: dict[str, tuple[str, Callable[[dict[str, Any], str], Any]]] = {
    "City": ("VARCHAR", lambda r, lang: _name(r.get("city"), lang)),
    "Country": ("VARCHAR", lambda r, lang: _name(r.get("country"), lang)),
    "Region": ("VARCHAR", lambda r, lang: _name((r.get("subdivisions") or [None])[0], lang)),
    "lat": ("DOUBLE", lambda r, lang: (r.get("location") or {}).get("latitude")),
    "lon": ("DOUBLE", lambda r, lang: (r.get("location") or {}).get("longitude")),
    "Continent": ("VARCHAR", lambda r, lang: _name(r.get("continent"), lang)),
    "MetroCode": ("VARCHAR", lambda r, lang: _text((r.get("location") or {}).get("metro_code"))),
    "Timezone": ("VARCHAR", lambda r, lang: (r.get("location") or {}).get("time_zone") or ""),
}
BASIC = ("City", "Country", "Region", "lat", "lon")


def _name(part: Any, lang: str) -> str:
    names = part.get("names", {}) if isinstance(part, dict) else {}
    return str(names.get(lang, ""))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def find_database(state: State, pos: int) -> Path:
    """The first ``GeoLite2-City.mmdb`` in the lookup folders (symlinks resolved, contained).

    Raises:
        SplSyntaxError: no lookup folder holds the database.
    """
    folders = [Path(os.path.realpath(f)) for f in state.ctx.lookup_dirs]
    for folder in folders:
        real = Path(os.path.realpath(folder / DATABASE))
        if real.is_file() and any(real.is_relative_to(f) for f in folders):
            return real
    where = ", ".join(str(f) for f in folders) or "the store's lookups folder"
    raise state.ctx.error(
        f"iplocation needs a MaxMind City database: put {DATABASE} (GeoLite2 City, MaxMind DB "
        f"format; huntbook downloads nothing) in {where}, or in a folder given with --lookups DIR",
        pos,
    )


def locator(path: Path, names: tuple[str, ...], lang: str) -> Callable[[str | None], Any]:
    """The Python function: an address -> a dict of ``names`` (None for a null address)."""
    import maxminddb

    reader = maxminddb.open_database(str(path))
    empty = {n: (None if FIELDS[n][0] == "DOUBLE" else "") for n in names}

    @functools.lru_cache(maxsize=65536)
    def locate(address: str | None) -> dict[str, Any] | None:
        if address is None:
            return None
        try:
            record = reader.get(address.strip())
        except ValueError:  # not an IP address
            record = None
        if not isinstance(record, dict):
            return empty
        return {n: FIELDS[n][1](record, lang) for n in names}

    return locate


def compile_iplocation(cmd: ast.IpLocation, state: State) -> State:
    ctx = state.ctx
    ctx.refuse_on_spark("iplocation")
    names = tuple(FIELDS) if cmd.allfields else BASIC
    path = find_database(state, cmd.pos)
    struct = f"STRUCT({', '.join(f'{n} {FIELDS[n][0]}' for n in names)})"
    name = f"{FUNCTION}_{len(ctx.functions)}"
    ctx.functions.append(PythonFunction(name, locator(path, names, cmd.lang), ("VARCHAR",), struct))
    located = ctx.hidden("geo")
    call = exp.Anonymous(this=name, expressions=[as_text(state.get(cmd.field))])
    state = state.then(state.select_from(exp.Star(), alias(call, located)), added=[located])
    values = [
        (
            cmd.prefix + n,
            Val(
                fn("struct_extract", col(located), lit(n)),
                NUM if FIELDS[n][0] == "DOUBLE" else TEXT,
            ),
        )
        for n in names
    ]
    return assign_many(state, values)
