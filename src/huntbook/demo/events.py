"""Emitting events: a time-ordered buffer plus process helpers (Sysmon 1/5/7/11/13, 4688/4689).

Events wait in a heap until generation has moved past their time, then leave in time order; only
events still in the future (mostly exits of long-running processes) stay in memory, which keeps
memory flat however many events are generated.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from typing import NamedTuple

from huntbook.demo import ids
from huntbook.demo.model import NULL_ACCOUNT, Account, Host, Proc, Session
from huntbook.demo.render import utc_time

SYSMON = "sysmon"
SECURITY = "security"
SYSTEM = "system"

MANDATORY_LABEL = {"Medium": "S-1-16-8192", "High": "S-1-16-12288", "System": "S-1-16-16384"}
#: %%1936 full token, %%1937 elevated, %%1938 limited (what 4688 writes, unexpanded).
ELEVATION = {"Medium": "%%1938", "High": "%%1936", "System": "%%1936"}


class Pending(NamedTuple):
    time: float
    seq: int
    host: str
    channel: str
    eid: int
    data: dict[str, str]


class Timeline:
    """Events not yet written, ordered by (time, emission order)."""

    def __init__(self) -> None:
        self._heap: list[Pending] = []
        self._seq = 0
        self.emitted = 0

    def add(self, t: float, host: Host, channel: str, eid: int, data: dict[str, str]) -> None:
        self._seq += 1
        self.emitted += 1
        heapq.heappush(self._heap, Pending(t, self._seq, host.name, channel, eid, data))

    def drain(self, until: float | None = None) -> Iterator[Pending]:
        """Yield, in order, every event earlier than ``until`` (all of them when None)."""
        heap = self._heap
        while heap and (until is None or heap[0].time < until):
            yield heapq.heappop(heap)

    def __len__(self) -> int:
        return len(self._heap)


def subject(account: Account, host: Host) -> tuple[str, str, str]:
    """(Security ID, Account Name, Account Domain) as a Subject block shows an account.

    Windows names the machine account for SYSTEM and NETWORK SERVICE subjects (``VENUS$``,
    ``FROTHLY``) while keeping their well-known SID.
    """
    if account.sid in ("S-1-5-18", "S-1-5-20"):
        return account.display, host.machine.name, host.machine.domain
    return account.display, account.name, account.domain


def _sysmon1(t: float, proc: Proc, parent: Proc) -> dict[str, str]:
    s = proc.session
    return {
        "UtcTime": utc_time(t),
        "ProcessGuid": proc.guid,
        "ProcessId": str(proc.pid),
        "Image": proc.image,
        "CommandLine": proc.cmd,
        "CurrentDirectory": proc.cwd,
        "User": s.account.qualified,
        "LogonGuid": s.guid(proc.host.name),
        "LogonId": ids.hex_lower(s.logon_id),
        "TerminalSessionId": str(s.terminal),
        "IntegrityLevel": proc.integrity,
        "Hashes": ids.hashes(proc.image),
        "ParentProcessGuid": parent.guid,
        "ParentProcessId": str(parent.pid),
        "ParentImage": parent.image,
        "ParentCommandLine": parent.cmd,
    }


def _security4688(proc: Proc, parent: Proc, impersonated: bool) -> dict[str, str]:
    host = proc.host
    creator = proc.session if impersonated else parent.session
    sid, name, domain = subject(creator.account, host)
    same = creator.logon_id == proc.session.logon_id
    target = NULL_ACCOUNT if same else proc.session.account
    tsid, tname, tdomain = ("NULL SID", "-", "-") if same else subject(target, host)
    return {
        "SubjectUserSid": sid,
        "SubjectUserName": name,
        "SubjectDomainName": domain,
        "SubjectLogonId": ids.hex_upper(creator.logon_id),
        "TargetUserSid": tsid,
        "TargetUserName": tname,
        "TargetDomainName": tdomain,
        "TargetLogonId": "0x0" if same else ids.hex_upper(proc.session.logon_id),
        "NewProcessId": ids.hex_lower(proc.pid),
        "NewProcessName": proc.image,
        "TokenElevationType": ELEVATION[proc.integrity],
        "MandatoryLabel": MANDATORY_LABEL[proc.integrity],
        "ProcessId": ids.hex_lower(parent.pid),
        "ParentProcessName": parent.image,
        "CommandLine": proc.cmd,
    }


def spawn(
    tl: Timeline,
    rng: random.Random,
    t: float,
    parent: Proc,
    image: str,
    cmd: str,
    *,
    session: Session | None = None,
    cwd: str | None = None,
    integrity: str | None = None,
    impersonated: bool = False,
    sysmon: bool = True,
) -> Proc:
    """Start a process: Sysmon 1 then Security 4688, both at ``t``.

    ``impersonated`` marks a child started on a caller's behalf (WmiPrvSE running a remote
    Win32_Process.Create): Windows then names the caller, not WmiPrvSE's account, as creator.
    ``sysmon=False`` models a Sysmon configuration that excludes the image (as common configs
    exclude the forwarder's and the search indexer's helpers): only Security sees the process.
    """
    host = parent.host
    proc = Proc(
        host,
        host.new_pid(rng),
        host.new_guid(t),
        image,
        cmd,
        session or parent.session,
        cwd or parent.cwd,
        integrity or parent.integrity,
        parent,
        sysmon,
    )
    if sysmon:
        tl.add(t, host, SYSMON, 1, _sysmon1(t, proc, parent))
    tl.add(t + 0.002, host, SECURITY, 4688, _security4688(proc, parent, impersonated))
    return proc


def finish(tl: Timeline, t: float, proc: Proc, status: str = "0x0") -> None:
    """End a process: Sysmon 5 and Security 4689."""
    host = proc.host
    sysmon = {
        "UtcTime": utc_time(t),
        "ProcessGuid": proc.guid,
        "ProcessId": str(proc.pid),
        "Image": proc.image,
    }
    if proc.sysmon:
        tl.add(t, host, SYSMON, 5, sysmon)
    sid, name, domain = subject(proc.session.account, host)
    security = {
        "SubjectUserSid": sid,
        "SubjectUserName": name,
        "SubjectDomainName": domain,
        "SubjectLogonId": ids.hex_upper(proc.session.logon_id),
        "ProcessId": ids.hex_lower(proc.pid),
        "ProcessName": proc.image,
        "Status": status,
    }
    tl.add(t + 0.001, host, SECURITY, 4689, security)


def _proc_fields(t: float, proc: Proc) -> dict[str, str]:
    return {
        "UtcTime": utc_time(t),
        "ProcessGuid": proc.guid,
        "ProcessId": str(proc.pid),
        "Image": proc.image,
    }


def image_load(tl: Timeline, t: float, proc: Proc, dll: str) -> None:
    """Sysmon 7: a signed Microsoft DLL loaded into ``proc``."""
    data = _proc_fields(t, proc)
    data |= {
        "ImageLoaded": dll,
        "Hashes": ids.hashes(dll),
        "Signed": "true",
        "Signature": "Microsoft Windows",
        "SignatureStatus": "Valid",
    }
    tl.add(t, proc.host, SYSMON, 7, data)


def file_create(tl: Timeline, t: float, proc: Proc, path: str) -> None:
    """Sysmon 11: ``proc`` created ``path``."""
    data = _proc_fields(t, proc)
    data |= {"TargetFilename": path, "CreationUtcTime": utc_time(t)}
    tl.add(t, proc.host, SYSMON, 11, data)


def registry_set(tl: Timeline, t: float, proc: Proc, key: str, details: str) -> None:
    """Sysmon 13: ``proc`` set a registry value."""
    data = {"EventType": "SetValue"} | _proc_fields(t, proc)
    data |= {"TargetObject": key, "Details": details}
    tl.add(t, proc.host, SYSMON, 13, data)
