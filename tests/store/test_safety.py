"""A store that is missing, read-only, damaged or busy gets one clear answer (issue 10)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.processes import children

from huntbook.cli import main
from huntbook.errors import StoreDamagedError, StoreError, StoreMissingError
from huntbook.ingest import ingest
from huntbook.store import Store, core
from huntbook.store.compact import MERGED
from huntbook.store.testing import make_store

DATA = Path(__file__).resolve().parents[1] / "data"
SRC = str(Path(__file__).resolve().parents[2] / "src")
CHAIN = DATA / "wmi_chain.jsonl"
SEARCH = "index=* | stats count by EventCode"


def _huntbook(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``huntbook ARGS`` through the real entry point; its exit code."""
    monkeypatch.setattr(sys, "argv", ["huntbook", *args])
    with pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0)


def _run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "huntbook", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        **kwargs,
    )


def _chain_inputs(folder: Path, files: int = 3, lines: int = 50) -> Path:
    """``files`` distinct JSON-lines files of ``lines`` events each (the chain's 4624)."""
    first = orjson.loads(CHAIN.read_bytes().splitlines()[0])
    folder.mkdir()
    for f in range(files):
        rows = (orjson.dumps({**first, "RecordNumber": f * lines + i}) for i in range(lines))
        (folder / f"part{f:02d}.jsonl").write_bytes(b"\n".join(rows) + b"\n")
    return folder


# --- 1. a missing store -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "use",
    [Store.manifest, Store.connect, Store.stats, Store.compact, Store.repair, Store.damage],
    ids=lambda f: f.__name__,
)
def test_a_missing_store_is_one_error_and_nothing_is_created(
    tmp_path: Path, use: Callable[[Store], Any]
) -> None:
    path = tmp_path / "mistyped"
    with pytest.raises(StoreMissingError) as caught:
        use(Store(path))
    assert str(caught.value) == (
        f"no event store at {path}; create one with `huntbook ingest FILES --store {path}`"
    )
    assert caught.value.exit_code == 13
    assert not path.exists()


def test_a_folder_without_a_manifest_is_no_store(tmp_path: Path) -> None:
    with pytest.raises(StoreMissingError):
        Store(tmp_path).stats()


def test_an_empty_store_is_not_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_store(tmp_path / "s", []).path
    assert _huntbook(monkeypatch, "stats", "--store", str(path)) == 0
    assert capsys.readouterr().out == f"The store {path} holds no events.\n"
    assert _huntbook(monkeypatch, "search", SEARCH, "--store", str(path)) == 0
    assert f"Warning: the store {path} holds no events." in capsys.readouterr().err


def test_an_ingest_that_stores_nothing_still_creates_the_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\x00not json\n")
    summary = ingest(Store(tmp_path / "s"), [bad])
    assert len(summary.failed) == 1
    assert Store(tmp_path / "s").stats() == []


# --- 2. a store that cannot be written ---------------------------------------------------------
READ_ONLY = [(errno.EROFS, "read-only file system"), (errno.EACCES, "permission denied")]


@pytest.mark.parametrize(("code", "reason"), READ_ONLY, ids=["erofs", "eacces"])
@pytest.mark.parametrize("command", ["ingest", "compact", "repair"])
def test_a_read_only_store_is_a_store_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    code: int,
    reason: str,
) -> None:
    """As root chmod does not stop writes: the lock file's open fails as it would."""
    path = Store(tmp_path / "s").path
    ingest(Store(path), [CHAIN])
    real_open = os.open

    def read_only_open(target: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(code, os.strerror(code), str(target))
        return real_open(target, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)
    args = [str(CHAIN)] if command == "ingest" else []
    assert _huntbook(monkeypatch, command, *args, "--store", str(path)) == 13
    err = capsys.readouterr().err
    assert err == f"Error: cannot write to the store {path}: {reason} ({path / '.lock'})\n"


def test_a_failing_write_inside_the_store_is_a_store_error(tmp_path: Path) -> None:
    """The lock taken, the first folder made inside fails (a store made read-only meanwhile)."""
    store = make_store(tmp_path / "s", [{"_time": 1.0, "_raw": "x"}])
    with pytest.raises(StoreError, match=r"read-only file system \(.*tmp/w\)"), store.writing():
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(store.work_dir("w")))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod")
def test_a_chmod_read_only_store_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "s"
    ingest(Store(path), [CHAIN])
    for folder in [path, *path.rglob("*")]:
        folder.chmod(0o555 if folder.is_dir() else 0o444)
    try:
        proc = _run("ingest", str(DATA / "wmi_chain_sysmon.xml"), "--store", str(path))
    finally:
        for folder in [path, *path.rglob("*")]:
            folder.chmod(0o755 if folder.is_dir() else 0o644)
    assert proc.returncode == 13
    assert f"Error: cannot write to the store {path}: permission denied" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- 3. a damaged store -----------------------------------------------------------------------
