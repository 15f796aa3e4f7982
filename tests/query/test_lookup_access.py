"""Lookups come only from the store's lookups folder and folders the user names (issues 10, 14).

A search must not read other files (absolute paths, cwd-relative paths, ``..``, symlinks), and no
DuckDB message may quote a file's content: not in the error, not in a hunt's report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from huntbook.errors import LookupAccessError, QueryError, QueryRuntimeError, SplSyntaxError
from huntbook.query import run_spl
from huntbook.store.testing import make_store
from huntbook.workspace import Workspace

SECRET = "s3cret-line-do-not-leak"
EVENTS = [{"_time": 1500000000, "user": "alice", "_raw": "user=alice"}]


@pytest.fixture
def store(tmp_path: Path):
    built = make_store(tmp_path / "store", EVENTS)
    (tmp_path / "store" / "lookups").mkdir()
    (tmp_path / "store" / "lookups" / "users.csv").write_text("user,dept\nalice,eng\n")
    return built


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside every lookup folder whose lines must never reach a message."""
    path = tmp_path / "private" / "secret.csv"
    path.parent.mkdir()
    path.write_text(f"{SECRET}:x:0:0\nroot:x:0:0\n")
    return path


@pytest.mark.parametrize(
    "spl",
    [
        "| inputlookup {path}",
        "| makeresults | lookup {path} user",
        "| inputlookup ../private/secret.csv",
        "| inputlookup ../../private/secret",
        "| inputlookup private/secret.csv",
    ],
)
def test_paths_outside_the_lookup_folders_are_refused(store, secret: Path, spl: str) -> None:
    with pytest.raises(LookupAccessError) as caught:
        run_spl(store, spl.format(path=secret))
    message = str(caught.value)
    assert str(store.path / "lookups") in message  # names the folders allowed
    assert SECRET not in message


def test_a_path_relative_to_the_current_folder_is_not_read(
    store, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(secret.parent)
    with pytest.raises(QueryError) as caught:
        run_spl(store, "| inputlookup secret.csv")
    assert "not found" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_symlink_out_of_the_lookups_folder_is_refused(store, secret: Path) -> None:
    (store.path / "lookups" / "link.csv").symlink_to(secret)
    with pytest.raises(LookupAccessError, match="link.csv"):
        run_spl(store, "| inputlookup link.csv")


def test_a_symlinked_lookups_folder_still_works(tmp_path: Path, store) -> None:
    """Containment is checked on real paths, so a folder reached through a symlink is fine."""
    (tmp_path / "linked").symlink_to(store.path / "lookups")
    result = run_spl(store, "| inputlookup users", lookups=[tmp_path / "linked"])
    assert result.rows() == [{"user": "alice", "dept": "eng"}]


def test_folders_named_by_the_user_are_readable(store, secret: Path) -> None:
    result = run_spl(store, "| inputlookup secret.csv", lookups=[secret.parent])
    assert result.columns == [f"{SECRET}:x:0:0"]
    workspace = Workspace(store.path, lookups=[secret.parent])
    assert len(workspace.search("| inputlookup secret")) == 1
    assert len(Workspace(store.path).search("| inputlookup secret", lookups=[secret.parent])) == 1


def test_an_unknown_lookup_field_is_named_with_the_header(store) -> None:
    with pytest.raises(SplSyntaxError) as caught:
        run_spl(store, "| makeresults | lookup users.csv login OUTPUT dept")
    assert "lookup 'users.csv' has no field 'login'; its fields are user, dept" in str(caught.value)
    assert caught.value.col == 17  # the lookup command's position


def test_an_unknown_output_field_is_named_with_the_header(store) -> None:
    with pytest.raises(SplSyntaxError, match="has no field 'title'; its fields are user, dept"):
        run_spl(store, "| makeresults | lookup users.csv user OUTPUT title")


def test_engine_errors_never_quote_sql_or_file_content(store) -> None:
    """A lookup file with a ragged line fails in DuckDB; the message is in SPL terms only."""
    (store.path / "lookups" / "bad.csv").write_text(f"user,dept\nalice,eng,{SECRET}\n")
    with pytest.raises(QueryRuntimeError) as caught:
        run_spl(store, "| inputlookup bad.csv")
    message = str(caught.value)
    assert SECRET not in message
    assert "SELECT" not in message and "read_csv" not in message
    assert "lookup file" in message


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huntbook", *args], capture_output=True, text=True, check=False
    )


def test_cli_lookups_option(store, secret: Path) -> None:
    spl = "| inputlookup secret.csv"
    refused = _cli("search", spl, "--store", str(store.path))
    assert refused.returncode == 12, refused.stderr
    allowed = _cli(
        "search", spl, "--store", str(store.path), "--lookups", str(secret.parent), "--format",
        "json",
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert SECRET in allowed.stdout
    outside = _cli("search", f"| inputlookup {secret}", "--store", str(store.path))
    assert outside.returncode == 12
    assert "not a plain lookup name" in outside.stderr and "Traceback" not in outside.stderr
    assert SECRET not in outside.stderr


PLAYBOOK = """# Lookup Leak

## Description

Reads a lookup.

| Field | Description |
|-------|-------------|
| Created | 01/01/2024 |

| MITRE ATT&CK Technique | IDs |
|------------------------|-----|
| Windows Management Instrumentation | [T1047](https://attack.mitre.org/techniques/T1047) |

## Hypothesis

None.

## Data That is Needed

- Process Monitoring

## Queries

Outside

```spl
| makeresults | lookup {path} user
```

Ragged

```spl
| inputlookup {name}
```

## Results

| Search | Hits |
|--------|------|
| Outside | 0 |

## Conclusion

To be generated.

## Outputs and Follow-up Tasks

- Task: none.

## Notes

None.

## References

- <https://attack.mitre.org/techniques/T1047>
"""


def test_a_hunt_report_does_not_hold_the_file_content(store, secret: Path, tmp_path: Path) -> None:
    from huntbook.hunts import run_hunt

    # Both queries fail: one names a file outside the folders, one a file DuckDB cannot parse.
    (store.path / "lookups" / "ragged.csv").write_text(f"user,dept\nalice,eng,{SECRET}\n")
    book = tmp_path / "leak.md"
    book.write_text(PLAYBOOK.format(path=secret, name="ragged.csv"))
    result = run_hunt(store, book, out=tmp_path / "report")
    assert [q.status for q in result.queries] == ["error", "error"]
    assert "not a plain lookup name" in (result.queries[0].error or "")
    html = (tmp_path / "report" / "report.html").read_text()
    assert SECRET not in html
    assert "root:x:0:0" not in html
