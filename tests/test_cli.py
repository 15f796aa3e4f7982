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


def test_commands_load_on_use_and_one_named_unlike_its_module_is_found(monkeypatch):
    """The group imports a command's module when it runs; a name that is not a module's is
    looked up through every command instead of being reported missing."""
    import types

    import click

    import huntbook.cli as package

    module = types.ModuleType("huntbook.cli.renamed")
    module.command = click.Command("other-name", help="A command named unlike its module.")
    monkeypatch.setitem(sys.modules, "huntbook.cli.renamed", module)
    monkeypatch.setattr(package, "COMMAND_MODULES", ("huntbook.cli.renamed",))
    group = package.LazyGroup(name="huntbook")
    monkeypatch.setattr(package, "cli", group)
    context = click.Context(group)
    assert group.get_command(context, "other-name") is module.command
    assert group.get_command(context, "no-such-command") is None
    assert list(group.commands) == ["other-name"]
