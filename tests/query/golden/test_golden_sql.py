"""Snapshot ("golden") tests of the DuckDB SQL that representative searches compile to, so that a
refactor shows its SQL diff. The snapshots are ``<name>.sql`` beside this file.

Regenerate after an intended change, then review the diff:

    HUNTBOOK_REGEN_GOLDEN=1 .venv/bin/python -m pytest -q tests/query/golden
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huntbook.query import compile_spl

HERE = Path(__file__).resolve().parent
LOOKUPS = HERE / "lookups"
REGENERATE = os.environ.get("HUNTBOOK_REGEN_GOLDEN") == "1"
NOW = 1600000000.0
SCHEMA = {
    "_time": "double",
    "_cd": "bigint",
    "_raw": "text",
    "index": "text",
    "host": "text",
    "source": "text",
    "sourcetype": "text",
    "EventCode": "text",
    "Logon_ID": "list",
    "LogonId": "text",
    "ParentImage": "text",
    "user": "text",
}
SEARCHES = {
    "transaction_seed_q3": (
        'index="botsv2" (sourcetype=wineventlog (EventCode=4624 Logon_Type=3)) OR '
        '(sourcetype="xmlwineventlog:microsoft-windows-sysmon/operational" EventCode=1) '
        "| eval login=mvindex(Logon_ID, 1) | eval session=lower(coalesce(login,LogonId)) "
        "| transaction session startswith=(EventCode=4624) mvlist=ParentImage "
        "| search eventcount>1 | table _time session host ParentImage duration"
    ),
    "transaction_maxspan": "EventCode=1 | transaction host maxspan=30s | table host duration",
    "join": (
        "EventCode=4624 | join type=left host [search EventCode=1 | stats count by host] "
        "| table host count"
    ),
    "lookup": "user=* | lookup users.csv user OUTPUT dept | table user dept",
    "inputlookup": '| inputlookup users where dept="eng" | table user',
}


def _sql(spl: str) -> str:
    query = compile_spl(spl, SCHEMA, now=NOW, lookup_dirs=(str(LOOKUPS),))
    return query.sql("duckdb", pretty=True).replace(str(LOOKUPS), "<lookups>") + "\n"


@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_compiled_sql_matches_the_snapshot(name: str) -> None:
    path = HERE / f"{name}.sql"
    sql = _sql(SEARCHES[name])
    if REGENERATE:
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"{name}: no snapshot yet; generate it (see this module's docstring)"
    assert sql == path.read_text(encoding="utf-8"), (
        f"{name}: compiled SQL changed; review, then regenerate (see this module's docstring)"
    )
