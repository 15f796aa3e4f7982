"""The demo: a simulated Frothly-like network whose raw logs replay the seed's WMI hunt.

``generate`` writes the raw logs (Sysmon XmlWinEventLog XML, Security and System classic
WinEventLog text, one folder per host); ``run_demo`` generates (cached), ingests them as index
``botsv2``, runs the seed's playbook and writes its reports.
"""

from __future__ import annotations

from huntbook.demo.generator import (
    DEFAULT_EVENTS,
    DEFAULT_SEED,
    GENERATOR_VERSION,
    GenerateSummary,
    generate,
)

__all__ = [
    "DEFAULT_EVENTS",
    "DEFAULT_SEED",
    "GENERATOR_VERSION",
    "GenerateSummary",
    "generate",
    "run_demo",
]


def __getattr__(name: str) -> object:
    # run_demo pulls in the store, the SPL engine and the hunt runner: import it only when asked.
    if name == "run_demo":
        from huntbook.demo.run import run_demo

        return run_demo
    raise AttributeError(name)
