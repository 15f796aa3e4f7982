"""``huntbook generate``: raw logs of the simulated Frothly network, at any size."""

from __future__ import annotations

import time
from pathlib import Path

import click

from huntbook.demo import DEFAULT_EVENTS, DEFAULT_SEED, generate


@click.command("generate")
@click.option(
    "--events",
    "-n",
    type=click.IntRange(min=0),
    default=DEFAULT_EVENTS,
    show_default=True,
    help="About how many events to write (the attack is always included).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Destination folder: one folder per host with its Sysmon XML and Security text.",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
def command(events: int, out: Path, seed: int) -> None:
    """Write a Frothly-like network's raw Windows logs (Sysmon XML, Security/System text).

    Three days (2017-08-23..25) of workstations, a file server and a DC, with the seed hunt's
    attack: an Empire stager on wrk-btun moving over WMI to venus and wrk-klagerf. The same seed
    and size give byte-identical files. Ingest them with `huntbook ingest OUT --index botsv2`.
    """
    started = time.perf_counter()
    summary = generate(out, events=events, seed=seed)
    elapsed = time.perf_counter() - started
    rate = summary.events / elapsed if elapsed else 0.0
    click.echo(
        f"Wrote {summary.events:,} events for {len(summary.files) // 2} hosts to {out} "
        f"in {elapsed:.1f} s ({rate:,.0f} events/s)."
    )
