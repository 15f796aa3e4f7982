"""Engines render a compiled query in their SQL dialect and run it.

``ENGINES`` maps a name to the module and class of its engine, which ``get_engine(name)`` imports
(suggesting a close name when unknown): an engine loads when something runs on it, so an ingest
imports neither DuckDB's nor Spark's. ``EngineChoice`` is what a workspace, a search or a hunt is
told to run on.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from huntbook.errors import EngineError, did_you_mean

if TYPE_CHECKING:
    from huntbook.engines.base import Engine, Limits

DEFAULT_MASTER = "local[2]"  # Spark's master when none is named: two local cores

ENGINES: dict[str, tuple[str, str]] = {
    "duckdb": ("huntbook.engines.duckdb", "DuckDBEngine"),
    "spark": ("huntbook.engines.spark", "SparkEngine"),
}

__all__ = ["DEFAULT_MASTER", "ENGINES", "EngineChoice", "get_engine"]


def get_engine(name: str) -> type[Engine]:
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}.{did_you_mean(name, ENGINES)}")
    module, cls = ENGINES[name]
    engine: type[Engine] = getattr(import_module(module), cls)
    return engine


@dataclass(frozen=True)
class EngineChoice:
    """An engine by name (``duckdb`` or ``spark``) and, for Spark, its master URL (None:
    ``DEFAULT_MASTER``; ``master`` is the one to use) or the URL of a Spark Connect server
    (``spark_remote``, ``sc://host:port``; not both)."""

    name: str = "duckdb"
    spark_master: str | None = None
    spark_remote: str | None = None

    def __post_init__(self) -> None:
        if self.name not in ENGINES:  # an unknown name fails here, with a suggestion
            get_engine(self.name)
        if self.spark_remote is not None and self.spark_master is not None:
            raise EngineError(
                "give a Spark master (--spark-master) or a Spark Connect server "
                "(--spark-remote), not both"
            )

    @property
    def master(self) -> str:
        """The Spark master to use: the one named, else ``DEFAULT_MASTER``."""
        return self.spark_master or DEFAULT_MASTER

    def open(self, store: Any, limits: Limits | None = None) -> Engine:
        """The engine over ``store`` within ``limits``."""
        if self.name == "spark":
            from huntbook.engines.spark import SparkEngine

            return SparkEngine(store, master=self.master, remote=self.spark_remote, limits=limits)
        from huntbook.engines.duckdb import DuckDBEngine

        return DuckDBEngine(store, limits=limits)
