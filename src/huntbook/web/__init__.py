"""``huntbook serve``: a local web workbench over ``Workspace`` (a thin layer, as datasette is).

    app = create_app(Workspace("store"))      # a Starlette app: pages, JSON API, static assets

Pages: ``/search`` (search bar, timeline, fields sidebar, events or a table, export),
``/hunts`` (built-in playbooks and those of ``--playbooks``, their reports with an interactive
host graph), ``/findings`` (every analytic on the whole store, each edge's evidence linked to its
event's search) and ``/detections`` (the Sigma rules of ``--rules`` run on the store). JSON under
``/api``. Everything runs through ``Workspace``; searches run in worker threads, each on its own
DuckDB connection, so a long one blocks no other request and ``/api/cancel`` can interrupt it.
"""

from __future__ import annotations

from huntbook.web.app import create_app

__all__ = ["create_app"]
