"""From the paths a user gives to the streams readers read: folders, archives, compressed files.

One *input* is one file on disk (an archive is one input): it is hashed (sha256, for idempotence)
and becomes one atomic batch. Its *members* are the streams inside it: the file itself, the
decompressed ``.gz``, or each file of a ``.zip``/``.tar(.gz)``. What a member decompresses to is
capped (``Limits.member_bytes``): a zip bomb stops with InputLimitError naming file and member. An
input that is not a regular file (a FIFO, a device such as /dev/zero, a socket) is refused before
anything reads it, since reading it may never end.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

from huntbook.errors import IngestError, InputLimitError
from huntbook.ingest.base import DEFAULT_LIMITS, Limits, Member

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


_NOT_REGULAR = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def check_regular(path: Path) -> None:
    """Raise InputLimitError if ``path`` (links followed) is not a regular file."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return
    kind = next((what for test, what in _NOT_REGULAR if test(mode)), "not a regular file")
    raise InputLimitError(f"{path}: {kind}, not a regular file: refused (reading it may not end)")


def sha256_of(path: Path) -> str:
    """The content hash that makes ingest idempotent."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def members(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Member]:
    """The streams of one input file, by its name: zip, tar(.gz), gz, or the file itself."""
    name = path.name.lower()
    if name.endswith(".zip"):
        yield from _zip_members(path, limits)
    elif name.endswith(TAR_SUFFIXES):
        yield from _tar_members(path, limits)
    elif name.endswith(".gz"):
        member = f"{path}:{path.name[:-3]}"
        yield Member(member, partial(_gunzip, path, member, limits.member_bytes), limits=limits)
    else:
        yield Member(str(path), partial(_open_binary, path), path=str(path), limits=limits)


class _Capped(io.RawIOBase):
    """A decompressed member that raises InputLimitError once past ``limit`` bytes."""

    def __init__(self, inner: IO[bytes], name: str, limit: int, owner: Any = None) -> None:
        super().__init__()
        self.inner, self.name, self.limit, self.owner = inner, name, limit, owner

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        if self.inner.tell() > self.limit:
            raise _over_limit(self.name, self.limit, "decompresses to more than")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        if self.owner is not None:
            self.owner.close()
        super().close()


def _over_limit(name: str, limit: int, what: str) -> InputLimitError:
    """The error for a member over ``Limits.member_bytes``."""
    return InputLimitError(
        f"{name}: archive member {what} {limit:,} bytes (--max-member-bytes): refused "
        "(a zip bomb, or raise the limit)"
    )


def _capped(stream: IO[bytes], name: str, limit: int, owner: Any = None) -> IO[bytes]:
    return io.BufferedReader(_Capped(stream, name, limit, owner))


def _open_binary(path: Path) -> IO[bytes]:
    return path.open("rb")


def _gunzip(path: Path, name: str, limit: int) -> IO[bytes]:
    return _capped(gzip.open(path, "rb"), name, limit)  # type: ignore[arg-type]


def _zip_members(path: Path, limits: Limits) -> Iterator[Member]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise IngestError(f"{path}: not a readable zip archive ({exc})") from exc
    for info in infos:
        if info.is_dir() or Path(info.filename).name.startswith((".", "__MACOSX")):
            continue
        name = f"{path}:{info.filename}"
        opener = partial(_zip_open, path, info.filename, name, limits.member_bytes)
        yield Member(name, opener, limits=limits)


def _zip_open(path: Path, member: str, name: str, limit: int) -> IO[bytes]:
    archive = zipfile.ZipFile(path)
    info = archive.getinfo(member)
    if info.file_size > limit:
        archive.close()
        raise _over_limit(name, limit, f"says it holds {info.file_size:,} bytes, more than")
    return _capped(archive.open(info), name, limit, archive)


def _tar_members(path: Path, limits: Limits) -> Iterator[Member]:
    try:
        with tarfile.open(path, "r:*") as archive:
            names = [
                i.name for i in archive if i.isfile() and not Path(i.name).name.startswith(".")
            ]
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise IngestError(f"{path}: not a readable tar archive ({exc})") from exc
    for name in names:
        full = f"{path}:{name}"
        yield Member(full, partial(_tar_open, path, name, full, limits.member_bytes), limits=limits)


def _tar_open(path: Path, member: str, name: str, limit: int) -> IO[bytes]:
    archive = tarfile.open(path, "r:*")  # noqa: SIM115  # closed with the stream it serves
    info = archive.getmember(member)
    stream = archive.extractfile(info)
    if stream is None:
        archive.close()
        raise IngestError(f"{name}: not a regular file")
    if info.size > limit:
        archive.close()
        raise _over_limit(name, limit, f"says it holds {info.size:,} bytes, more than")
    return _capped(stream, name, limit, archive)
