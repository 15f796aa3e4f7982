"""The analytics on the demo's generated logs: Sysmon XML plus classic-text-only Security logs.

The demo (huntbook.demo) simulates the seed's story on a Frothly-like network: wrk-btun reaches
venus and wrk-klagerf over WMI and runs an Empire stager there. Its Security logs carry only the
classic add-on names (Logon_ID, Account_Name, Source_Network_Address ...), so this checks the
classic path of every analytic end to end.
"""

from __future__ import annotations

import pytest

from huntbook.analytics import conclude, find_lateral_movement, powershell_findings, visibility
from huntbook.demo import generator
from huntbook.ingest import ingest
from huntbook.store import Store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    generator.generate(root / "logs", events=3000)
    store = Store(root / "store")
    ingest(store, [root / "logs"], index="botsv2")
    return store


def test_demo_wmi_chain(demo_store):
    wmi = [e for e in find_lateral_movement(demo_store) if e.method == "WMI"]
    assert {e.source for e in wmi} == {"wrk-btun"}
    assert sorted(e.destination for e in wmi) == ["venus", "wrk-klagerf"]
    for edge in wmi:
        assert {"4624", "4688"} <= {e.event_code for e in edge.evidence}


def test_demo_conclusion(demo_store):
    needs = [
        "Authentication Logs",
        "Netflow",
        "Process Monitoring",
        "Process Command-Line Parameters",
    ]
    edges, findings = find_lateral_movement(demo_store), powershell_findings(demo_store)
    text = conclude(edges, findings, visibility(demo_store, needs))
    assert "venus and wrk-klagerf were reached from wrk-btun via WMI" in text
    assert "PowerShell Empire stager" in text
    assert "wrk-btun also ran the same payload under a different launcher" in text
    assert "no Sysmon Event ID 3 logs" in text
