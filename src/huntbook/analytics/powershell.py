"""Decode encoded PowerShell down to the script that ran, and say what it is.

API (stable): ``decode_powershell(command_line) -> Decoded | None``.

Why: attackers hand PowerShell its script as base64 (``-EncodedCommand``), often wrapped again
(a decoded script that starts ``powershell -enc`` once more, or a ``[Convert]::FromBase64String``
blob fed to ``IO.Compression.DeflateStream``/``GzipStream``). A hunter needs the innermost script,
the indicators in it, and one name for the same payload whatever launched it.

- The flag: any abbreviation of ``-EncodedCommand`` (``-e``, ``-en``, ``-enc`` ...) or ``-ec``,
  case-insensitive, introduced by ``-``, ``/`` or a Unicode dash, after the word ``powershell`` or
  ``pwsh`` (``-e`` means other things to other programs). The argument is base64 of UTF-16LE
  text.
- Layers: each decoding step is a :class:`Layer` (``encoded-command``, ``deflate``, ``gzip``), up to
  ``MAX_LAYERS``. A command line without an encoded flag but with a compressed stage (a service's
  ``-c`` one-liner, a script block) decodes from that stage.
- Inline base64 strings that are not compressed stages (Empire keeps its C2 URL as
  ``FromBase64String('aAB0AHQAcAA6...')``) are decoded in place in ``Decoded.expanded``.
- Families and indicators come from ``powershell.yaml``: a family is named when enough of its
  traits match; indicators (URLs, IPs, user agent, staging key, C2 server + URI) are extracted from
  the expanded script. Empire's C2 is ``server + uri``.
- ``payload_id``: one id for one payload under any launcher. For a recognised family with a C2
  server or a staging key it is the family + server + staging key: Empire regenerates case,
  variable names and even the URI (``/admin/get.php``, ``/news.php`` ...) for every launcher it
  writes, so the text differs while the listener it stages from is the same; otherwise the hash of
  the final script lower-cased without whitespace.
- ``launcher``: the outer command line with paths cut to file names, the payload elided as
  ``<payload>``, lower-cased.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from huntbook.analytics._yaml import table
from huntbook.errors import MappingError

MAX_LAYERS = 8
LAUNCHER_MAX = 160
FULL_FLAG = "encodedcommand"
DASHES = "-/\u2013\u2014\u2015"
FLAG_RE = re.compile(
    rf"(?:^|[\s\"'])[{DASHES}](?P<flag>[A-Za-z]+)[\s\"'^]+(?P<blob>[A-Za-z0-9+/]{{2,}}={{0,2}})"
)
B64_CALL_RE = re.compile(
    r"FromBase64String\(\s*['\"]+(?P<blob>[A-Za-z0-9+/=\s]{8,}?)['\"]+\s*\)", re.IGNORECASE
)
PATH_RE = re.compile(
    r"\"?(?:[a-z]:|%[a-z]+%|\\\?\?\\[a-z]:)?(?:\\[^\\\s\"]+)*\\([^\\\s\"]+?)(?:\.exe)?\"?(?=\s|$)",
    re.IGNORECASE,
)
SPACES_RE = re.compile(r"\s+")
HOST_RE = re.compile(r"powershell|pwsh", re.IGNORECASE)


@dataclass(frozen=True)
class Layer:
    """One decoding step: how it was encoded and the text it revealed."""

    kind: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class Decoded:
    """An encoded PowerShell command line, decoded."""

    command_line: str
    launcher: str
    layers: tuple[Layer, ...]
    script: str
    expanded: str
    family: str | None
    traits: tuple[str, ...]
    iocs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    payload_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "command_line": self.command_line,
            "launcher": self.launcher,
            "layers": [layer.to_dict() for layer in self.layers],
            "script": self.script,
            "family": self.family,
            "traits": list(self.traits),
            "iocs": {k: list(v) for k, v in self.iocs.items()},
            "payload_id": self.payload_id,
        }


def is_encoded_flag(word: str) -> bool:
    """``-e``, ``-enc``, ``-EncodedCommand`` ... and ``-ec``: what powershell.exe accepts."""
    word = word.lower()
    return word == "ec" or FULL_FLAG.startswith(word)


def b64_bytes(blob: str) -> bytes | None:
    """Strict base64 (whitespace ignored, missing padding tolerated), or None."""
    blob = SPACES_RE.sub("", blob)
    blob += "=" * (-len(blob) % 4)
    try:
        return base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None


def _printable(text: str) -> bool:
    if not text:
        return False
    good = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return good / len(text) >= 0.95


def _looks_utf16(data: bytes) -> bool:
    """UTF-16LE text of mostly ASCII script has a zero in (nearly) every odd byte."""
    if data.startswith(b"\xff\xfe"):
        return True
    odd = data[1::2]
    return len(data) % 2 == 0 and bool(odd) and odd.count(0) >= 0.3 * len(odd)


def as_text(data: bytes, encodings: tuple[str, ...] | None = None) -> str | None:
    """Bytes as script text, if printable. ``-EncodedCommand`` always carries UTF-16LE (pass
    ``("utf-16-le",)``); other blobs are UTF-16LE when they look like it, else UTF-8."""
    if encodings is None:
        encodings = ("utf-16-le",) if _looks_utf16(data) else ("utf-8",)
    for encoding in encodings:
        if encoding == "utf-16-le" and len(data) % 2:
            continue
        try:
            text = data.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
        if _printable(text):
            return text
    return None


def _encoded_argument(text: str) -> tuple[str, re.Match[str]] | None:
    for match in FLAG_RE.finditer(text):
        if not is_encoded_flag(match.group("flag")) or not HOST_RE.search(text, 0, match.start()):
            continue
        data = b64_bytes(match.group("blob"))
        decoded = as_text(data, ("utf-16-le",)) if data else None
        if decoded is not None:
            return decoded, match
    return None


def _decompress(data: bytes) -> tuple[str, bytes] | None:
    """Raw deflate (DeflateStream), gzip (GzipStream) or zlib: whichever works."""
    attempts = (
        ("deflate", lambda d: zlib.decompress(d, -15)),
        ("gzip", gzip.decompress),
        ("zlib", zlib.decompress),
    )
    for kind, fn in attempts:
        try:
            return kind, fn(data)
        except (OSError, zlib.error, EOFError):
            continue
    return None


def _compressed_stage(text: str) -> Layer | None:
    for match in B64_CALL_RE.finditer(text):
        data = b64_bytes(match.group("blob"))
        unpacked = _decompress(data) if data else None
        if unpacked is None:
            continue
        inner = as_text(unpacked[1])
        if inner is not None:
            return Layer(unpacked[0], inner)
    return None


def _next_layer(text: str) -> Layer | None:
    encoded = _encoded_argument(text)
    if encoded is not None:
        return Layer("encoded-command", encoded[0])
    return _compressed_stage(text)


def expand_inline(text: str) -> str:
    """Replace base64 string literals given to FromBase64String by their decoded text."""

    def swap(match: re.Match[str]) -> str:
        data = b64_bytes(match.group("blob"))
        if not data or _decompress(data) is not None:
            return match.group(0)
        decoded = as_text(data)
        return (
            match.group(0)
            if decoded is None
            else match.group(0).replace(match.group("blob"), decoded)
        )

    return B64_CALL_RE.sub(swap, text)


def launcher_of(command_line: str, blob: str | None) -> str:
    """The outer command line, payload elided, executables cut to their names (no ``.exe``, no
    quotes), lower-cased, at most ``LAUNCHER_MAX`` characters:
    ``powershell -nop -sta -w 1 -enc <payload>``."""
    text = command_line.replace(blob, "<payload>") if blob else command_line
    text = PATH_RE.sub(lambda m: m.group(1), text)
    text = re.sub(r"\.exe\b", "", text.replace('"', ""), flags=re.IGNORECASE)
    text = SPACES_RE.sub(" ", text).strip().lower()
    return text if len(text) <= LAUNCHER_MAX else text[: LAUNCHER_MAX - 3] + "..."


def decode_powershell(command_line: str | None) -> Decoded | None:
    """Decode an encoded PowerShell command line; None when it carries no encoded script."""
    if not command_line:
        return None
    layers: list[Layer] = []
    text = command_line
    first = _encoded_argument(command_line)
    stage = B64_CALL_RE.search(command_line)
    blob = first[1].group("blob") if first else stage.group("blob") if stage else None
    while len(layers) < MAX_LAYERS and (layer := _next_layer(text)) is not None:
        layers.append(layer)
        text = layer.text
    if not layers:
        return None
    expanded = expand_inline(text)
    family, traits = recognise(expanded)
    iocs = extract_iocs(expanded)
    return Decoded(
        command_line,
        launcher_of(command_line, blob),
        tuple(layers),
        text,
        expanded,
        family,
        traits,
        iocs,
        payload_id(text, family, iocs),
    )


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    data = table("powershell.yaml")
    if not isinstance(data, dict) or "families" not in data or "iocs" not in data:
        raise MappingError("powershell.yaml: expected 'families' and 'iocs'")
    for fam in data["families"]:
        fam["compiled"] = {name: re.compile(p, re.IGNORECASE) for name, p in fam["traits"].items()}
    data["iocs_compiled"] = {name: re.compile(p, re.IGNORECASE) for name, p in data["iocs"].items()}
    return data


def recognise(script: str) -> tuple[str | None, tuple[str, ...]]:
    """The first family with enough matching traits, and the traits that matched."""
    for fam in _table()["families"]:
        hits = tuple(name for name, rx in fam["compiled"].items() if rx.search(script))
        if len(hits) >= int(fam.get("min_traits", 1)):
            return fam["name"], hits
    return None, ()


def extract_iocs(script: str) -> dict[str, tuple[str, ...]]:
    """Indicator values by kind (first-seen order, no duplicates); Empire's C2 as server + uri."""
    found = {
        name: tuple(dict.fromkeys(m.group(1) for m in rx.finditer(script)))
        for name, rx in _table()["iocs_compiled"].items()
    }
    c2 = tuple(s.rstrip("/") + u for s in found.get("server", ()) for u in found.get("uri", ()))
    if c2:
        found["c2"] = c2
    return {k: v for k, v in found.items() if v}


def payload_id(script: str, family: str | None, iocs: Mapping[str, tuple[str, ...]]) -> str:
    """One id per payload, the same under any launcher (see the module docstring)."""
    anchor = iocs.get("server", ()) + iocs.get("staging_key", ())
    keyed = family is not None and bool(anchor)
    basis = "|".join((family or "", *anchor)) if keyed else SPACES_RE.sub("", script).lower()
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]
