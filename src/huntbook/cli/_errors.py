"""Turn ``HuntbookError`` into a message on stderr and a documented exit code (docs/errors.md)."""

from __future__ import annotations

import click

from huntbook.errors import HuntbookError


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
    return code if isinstance(code, int) else 0
