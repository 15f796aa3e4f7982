"""The ``huntbook`` command: a thin adapter over ``huntbook.Workspace``.

Each sub-command lives in its own module here and is listed in ``COMMAND_MODULES``; a module
exposes ``command`` (a click command or group). Only this package prints or exits.
"""

from __future__ import annotations

import importlib
import sys

import click

from huntbook import __version__
from huntbook.cli._errors import output_closed, run_guarded

COMMAND_MODULES = (
    "huntbook.cli.ingest",
    "huntbook.cli.stats",
    "huntbook.cli.compact",
    "huntbook.cli.repair",
    "huntbook.cli.search",
    "huntbook.cli.hunt",
    "huntbook.cli.findings",
    "huntbook.cli.demo",
    "huntbook.cli.generate",
    "huntbook.cli.serve",
    "huntbook.cli.detect",
)


class LazyGroup(click.Group):
    """Imports a sub-command's module when that command runs (``huntbook detect`` does not load the
    hunt renderer); whatever lists the commands (``--help``, ``cli.commands``) imports them all."""

    _complete = False

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        if not self._complete:
            self._complete = True
            _register()
        return self._loaded

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._loaded = dict(value)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = f"huntbook.cli.{cmd_name}"
        if cmd_name not in self._loaded and module in COMMAND_MODULES:
            self._loaded[cmd_name] = importlib.import_module(module).command
        # a command not named after its module (or no such command): look through them all
        return self._loaded.get(cmd_name) or self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        """A closed output pipe ends the command with ``OUTPUT_CLOSED`` (click alone would exit 1,
        the code of an error, without a word); the search writing it stops there."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise click.exceptions.Exit(output_closed()) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="huntbook")
def cli() -> None:
    """huntbook: run SPL hunts on raw Windows logs and get a report a hunter would sign."""


def _register() -> None:
    for name in COMMAND_MODULES:
        cli.add_command(importlib.import_module(name).command)


def main() -> None:
    """Console-script entry point."""
    sys.exit(run_guarded(cli))
