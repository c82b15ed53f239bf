"""``matneo reviews``: perinatal mortality reviews from the command line.

Registered in the main CLI as ``app.add_typer(reviews_app, name="reviews")``. The command line
runs with the rights of whoever holds the files (like ``matneo load``): it is not scoped.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

__all__ = ["reviews_app"]

reviews_app = typer.Typer(help="Perinatal mortality reviews (PMRT-style).", no_args_is_help=True)


@reviews_app.callback()
def _reviews() -> None:
    """Perinatal mortality reviews (docs/reviews.md)."""


@reviews_app.command("due")
def due_command(
    org: Annotated[
        str | None, typer.Option(help="Only deaths at the trusts of this organisation (trust, LMNS, region, ENG).")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    today: Annotated[str | None, typer.Option(help="Count days since death as of YYYY-MM-DD (default today).")] = None,
) -> None:
    """List every death in the birth records that needs a review and has none (nor a linked harm report)."""
    from matneo.config import get_settings
    from matneo.db.session import prepare
    from matneo.reference.organisations import load_hierarchy
    from matneo.reviews.due import due_for_trusts

    if output not in ("table", "json"):
        typer.echo("error: --format must be table or json", err=True)
        raise typer.Exit(code=2)
    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        typer.echo(f"error: --today must be a date YYYY-MM-DD, got {today!r}", err=True)
        raise typer.Exit(code=2) from None
    hierarchy = load_hierarchy()
    if org:
        try:
            hierarchy.get(org)
        except KeyError:
            typer.echo(f"error: no organisation with code {org!r}", err=True)
            raise typer.Exit(code=2) from None
        trusts = [t.code for t in hierarchy.trusts_under(org)]
    else:
        trusts = [t.code for t in hierarchy.trusts()]
    settings = get_settings()
    settings.ensure_dirs()
    prepare(settings.database_url)
    deaths = due_for_trusts(settings, trusts, day)
    keys = ("record_id", "trust_code", "outcome", "gestation", "birth_date", "death_date", "days_since_death")
    if output == "json":
        typer.echo(json.dumps([{k: d[k] for k in keys} for d in deaths], indent=2))
        return
    if not deaths:
        typer.echo("No deaths are waiting for a review.")
        return
    typer.echo("\t".join(keys))
    for d in deaths:
        typer.echo("\t".join(str(d[k]) for k in keys))
    typer.echo(f"{len(deaths)} death{'' if len(deaths) == 1 else 's'} waiting for a review.")
