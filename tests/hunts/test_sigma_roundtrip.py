"""The Sigma rules --emit-detections writes, read by pySigma and turned back into Splunk searches.

The rule is only worth shipping if Sigma's own tooling reads it and, converted for Splunk, it finds
what the hunt's query found. pySigma's Splunk backend writes Sysmon and Security event ids as
``EventID``; a Splunk with the Windows add-ons (and huntbook) calls them ``EventCode``, which is the
one field mapping a Splunk user adds to the backend's pipeline, and what this test adds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sigma.backends.splunk as sigma_splunk
import sigma.collection as sigma_collection
import sigma.processing.pipeline as sigma_pipeline
import sigma.processing.transformations as sigma_transformations
import yaml

from huntbook.hunts import load_playbook
from huntbook.hunts.builtin import names, playbook_dir
from huntbook.hunts.model import Playbook, Query
from huntbook.hunts.sigma import to_sigma
from huntbook.hunts.spltree import pipeline
from huntbook.ingest import ingest
from huntbook.query import run_spl
from huntbook.query.spl import ast
from huntbook.store import Store

DAY = dt.date(2026, 1, 2)
RECORDINGS = (
    "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod",
    "empire_psexec_dcerpc_tcp_svcctl",
    "empire_psremoting_stager",
    "empire_dcom_shellwindows_stager",
)
#: pipes after the base search that neither drop nor add rows
ROW_KEEPING = (ast.Table, ast.Fields, ast.Rename, ast.Sort, ast.Reverse)


def _backend() -> Any:
    mapping = sigma_transformations.FieldMappingTransformation({"EventID": "EventCode"})
    item = sigma_pipeline.ProcessingItem(mapping, identifier="huntbook_eventcode")
    return sigma_splunk.SplunkBackend(sigma_pipeline.ProcessingPipeline(items=[item]))


def _rules() -> list[tuple[Playbook, Query, dict[str, Any]]]:
    found = []
    for name in names():
        book = load_playbook(playbook_dir() / f"{name}.md")
        for query in book.queries:
            outcome = to_sigma(book, query, DAY)
            if outcome.rule is not None:
                found.append((book, query, outcome.rule))
    return found


def _converted(rule: dict[str, Any]) -> str:
    collection = sigma_collection.SigmaCollection.from_yaml(yaml.safe_dump(rule, sort_keys=False))
    [spl] = _backend().convert(collection)
    return str(spl)


def test_every_built_in_sigma_rule_is_read_and_converted_by_pysigma() -> None:
    rules = _rules()
    assert len(rules) >= 5
    for book, query, rule in rules:
        spl = _converted(rule)
        assert "EventID" not in spl, (book.title, spl)  # the mapping applied
        assert pipeline(spl) is not None, f"{query.title}: huntbook cannot parse {spl!r}"


@pytest.fixture(scope="module")
def recordings(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("sigma") / "store")
    ingest(store, [shared_data / "security-datasets" / f"{n}.zip" for n in RECORDINGS], index="x")
    return store


def _count(store: Store, spl: str) -> int:
    rows = run_spl(store, spl + " | stats count").rows()
    return int(rows[0]["count"]) if rows else 0


@pytest.mark.shared
def test_converted_rules_find_what_the_hunt_queries_find(recordings: Store) -> None:
    compared = matched = 0
    for _book, query, rule in _rules():
        tree = pipeline(query.spl)
        assert tree is not None
        if not all(isinstance(c, ROW_KEEPING) for c in tree.commands[1:]):
            continue  # dedup or head keep fewer rows than the rule matches events
        hunt = _count(recordings, query.spl.replace("botsv2", "x"))
        sigma = _count(recordings, "search index=x " + _converted(rule))
        assert sigma == hunt, (query.title, query.spl, _converted(rule))
        compared += 1
        matched += hunt > 0
    assert compared >= 5 and matched >= 2  # the comparison is not only of zeros
