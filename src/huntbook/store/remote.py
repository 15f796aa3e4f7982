"""Stores on object storage, read-only: a store path ``s3://bucket/prefix``, ``gs://bucket/prefix``
or ``abfss://container@account.dfs.core.windows.net/prefix`` (docs/scale-out.md).

pyarrow's filesystems reach them (``pyarrow.fs.FileSystem.from_uri``), with credentials and
endpoint where their SDKs look: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_REGION``/
``AWS_ENDPOINT_URL`` or ``~/.aws``; Google's application default credentials; Azure's
``AZURE_STORAGE_ACCOUNT_KEY`` or default credential chain. The manifest is read through them, and
DuckDB reads the Parquet files through the same filesystem registered on its connection as an
fsspec filesystem for the scheme: the duckdb wheel carries no ``httpfs`` extension and
``INSTALL httpfs`` downloads it, which a machine without internet cannot do. Spark reads the
files with Hadoop's connector for the scheme (``SPARK_SCHEMES``: ``s3://`` as ``s3a://``).

A store on object storage is only read: ingest, compact and repair refuse it (ingest into a local
store, then copy it up, e.g. ``aws s3 sync``). Its own ``lookups/`` and ``macros/`` folders are
not read; ``--lookups``/``--macros`` folders on this machine are.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from typing import Any, NoReturn

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
from fsspec.implementations.arrow import ArrowFSWrapper

from huntbook.errors import StoreError
from huntbook.store.core import Store
from huntbook.store.integrity import Damage, damage_error
from huntbook.store.location import RemotePath
from huntbook.store.manifest import MANIFEST, Manifest, missing_store, parse_manifest
from huntbook.store.views import cache_footers


class _Files:
    """The pyarrow filesystem behind a store URI, and the path in it of each file of the store."""

    def __init__(self, root: RemotePath) -> None:
        self.uri = str(root)
        self.scheme = root.scheme
        try:
            self.fs, base = pafs.FileSystem.from_uri(self.uri)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise StoreError(f"cannot reach the store {self.uri}: {exc}") from exc
        self.base: str = base

    def path(self, location: str) -> str:
        """The filesystem path of ``location`` (a URI under the store, or ``scheme://path``)."""
        if location.startswith(self.uri):
            return self.base + location[len(self.uri) :]
        return location.partition("://")[2] or location

    def read(self, name: str) -> bytes:
        """The bytes of the store's file ``name``; FileNotFoundError when it is absent."""
        with self.fs.open_input_stream(self.path(f"{self.uri}/{name}")) as stream:
            data: bytes = stream.read()
        return data

    def sizes(self, names: list[str]) -> list[int | None]:
        """Each file's size in bytes, None where there is no such file."""
        infos = self.fs.get_file_info([self.path(f"{self.uri}/{n}") for n in names])
        return [i.size if i.type == pafs.FileType.File else None for i in infos]


class _DuckDBFiles(ArrowFSWrapper):  # type: ignore[misc]  # fsspec has no type hints
    """The store's files as an fsspec filesystem for DuckDB's ``register_filesystem``: DuckDB
    hands it the store's URIs (or ``scheme://path`` for what it listed), it reads through
    pyarrow."""

    def __init__(self, files: _Files) -> None:
        super().__init__(files.fs, skip_instance_cache=True)
        self.files = files

    @property
    def protocol(self) -> str:
        return self.files.scheme

    def _strip_protocol(self, path: Any) -> str:  # per instance: the store's own mapping
        return self.files.path(str(path))

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> _PositionalFile:
        if mode != "rb":
            raise StoreError(f"the store {self.files.uri} on object storage is only read")
        return _PositionalFile(self.fs.open_input_file(path))


class _PositionalFile:
    """A store file as DuckDB reads it: from several threads at once through one handle, each
    calling ``seek`` then ``read`` (two calls, the GIL released between them). The position is
    kept per thread and each read is positional (``read_at``), so no thread moves another's."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.size: int = raw.size()
        self.local = threading.local()

    def tell(self) -> int:
        return int(getattr(self.local, "pos", 0))

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.tell(), os.SEEK_END: self.size}[whence]
        self.local.pos = base + offset
        return self.tell()

    def read(self, length: int = -1) -> bytes:
        start = self.tell()
        wanted = self.size - start if length < 0 else min(length, self.size - start)
        data: bytes = self.raw.read_at(max(wanted, 0), start) if wanted > 0 else b""
        self.local.pos = start + len(data)
        return data

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> _PositionalFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteStore(Store):
    """A store on object storage (read-only); see the module's docstring."""

    def __init__(self, path: RemotePath) -> None:
        super().__init__(path)
        self.path: RemotePath = path  # Store's Path() would print it as s3:/bucket

    @cached_property
    def _files(self) -> _Files:
        return _Files(self.path)

    def manifest(self) -> Manifest:
        try:
            data = self._files.read(MANIFEST)
        except FileNotFoundError as exc:
            raise missing_store(self.path) from exc
        except OSError as exc:
            raise StoreError(f"{self.path}/{MANIFEST}: unreadable manifest ({exc})") from exc
        return parse_manifest(data, f"{self.path}/{MANIFEST}")

    def damage(self) -> list[Damage]:
        """Every committed batch with a file missing or not of its recorded size (on object
        storage the footers are not read: that would download every file)."""
        return self._damaged(self.manifest())

    def _damaged(self, manifest: Manifest) -> list[Damage]:
        damaged = []
        for batch in manifest["batches"]:
            found = self._files.sizes(batch["files"])
            recorded = batch.get("bytes") or found
            for name, size, expected in zip(batch["files"], found, recorded, strict=True):
                if size is None or size != expected:
                    what = "missing" if size is None else f"{size:,} bytes, not {expected:,}"
                    damaged.append(Damage(batch, f"{name} is {what}"))
                    break
        return damaged

    def _checked(self, manifest: Manifest) -> Manifest:
        fresh: Manifest = {
            **manifest,
            "batches": [b for b in manifest["batches"] if b["id"] not in self._whole],
        }
        damaged = self._damaged(fresh)
        if damaged:
            raise damage_error(self.path, damaged)
        self._whole.update(b["id"] for b in fresh["batches"])
        return manifest

    def _connection(self) -> duckdb.DuckDBPyConnection:
        con = cache_footers(duckdb.connect())
        con.register_filesystem(_DuckDBFiles(self._files))
        return con

    def writing(self, *, create: bool = False, check: bool = True) -> NoReturn:
        """Refused: huntbook only reads stores on object storage."""
        raise StoreError(
            f"the store {self.path} is on object storage, which huntbook only reads: ingest, "
            "compact and repair write to a local store (copy it up afterwards, e.g. "
            "`aws s3 sync STORE s3://bucket/prefix`)"
        )
