from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

import huntbook
from huntbook.cli import cli


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert huntbook.__version__ in result.output


def test_every_command_has_help():
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert command.help, f"huntbook {name} has no help text"
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, result.output


def test_unknown_command_is_a_usage_error_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "huntbook", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "No such command" in proc.stderr


def test_a_listed_command_module_that_does_not_import_is_an_error(monkeypatch):
    """No command silently vanishes from the CLI because its module failed to import."""
    import huntbook.cli as package

    monkeypatch.setattr(package, "COMMAND_MODULES", ("huntbook.cli.no_such_command",))
    with pytest.raises(ModuleNotFoundError, match="huntbook.cli.no_such_command"):
        package._register()
