"""Turn ``HuntbookError`` into a message on stderr and a documented exit code (docs/errors.md)."""

from __future__ import annotations

import os
import sys

import click

from huntbook.errors import HuntbookError

# The reader of huntbook's output closed it early (`huntbook search ... | head`): 128 + SIGPIPE, the
# code `cat` and other Unix tools end with there (docs/errors.md).
OUTPUT_CLOSED = 141


def output_closed() -> int:
    """stdout's reader has gone: point stdout at /dev/null, so that Python's flush at exit does not
    fail a second time with a traceback-like warning, and return ``OUTPUT_CLOSED``."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return OUTPUT_CLOSED


def run_guarded(command: click.Command) -> int:
    """Run a click command; a HuntbookError prints ``Error: ...`` and returns its exit code.

    Outside standalone mode click returns the code of ``ctx.exit(n)`` / ``raise Exit(n)`` (and a
    command's return value, None for ours): that code is the process's.
    """
    try:
        code = command.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except HuntbookError as exc:
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    try:  # output still buffered is written now, while a closed pipe can still be told apart
        sys.stdout.flush()
    except BrokenPipeError:
        return output_closed()
    return code if isinstance(code, int) else 0
