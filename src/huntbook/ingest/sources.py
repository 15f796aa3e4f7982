"""From the paths a user gives to the streams readers read: folders, archives, compressed files.

One *input* is one file on disk (an archive is one input): it is hashed (sha256, for idempotence)
and becomes one atomic batch. Its *members* are the streams inside it: the file itself, the
decompressed ``.gz``, or each file of a ``.zip``/``.tar(.gz)``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO

from huntbook.errors import IngestError
from huntbook.ingest.base import Member

HASH_BLOCK = 1 << 20
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


def expand(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, bool]]:
    """Every input file, in order: ``(path, named)``, ``named`` False for files found in folders."""
    out: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
            out.extend((p, False) for p in found)
        elif path.exists():
            out.append((path, True))
        else:
            raise IngestError(f"{path}: no such file or folder")
    return out


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def sha256_of(path: Path) -> str:
    """The content hash that makes ingest idempotent."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def members(path: Path) -> Iterator[Member]:
    """The streams of one input file, by its name: zip, tar(.gz), gz, or the file itself."""
    name = path.name.lower()
    if name.endswith(".zip"):
        yield from _zip_members(path)
    elif name.endswith(TAR_SUFFIXES):
        yield from _tar_members(path)
    elif name.endswith(".gz"):
        yield Member(f"{path}:{path.name[:-3]}", partial(_gunzip, path))
    else:
        yield Member(str(path), partial(_open_binary, path), path=str(path))


def _open_binary(path: Path) -> IO[bytes]:
    return path.open("rb")


def _gunzip(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb")  # type: ignore[return-value]


def _zip_members(path: Path) -> Iterator[Member]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise IngestError(f"{path}: not a readable zip archive ({exc})") from exc
    for info in infos:
        if info.is_dir() or Path(info.filename).name.startswith((".", "__MACOSX")):
            continue
        yield Member(f"{path}:{info.filename}", partial(_zip_open, path, info.filename))


def _zip_open(path: Path, name: str) -> IO[bytes]:
    archive = zipfile.ZipFile(path)
    stream = archive.open(name)
    stream.archive = archive  # type: ignore[attr-defined]  # keep the archive open with it
    return stream


def _tar_members(path: Path) -> Iterator[Member]:
    try:
        with tarfile.open(path, "r:*") as archive:
            names = [
                i.name for i in archive if i.isfile() and not Path(i.name).name.startswith(".")
            ]
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise IngestError(f"{path}: not a readable tar archive ({exc})") from exc
    for name in names:
        yield Member(f"{path}:{name}", partial(_tar_open, path, name))


def _tar_open(path: Path, name: str) -> IO[bytes]:
    archive = tarfile.open(path, "r:*")  # noqa: SIM115  # closed with the stream it serves
    stream = archive.extractfile(name)
    if stream is None:
        raise IngestError(f"{path}:{name}: not a regular file")
    stream.archive = archive  # type: ignore[attr-defined]  # keep the archive open with it
    return stream