def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def _overwrite_with_fewer_rows(file: Path) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(file)
    pq.write_table(table.slice(0, table.num_rows - 1), file)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "deleted": Path.unlink,
    "truncated": _truncate,
    "emptied": lambda f: f.write_bytes(b""),
    "fewer rows": _overwrite_with_fewer_rows,
}


def _reason(file: Path, name: str, size: int) -> str:
    """What the (cheap) check on open says about a damaged batch file."""
    if not file.exists():
        return f"{name} is missing"
    return f"{name} is {file.stat().st_size:,} bytes, the manifest says {size:,}"


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_batch_is_named_repaired_and_its_files_ingested_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    inputs = _chain_inputs(tmp_path / "in", files=2)
    other = tmp_path / "other.xml"
    shutil.copy(DATA / "wmi_chain_sysmon.xml", other)
    path = tmp_path / "s"
    store = Store(path)
    ingest(store, [inputs])  # batch b000001: both files
    ingest(store, [other])  # batch b000002
    assert _huntbook(monkeypatch, "search", SEARCH, "--store", str(path), "--format", "json") == 0
    before = orjson.loads(capsys.readouterr().out)

    file = path / "events" / "b000001" / MERGED
    size = file.stat().st_size
    DAMAGE[kind](file)
    reason = _reason(file, f"events/b000001/{MERGED}", size)
    names = ", ".join(str(p.resolve()) for p in sorted(inputs.iterdir()))
    expected = f"batch b000001: {reason}"
    for command in (["search", SEARCH], ["stats"], ["ingest", str(inputs)], ["compact"]):
        assert _huntbook(monkeypatch, *command, "--store", str(path)) == 13
        err = capsys.readouterr().err
        assert err.startswith(f"Error: the store {path} is damaged:\n  {expected}")
        assert f"; it holds {names}\n" in err
        assert err.endswith(
            f"Run `huntbook repair --store {path}` to drop the damaged batches, "
            "then ingest their files again.\n"
        )

    assert _huntbook(monkeypatch, "repair", "--store", str(path)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Dropped batch b000001 (100 events): {reason}\n")
    assert all(f"  {p.resolve()}\n" in out for p in inputs.iterdir())
    assert not (path / "events" / "b000001").exists()
    assert (path / "events" / "b000002" / MERGED).is_file()
    assert _huntbook(monkeypatch, "repair", "--store", str(path)) == 0
    assert "nothing to repair" in capsys.readouterr().out

    assert _huntbook(monkeypatch, "ingest", str(inputs), "--store", str(path)) == 0
    assert "Ingested 100 events from 2 files" in capsys.readouterr().out
    assert _huntbook(monkeypatch, "search", SEARCH, "--store", str(path), "--format", "json") == 0
    assert orjson.loads(capsys.readouterr().out) == before


OLD_DAMAGE = {
    "truncated": (_truncate, r"is truncated or overwritten \(no Parquet footer in its \d+ bytes\)"),
    "emptied": (DAMAGE["emptied"], r"is truncated \(0 bytes\)"),
    "fewer rows": (_overwrite_with_fewer_rows, r"its files hold 99 rows, the manifest says 100"),
}


@pytest.mark.parametrize("kind", list(OLD_DAMAGE))
def test_a_store_without_recorded_sizes_is_checked_by_its_footers(
    tmp_path: Path, kind: str
) -> None:
    """Stores written before sizes were recorded: magic and footer row counts, on every open."""
    path = tmp_path / "s"
    ingest(Store(path), [_chain_inputs(tmp_path / "in", files=2)])
    manifest = orjson.loads((path / "manifest.json").read_bytes())
    del manifest["batches"][0]["bytes"]
    (path / "manifest.json").write_bytes(orjson.dumps(manifest))
    damage, says = OLD_DAMAGE[kind]
    damage(path / "events" / "b000001" / MERGED)
    with pytest.raises(StoreDamagedError, match=f"batch b000001: .*{says}"):
        Store(path).connect()


def test_a_writer_records_the_sizes_an_older_store_lacks(tmp_path: Path) -> None:
    path = tmp_path / "s"
    ingest(Store(path), [CHAIN])
    manifest = orjson.loads((path / "manifest.json").read_bytes())
    recorded = manifest["batches"][0].pop("bytes")
    (path / "manifest.json").write_bytes(orjson.dumps(manifest))
    Store(path).compact()
    assert Store(path).manifest()["batches"][0]["bytes"] == recorded


def test_a_sound_store_is_checked_once_per_store_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_store(tmp_path / "s", [{"_time": 1.0, "_raw": "x"}]).path
    make_store(path, [{"_time": 2.0, "_raw": "y"}])
    store = Store(path)
    checked: list[str] = []
    real = core.damaged_batches

    def counting(root: Path, batches: Any) -> Any:
        batches = list(batches)
        checked.extend(b["id"] for b in batches)
        return real(root, batches)

    monkeypatch.setattr(core, "damaged_batches", counting)
    store.connect()
    store.connect()
    assert checked == ["b000001", "b000002"]


def test_a_batch_is_fsynced_before_the_manifest_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path / "s", [])
    calls: list[str] = []
    monkeypatch.setattr(
        core, "fsync_path", lambda p: calls.append(f"fsync {p.relative_to(store.path)}")
    )
    real_write = core.write_manifest
    monkeypatch.setattr(
        core, "write_manifest", lambda root, m: (calls.append("manifest"), real_write(root, m))
    )
    with store.writing():
        entry = store.write_batch([{"_time": 1.0, "_raw": "x"}])
    work = f"tmp/{entry['id']}"
    assert calls == [
        f"fsync {work}/{MERGED}",
        f"fsync {work}",
        "fsync events",
        "manifest",
    ]


