"""``matneo harm``: route a harm report from a JSON file.

Registered in the main CLI as ``app.add_typer(harm_app, name="harm")``. Exit status 0 on success,
2 on a report that cannot be routed or a file that cannot be read (message on stderr).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from matneo.harm.report import HarmReportError
from matneo.harm.routing import route
from matneo.harm.rules import RoutingOptions

__all__ = ["harm_app"]

harm_app = typer.Typer(
    help="Harm routing: which national and local bodies a maternity or neonatal harm report goes to.",
    no_args_is_help=True,
)


@harm_app.callback()
def _harm() -> None:
    """Harm routing (rules: docs/harm-routing.md)."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _read_json(source: str, what: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {what} {source}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"{what} {source} is not valid JSON: {exc}") from None


@harm_app.command("route")
def route_command(
    file: Annotated[
        str,
        typer.Argument(
            help="Report JSON file (its fields: the harm routing guide, served by `matneo serve` at "
            "/guides/harm-routing#input), or - for stdin."
        ),
    ],
    today: Annotated[
        str | None, typer.Option(help="Routing date YYYY-MM-DD (default: today); default incident_known_date.")
    ] = None,
    options: Annotated[
        str | None,
        typer.Option(
            help='Routing options JSON file: {"rules": {...}, "brain_injury_criteria": {...}, "deadlines": {...}}.'
        ),
    ] = None,
) -> None:
    """Print the routes, deadlines and pending unknowns of one report as JSON."""
    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise _fail(f"--today must be a date YYYY-MM-DD, got {today!r}") from None
    routing_options = None
    if options:
        try:
            routing_options = RoutingOptions.from_dict(_read_json(options, "options file"))
        except (ValueError, TypeError) as exc:
            raise _fail(f"options file {options}: {exc}") from None
    report = _read_json(file, "report file")
    try:
        result = route(report, routing_options, today=day)
    except HarmReportError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


@harm_app.command("overdue-check")
def overdue_check_command(
    today: Annotated[str | None, typer.Option(help="Check as of YYYY-MM-DD (default: today).")] = None,
) -> None:
    """Notify each owning trust of harm-report routes past their deadline (run daily, e.g. from cron).

    Safe to run any number of times: each overdue route gets one notification. `matneo serve`
    also runs it at start and every hour.
    """
    from matneo.cli import context
    from matneo.config import get_mail_settings
    from matneo.harm.portal import overdue_check
    from matneo.harm.portal.mail import send_notifications

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise _fail(f"--today must be a date YYYY-MM-DD, got {today!r}") from None
    settings = context.prepared()
    made = overdue_check(settings.database_url, day)
    typer.echo(f"{made} new overdue notification{'' if made == 1 else 's'}.")
    from matneo.reviews.notices import overdue_check as review_overdue_check

    notices = review_overdue_check(settings.database_url, day)
    typer.echo(f"{notices} new overdue review notice{'' if notices == 1 else 's'}.")
    try:
        mail = get_mail_settings()
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if mail is not None:
        try:
            sent = send_notifications(settings.database_url, mail)
        except OSError as exc:  # smtplib errors are OSErrors
            raise _fail(f"could not e-mail the notifications through {mail.host}:{mail.port}: {exc}") from None
        typer.echo(f"E-mailed {sent} notification{'' if sent == 1 else 's'}.")
        from matneo.reviews.mail import send_review_notices

        try:
            mailed = send_review_notices(settings.database_url, mail)
        except OSError as exc:
            raise _fail(f"could not e-mail the review notices through {mail.host}:{mail.port}: {exc}") from None
        typer.echo(f"E-mailed {mailed} review notice{'' if mailed == 1 else 's'}.")
