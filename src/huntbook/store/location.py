"""Where a store is: a local folder, or a location on object storage (``RemotePath``).

Kept apart from store/remote.py (which reads such stores) so that naming a store imports nothing
heavy.
"""

from __future__ import annotations

import os
from pathlib import Path, PosixPath

# The schemes a store path may have, and the one Spark's Hadoop connector reads each as.
SPARK_SCHEMES = {"s3": "s3a", "gs": "gs", "abfss": "abfss", "abfs": "abfs"}


class RemotePath(PosixPath):
    """A location on object storage that joins like a path and prints as its URI.

    ``Path("s3://bucket/prefix")`` keeps the scheme as its first part (``s3:``) but prints
    ``s3:/bucket/prefix``; this prints ``s3://bucket/prefix`` (and its children likewise), so
    every reader of ``store.path`` (file lists, reports) sees the URI. It is no local file:
    ``is_dir()`` and the like find nothing.
    """

    def __str__(self) -> str:
        scheme, *rest = self.parts
        return f"{scheme}//{'/'.join(rest)}"

    def __fspath__(self) -> str:
        return str(self)

    @property
    def scheme(self) -> str:
        return self.parts[0].rstrip(":")


def remote_path(path: str | os.PathLike[str]) -> RemotePath | None:
    """``path`` as a RemotePath when it names object storage (``s3://``, ``gs://``, ``abfss://``,
    ``abfs://``), else None. ``s3:/bucket`` (what ``Path("s3://bucket")`` prints) counts too."""
    scheme, colon, rest = str(path).partition(":")
    if not colon or scheme.lower() not in SPARK_SCHEMES:
        return None
    return RemotePath(f"{scheme.lower()}:", *[part for part in rest.split("/") if part])


def spark_location(path: str) -> str:
    """A file's location as Spark's Hadoop reads it (``s3://b/k`` -> ``s3a://b/k``); local paths
    unchanged."""
    scheme, sep, rest = path.partition("://")
    return f"{SPARK_SCHEMES[scheme]}://{rest}" if sep and scheme in SPARK_SCHEMES else path


def store_path(path: str | os.PathLike[str]) -> Path:
    """The store location ``path`` names: a RemotePath on object storage, else a local Path."""
    return remote_path(path) or Path(path)
