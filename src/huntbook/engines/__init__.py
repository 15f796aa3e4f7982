"""Engines render a compiled query in their SQL dialect and run it.

``ENGINES`` maps a name to its class; ``get_engine(name)`` suggests a close name when unknown.
"""

from __future__ import annotations

from huntbook.engines.base import Engine
from huntbook.engines.duckdb import DuckDBEngine
from huntbook.engines.spark import SparkEngine
from huntbook.errors import EngineError, did_you_mean

ENGINES: dict[str, type[Engine]] = {"duckdb": DuckDBEngine, "spark": SparkEngine}

__all__ = ["ENGINES", "DuckDBEngine", "Engine", "SparkEngine", "get_engine"]


def get_engine(name: str) -> type[Engine]:
    try:
        return ENGINES[name]
    except KeyError:
        raise EngineError(f"unknown engine {name!r}.{did_you_mean(name, ENGINES)}") from None
