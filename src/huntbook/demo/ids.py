"""Identifiers in the shapes Windows and Sysmon really write them.

Sysmon 6 (the version of August 2017) builds its GUIDs from a machine part, the process start time
and a counter: ``{4F1A1E3E-DA42-599D-0000-0010E9D42E05}`` where ``599DDA42`` is the start time in
epoch seconds (low half first) and ``0010`` marks a process. Logon GUIDs use ``0020`` and carry the
logon id, little-endian: ``{4F1A1E3E-D9BE-599D-0000-0020E7030000}`` is the SYSTEM session 0x3e7.
Keeping those shapes lets a hunter read the generated data as they would read BOTS v2.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

#: Well-known logon sessions: SYSTEM, NETWORK SERVICE, LOCAL SERVICE.
SYSTEM_LOGON = 0x3E7
NETWORK_SERVICE_LOGON = 0x3E4
LOCAL_SERVICE_LOGON = 0x3E5


def machine_part(host: str) -> str:
    """The first GUID group Sysmon derives from the machine: stable per host."""
    return hashlib.sha1(host.encode()).hexdigest()[:8].upper()


def _time_groups(epoch: float) -> str:
    secs = int(epoch) & 0xFFFFFFFF
    return f"{secs & 0xFFFF:04X}-{secs >> 16:04X}"


def process_guid(host: str, start: float, counter: int) -> str:
    """A Sysmon 6 ProcessGuid for a process started at ``start`` (epoch seconds)."""
    return f"{{{machine_part(host)}-{_time_groups(start)}-0000-0010{counter & 0xFFFFFFFF:08X}}}"


def logon_guid(host: str, start: float, logon_id: int) -> str:
    """A Sysmon 6 LogonGuid: the logon id little-endian after the ``0020`` marker."""
    le = (logon_id & 0xFFFFFFFF).to_bytes(4, "little").hex().upper()
    return f"{{{machine_part(host)}-{_time_groups(start)}-0000-0020{le}}}"


def kerberos_logon_guid(*parts: object) -> str:
    """A random-looking, deterministic lower-case GUID as 4624/4769 write for Kerberos logons."""
    h = hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()
    return f"{{{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}}}"


@lru_cache(maxsize=4096)
def hashes(image: str) -> str:
    """Sysmon's ``Hashes`` value (SHA1, MD5, SHA256, IMPHASH), stable per image path."""
    seed = image.lower().encode()
    sha1 = hashlib.sha1(seed).hexdigest().upper()
    md5 = hashlib.md5(seed).hexdigest().upper()
    sha256 = hashlib.sha256(seed).hexdigest().upper()
    imphash = hashlib.md5(b"imp" + seed).hexdigest().upper()
    return f"SHA1={sha1},MD5={md5},SHA256={sha256},IMPHASH={imphash}"


def hex_lower(value: int) -> str:
    """Sysmon and EventData spelling of an id: ``0x3e7``."""
    return f"0x{value:x}"


def hex_upper(value: int) -> str:
    """Classic WinEventLog spelling of a logon id: ``0x3E7``."""
    return f"0x{value:X}"
