"""Engines render a compiled query in their SQL dialect and run it.

``ENGINES`` maps a name to its class; ``get_engine(name)`` suggests a close name when unknown;
``EngineChoice`` is what a workspace, a search or a hunt is told to run on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huntbook.engines.base import Engine, Limits
from huntbook.engines.duckdb import DuckDBEngine
from huntbook.engines.spark import DEFAULT_MASTER, SparkEngine
from huntbook.errors import EngineError, did_you_mean

ENGINES: dict[str, type[Engine]] = {"duckdb": DuckDBEngine, "spark": SparkEngine}

__all__ = ["ENGINES", "DuckDBEngine", "Engine", "EngineChoice", "SparkEngine", "get_engine"]


def get_engine(name: str) -> type[Engine]:
    try:
        return ENGINES[name]
    except KeyError:
        raise EngineError(f"unknown engine {name!r}.{did_you_mean(name, ENGINES)}") from None


@dataclass(frozen=True)
class EngineChoice:
    """An engine by name (``duckdb`` or ``spark``) and, for Spark, its master URL or the URL of
    a Spark Connect server (``spark_remote``, ``sc://host:port``; not both)."""

    name: str = "duckdb"
    spark_master: str = DEFAULT_MASTER
    spark_remote: str | None = None

    def __post_init__(self) -> None:
        get_engine(self.name)  # an unknown name fails here, with a suggestion
        if self.spark_remote is not None and self.spark_master != DEFAULT_MASTER:
            raise EngineError(
                "give a Spark master (--spark-master) or a Spark Connect server "
                "(--spark-remote), not both"
            )

    def open(self, store: Any, limits: Limits | None = None) -> Engine:
        """The engine over ``store`` within ``limits``."""
        if self.name == "spark":
            return SparkEngine(
                store, master=self.spark_master, remote=self.spark_remote, limits=limits
            )
        return DuckDBEngine(store, limits=limits)
