"""Logon sessions: 4624 (with 4672 for privileged accounts), 4634, 4648 and the DC's 4769/4776.

The field values follow real Windows 10 renderings of each logon type (Security-Datasets
recordings): a network logon has a NULL SID subject and no process; an interactive one is made by
winlogon.exe under the machine account; Kerberos logons carry a Logon GUID and the DNS domain,
NTLM ones the client's NetBIOS name in Workstation Name.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from huntbook.demo import ids
from huntbook.demo.events import SECURITY, Timeline, subject
from huntbook.demo.model import Account, Host, Network, Proc, Session

ZERO_GUID = "{00000000-0000-0000-0000-000000000000}"
ADMIN_PRIVILEGES = (
    "SeSecurityPrivilege",
    "SeBackupPrivilege",
    "SeRestorePrivilege",
    "SeTakeOwnershipPrivilege",
    "SeDebugPrivilege",
    "SeSystemEnvironmentPrivilege",
    "SeLoadDriverPrivilege",
    "SeImpersonatePrivilege",
    "SeDelegateSessionUserImpersonatePrivilege",
)
SYSTEM_PRIVILEGES = (
    "SeAssignPrimaryTokenPrivilege",
    "SeTcbPrivilege",
    *ADMIN_PRIVILEGES,
)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a remote logon comes from."""

    ip: str = "-"
    port: str = "-"
    workstation: str = "-"
    auth: str = "Negotiate"  # Kerberos | NTLM | Negotiate


def _special(tl: Timeline, t: float, host: Host, session: Session) -> None:
    privileges = SYSTEM_PRIVILEGES if session.account.sid == "S-1-5-18" else ADMIN_PRIVILEGES
    sid, name, domain = subject(session.account, host)
    data = {
        "SubjectUserSid": sid,
        "SubjectUserName": name,
        "SubjectDomainName": domain,
        "SubjectLogonId": ids.hex_upper(session.logon_id),
        "PrivilegeList": "\n\t\t\t".join(privileges),
    }
    tl.add(t, host, SECURITY, 4672, data)


def _auth_fields(session: Session, origin: Origin, host: Host, net: Network) -> dict[str, str]:
    kerberos = origin.auth == "Kerberos"
    ntlm = origin.auth == "NTLM"
    process = "Kerberos" if kerberos else "NtLmSsp " if ntlm else "User32 "
    if session.logon_type == 5:
        process = "Advapi  "
    guid = ids.kerberos_logon_guid(host.name, session.logon_id) if kerberos else ZERO_GUID
    return {
        "LogonGuid": guid,
        "LogonProcessName": process,
        "AuthenticationPackageName": "NTLM" if ntlm else origin.auth,
        "TransmittedServices": "-",
        "LmPackageName": "NTLM V2" if ntlm else "-",
        "KeyLength": "128" if ntlm else "0",
        "TargetDomainName": net.dns_domain.upper() if kerberos else session.account.domain,
    }


def logon(
    tl: Timeline,
    t: float,
    net: Network,
    host: Host,
    session: Session,
    origin: Origin,
    process: Proc | None = None,
) -> None:
    """Write the 4624 that opens ``session`` (and the 4672 before it for privileged accounts)."""
    if session.account.admin:
        _special(tl, t, host, session)
    remote = session.logon_type == 3
    sid, name, domain = (
        ("NULL SID", "-", "-") if remote else subject(net.well_known["system"], host)
    )
    acct = session.account
    data = {
        "SubjectUserSid": sid,
        "SubjectUserName": name,
        "SubjectDomainName": domain,
        "SubjectLogonId": "0x0" if remote else ids.hex_upper(ids.SYSTEM_LOGON),
        "LogonType": str(session.logon_type),
        "RestrictedAdminMode": "No" if session.logon_type == 10 else "-",
        "VirtualAccount": "No",
        "ElevatedToken": "Yes" if acct.admin else "No",
        "ImpersonationLevel": "Impersonation",
        "TargetUserSid": acct.display,
        "TargetUserName": acct.name,
        "TargetDomainName": acct.domain,
        "TargetLogonId": ids.hex_upper(session.logon_id),
        "TargetLinkedLogonId": "0x0",
        "TargetOutboundUserName": "-",
        "TargetOutboundDomainName": "-",
        "ProcessId": ids.hex_lower(process.pid) if process else "0x0",
        "ProcessName": process.image if process else "-",
        "WorkstationName": origin.workstation,
        "IpAddress": origin.ip,
        "IpPort": origin.port,
    }
    data |= _auth_fields(session, origin, host, net)
    tl.add(t + 0.0005, host, SECURITY, 4624, data)


def logoff(tl: Timeline, t: float, host: Host, session: Session) -> None:
    """4634 for ``session``."""
    acct = session.account
    data = {
        "TargetUserSid": acct.display,
        "TargetUserName": acct.name,
        "TargetDomainName": acct.domain,
        "TargetLogonId": ids.hex_upper(session.logon_id),
        "LogonType": str(session.logon_type),
    }
    tl.add(t, host, SECURITY, 4634, data)


def explicit_credentials(
    tl: Timeline, t: float, proc: Proc, target: Account, server: str, net: Network
) -> None:
    """4648: ``proc`` used ``target``'s credentials (scheduled tasks, runas)."""
    sid, name, domain = subject(proc.session.account, proc.host)
    data = {
        "SubjectUserSid": sid,
        "SubjectUserName": name,
        "SubjectDomainName": domain,
        "SubjectLogonId": ids.hex_upper(proc.session.logon_id),
        "LogonGuid": ZERO_GUID,
        "TargetUserName": target.name,
        "TargetDomainName": net.dns_domain.upper(),
        "TargetLogonGuid": ids.kerberos_logon_guid(server, target.name, int(t)),
        "TargetServerName": server,
        "TargetInfo": server,
        "ProcessId": ids.hex_lower(proc.pid),
        "ProcessName": proc.image,
        "IpAddress": "-",
        "IpPort": "-",
    }
    tl.add(t, proc.host, SECURITY, 4648, data)


def service_ticket(
    tl: Timeline,
    t: float,
    dc: Host,
    account: Account,
    service: Host,
    client_ip: str,
    rng: random.Random,
    net: Network,
) -> None:
    """4769 on the DC: ``account`` asked for a ticket to ``service``."""
    data = {
        "TargetUserName": f"{account.name}@{net.dns_domain.upper()}",
        "TargetDomainName": net.dns_domain.upper(),
        "LogonGuid": ids.kerberos_logon_guid(service.name, account.name, int(t)),
        "ServiceName": service.machine.name,
        "ServiceSid": service.machine.sid,
        "IpAddress": f"::ffff:{client_ip}",
        "IpPort": str(rng.randint(49152, 65535)),
        "TicketOptions": "0x40810000",
        "TicketEncryptionType": "0x12",
        "Status": "0x0",
        "TransmittedServices": "-",
    }
    tl.add(t, dc, SECURITY, 4769, data)


def credential_validation(
    tl: Timeline, t: float, dc: Host, account: Account, workstation: str
) -> None:
    """4776 on the DC: an NTLM logon's credentials checked."""
    data = {
        "PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0",
        "TargetUserName": account.name,
        "Workstation": workstation,
        "Status": "0x0",
    }
    tl.add(t, dc, SECURITY, 4776, data)
