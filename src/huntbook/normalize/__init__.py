"""Turn raw records into normalized events (docs/architecture.md section 1), driven by YAML."""

from __future__ import annotations