def test_the_manifest_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    make_store(tmp_path / "s", [])
    assert synced  # the empty manifest of a new store: file then folder


# --- 4. a manifest write that fails after the batch folder moved in --------------------------
def test_a_failed_manifest_write_leaves_no_folder_for_the_retry_to_trip_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _chain_inputs(tmp_path / "in", files=3)
    store = make_store(tmp_path / "s", [])
    real_write = core.write_manifest
    failures = [OSError(errno.EIO, "Input/output error")]

    def once(root: Path, manifest: dict[str, Any]) -> None:
        if failures:
            raise failures.pop()
        real_write(root, manifest)

    monkeypatch.setattr(core, "write_manifest", once)
    summary = ingest(store, [inputs])
    assert [f.error for f in summary.failed] == []
    assert len(summary.stored) == 3 and not failures
    batches = Store(store.path).manifest()["batches"]
    assert [b["id"] for b in batches] == ["b000002", "b000003", "b000004"]
    assert sorted(p.name for p in (store.path / "events").iterdir()) == [
        "b000002",
        "b000003",
        "b000004",
    ]
    con = Store(store.path).connect()
    assert con.execute("SELECT count(*) FROM events").fetchone() == (150,)


# --- 5. Ctrl-C during a parallel ingest --------------------------------------------------------
def _workers(pid: int) -> set[int]:
    """The reading workers of ingest ``pid``: forked by its one child, ingest/workers.py."""
    return {worker for forker in children(pid) for worker in children(forker)}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc")
def test_ctrl_c_during_a_parallel_ingest_exits_130_without_tracebacks(tmp_path: Path) -> None:
    inputs = _chain_inputs(tmp_path / "in", files=16, lines=6000)  # long enough on a loaded box
    env = {**os.environ, "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "huntbook", "ingest", str(inputs), "--workers", "2"]
    proc = subprocess.Popen(
        [*command, "--store", str(tmp_path / "s")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a job
    )
    deadline = time.monotonic() + 60
    while len(_workers(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_workers(proc.pid)) == 2, "the ingest did not start two workers"
    time.sleep(0.5)  # the workers are importing or reading
    assert proc.poll() is None, "the ingest ended before it could be interrupted"
    # Ctrl-C at the terminal signals the whole group. An ingest busy in a long C call (a Parquet
    # write) reacts late, when its workers may have printed tracebacks: stopped, it reacts late.
    os.kill(proc.pid, signal.SIGSTOP)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGCONT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().endswith("Aborted.")


# --- 6. a second writer waits, and says so ------------------------------------------------------
HOLD = (
    "import sys, time; from pathlib import Path; from huntbook.store.manifest import store_lock; "
    "lock = store_lock(Path(sys.argv[1])); lock.__enter__(); print('held', flush=True); "
    "time.sleep(float(sys.argv[2]))"
)


def test_an_ingest_into_a_locked_store_says_it_waits_then_goes_on(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s", []).path
    env = {**os.environ, "PYTHONPATH": SRC}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), "8"], env=env, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    started = time.monotonic()
    proc = _run("ingest", str(CHAIN), "--store", str(path))
    waited = time.monotonic() - started
    holder.wait()
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        f"Waiting for the other ingest (or compact, repair) writing to {path} "
        f"(pid {holder.pid}); going on when it is done.\n"
    )
    assert "Ingested" in proc.stdout
    assert waited > 1.0
    assert Store(path).event_count() > 0


def test_a_free_store_is_written_without_a_word(tmp_path: Path) -> None:
    said: list[int | None] = []
    store = Store(make_store(tmp_path / "s", []).path, on_wait=said.append)
    with store.writing():
        pass
    assert said == []


def test_a_missing_store_check_comes_before_the_lock(tmp_path: Path) -> None:
    """compact on a mistyped path must not create it (through the lock file)."""
    with pytest.raises(StoreMissingError), Store(tmp_path / "typo").writing():
        pass
    assert not (tmp_path / "typo").exists()


def test_damage_is_a_store_damaged_error(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", [{"_time": 1.0, "_raw": "x"}])
    (store.path / "events" / "b000001" / MERGED).unlink()
    with pytest.raises(StoreDamagedError) as caught:
        Store(store.path).connect()
    assert caught.value.exit_code == 13
    assert [d.batch["id"] for d in Store(store.path).damage()] == ["b000001"]
