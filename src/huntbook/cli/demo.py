"""``huntbook demo``: the seed's WMI hunt, end to end, on a simulated Frothly network."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from huntbook.demo import DEFAULT_EVENTS, DEFAULT_SEED


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("huntbook-demo"),
    show_default=True,
    help="Demo folder: raw logs, store and report.json/.md/.html.",
)
@click.option(
    "--events",
    type=click.IntRange(min=0),
    default=DEFAULT_EVENTS,
    show_default=True,
    help="About how many events to simulate (the seed's Results hold up to about 70,000).",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
def command(out: Path, events: int, seed: int) -> None:
    """Generate Frothly's logs, ingest them as botsv2, run the seed's WMI hunt, write the report.

    Generation and ingest are cached in OUT: a second run only re-runs the hunt.
    """
    from huntbook.demo.run import run_demo

    result = run_demo(
        out, events=events, seed=seed, progress=lambda line: click.echo(line, err=True)
    )
    click.echo(f"\nReport: {result.reports['html']}  (also report.md, report.json)")
    click.echo(f"Store:  {out / 'store'}  ({result.events:,} events, index botsv2)\n")
    width = max((len(q["title"]) for q in result.queries), default=10)
    click.echo(f"{'Search'.ljust(width)}  Hits  Seed")
    for query in result.queries:
        seed_hits = "" if query["seed"] is None else str(query["seed"])
        note = "" if query["status"] == "ok" else f"  ({query['status']})"
        click.echo(f"{query['title'].ljust(width)}  {query['hits']:>4}  {seed_hits:>4}{note}")
    click.echo("\nLateral movement:")
    for edge in result.edges or [{}]:
        if not edge:
            click.echo("  (none found)")
            continue
        click.echo(
            f"  {edge.get('source')} -> {edge.get('destination')}  {edge.get('method')}  "
            f"as {edge.get('account')}  {edge.get('first_seen')}"
        )
    took = sum(result.timings.values())
    cached = "" if result.generated else " (logs and store reused)"
    click.echo(f"\nDone in {took:.1f} s{cached}.")
    _next_steps(out / "store")


def _next_steps(store: Path) -> None:
    """The commands a newcomer types next, on this demo's store (every command takes --store)."""
    click.echo("\nNext, on the demo's store:")
    for line in NEXT_STEPS:
        click.echo("  " + line.format(store=shlex.quote(str(store))))
    click.echo(f"To explore it in your browser: huntbook serve --store {shlex.quote(str(store))}")


NEXT_STEPS = (
    "huntbook stats --store {store}",
    "huntbook search 'index=botsv2 EventCode=1 | stats count by host Image' --store {store}",
    "huntbook hunt list",
    "export HUNTBOOK_STORE={store}   # then --store can be left out",
)
