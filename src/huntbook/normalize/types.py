"""The type rules of a normalized event, shared by the normalizer and the store.

Splunk's model is text: every field is a string, except ``_time`` (epoch seconds) and the store's
``_cd`` (ingest order). A field is multivalue exactly when ``mappings/multivalue.yaml`` declares it,
so each column has one type in every Parquet file (see docs/architecture.md section 1).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from huntbook.errors import MappingError

TIME = "_time"
CD = "_cd"
CORE_TEXT = ("_raw", "index", "host", "source", "sourcetype", "EventCode")
CORE_COLUMNS = (TIME, CD, *CORE_TEXT)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DOUBLE, BIGINT, TEXT, LIST = "double", "bigint", "text", "list"
FIXED_TYPES = {TIME: DOUBLE, CD: BIGINT}


def load_mapping(name: str) -> dict[str, Any]:
    """Read ``normalize/mappings/<name>.yaml``; raise MappingError when it is not a mapping."""
    text = resources.files("huntbook.normalize").joinpath("mappings", f"{name}.yaml").read_text()
    data = yaml.load(text, Loader=_LOADER)  # noqa: S506  # a safe loader, C-accelerated if present
    if not isinstance(data, dict):
        raise MappingError(f"mappings/{name}.yaml: expected a mapping at the top level")
    return data


@lru_cache(maxsize=1)
def multivalue_fields() -> frozenset[str]:
    """The field names declared multivalue in ``mappings/multivalue.yaml``."""
    names = load_mapping("multivalue").get("multivalue")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise MappingError("mappings/multivalue.yaml: 'multivalue' must be a list of field names")
    return frozenset(names)


@lru_cache(maxsize=1)
def column_owners() -> dict[str, str]:
    """Lower-cased name -> the spelling that owns that column (``mappings/columns.yaml``)."""
    names = load_mapping("columns").get("owners")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise MappingError("mappings/columns.yaml: 'owners' must be a list of field names")
    return {n.lower(): n for n in names}


def field_type(name: str) -> str:
    """The store type of a field: ``double``, ``bigint``, ``list`` or ``text``."""
    if name in FIXED_TYPES:
        return FIXED_TYPES[name]
    return LIST if name in multivalue_fields() else TEXT
