"""Renderers: pure functions of a ``HuntResult`` (report.json is the source of truth)."""

from __future__ import annotations

from huntbook.hunts.render.html import render_html
from huntbook.hunts.render.json import render_json
from huntbook.hunts.render.markdown import render_markdown

__all__ = ["render_html", "render_json", "render_markdown"]
