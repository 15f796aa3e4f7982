"""Hunts: playbooks in the seed's markdown format, run on the store, reported three ways.

from huntbook.hunts import load_playbook, lint, run_hunt
result = run_hunt(store, "wmi-lateral-movement", out="report/")
"""

from __future__ import annotations

from huntbook.hunts.builtin import list_builtin
from huntbook.hunts.lint import lint
from huntbook.hunts.loader import load_playbook
from huntbook.hunts.model import Playbook, Query
from huntbook.hunts.problems import ErrorLevel, Problem
from huntbook.hunts.render import render_html, render_json, render_markdown
from huntbook.hunts.result import HuntResult
from huntbook.hunts.runner import run_hunt

__all__ = [
    "ErrorLevel",
    "HuntResult",
    "Playbook",
    "Problem",
    "Query",
    "lint",
    "list_builtin",
    "load_playbook",
    "render_html",
    "render_json",
    "render_markdown",
    "run_hunt",
]
