"""Options that several commands share, defined once."""

from __future__ import annotations

from pathlib import Path

import click

store_option = click.option(
    "--store",
    "store",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Event store directory (default $HUNTBOOK_STORE or ./huntbook-store).",
)

lookups_option = click.option(
    "--lookups",
    "lookups",
    multiple=True,
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder lookup/inputlookup may read tables from, besides the store's lookups/; "
    "repeatable. Nothing else is readable.",
)
