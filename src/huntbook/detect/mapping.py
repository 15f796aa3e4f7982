"""Sigma log sources and field names -> the store's events (``logsources.yaml``).

A rule's log source resolves to branches: each branch selects events (a ``source`` and, for a
category, its event codes) and names the fields of those events. The names every branch shares
(``EventID`` -> ``EventCode``) are a pySigma ``ProcessingPipeline`` of huntbook's own, applied
before compiling; a branch's own names (Security 4688's ``NewProcessName`` for ``Image``) are
resolved by the scan, per event, so a rule compiles once for all its branches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from huntbook.errors import MappingError

if TYPE_CHECKING:  # pySigma loads only when a rule is converted (a cached run never needs it)
    from sigma.processing.pipeline import ProcessingPipeline
    from sigma.rule import SigmaLogSource


@dataclass(frozen=True)
class Branch:
    """Events of one channel (``source``), optionally only some event codes, and their names."""

    source: str
    codes: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = field(default=())

    def column(self, name: str) -> str:
        """The store field holding Sigma's ``name`` on this branch's events."""
        return dict(self.fields).get(name, name)


@dataclass(frozen=True)
class Mapping:
    """The parsed ``logsources.yaml``."""

    common: dict[str, str]
    services: dict[str, tuple[Branch, ...]]
    categories: dict[str, tuple[Branch, ...]]
    version: str

    def branches(self, logsource: SigmaLogSource) -> tuple[Branch, ...] | None:
        """The branches a rule's log source runs on; None when huntbook has no mapping for it."""
        if logsource.product not in (None, "windows"):
            return None
        category, service = logsource.category, logsource.service
        if category is not None and service is not None:
            return None
        if category is not None:
            return self.categories.get(category)
        if service is not None:
            return self.services.get(service)
        return (Branch(source=""),)  # product: windows alone: every event

    def pipeline(self) -> ProcessingPipeline:
        """huntbook's field names common to every branch, as a pySigma processing pipeline."""
        from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
        from sigma.processing.transformations import FieldMappingTransformation

        names: dict[str | None, str | list[str]] = dict(self.common.items())
        item = ProcessingItem(FieldMappingTransformation(names), identifier="huntbook_fields")
        return ProcessingPipeline(name="huntbook", priority=10, items=[item])


def _source(channel: str, sources: dict[str, str]) -> str:
    return sources.get(channel, f"WinEventLog:{channel}")


def _branches(raw: list[dict[str, Any]], sources: dict[str, str]) -> tuple[Branch, ...]:
    return tuple(
        Branch(
            source=_source(str(b["channel"]), sources),
            codes=tuple(str(c) for c in b.get("codes", ())),
            fields=tuple(sorted((b.get("fields") or {}).items())),
        )
        for b in raw
    )


@lru_cache(maxsize=1)
def load_mapping() -> Mapping:
    """Read ``detect/logsources.yaml`` (cached)."""
    text = resources.files("huntbook.detect").joinpath("logsources.yaml").read_text()
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not {"fields", "services", "categories"} <= data.keys():
        raise MappingError("detect/logsources.yaml: needs fields, services and categories")
    sources = data.get("sources") or {}
    services = {
        name: _branches([{"channel": c} for c in channels], sources)
        for name, channels in data["services"].items()
    }
    categories = {name: _branches(raw, sources) for name, raw in data["categories"].items()}
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Mapping(dict(data["fields"]), services, categories, f"{data.get('version')}-{digest}")
