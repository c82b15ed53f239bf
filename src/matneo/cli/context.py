"""The command line's composition root: the one place the CLI reads the environment into
:class:`~matneo.config.Settings`, which every command then passes on explicitly.

Kept apart from :mod:`matneo.cli.main` so that command groups defined elsewhere
(:mod:`matneo.harm.cli`) can use it without importing the whole CLI.
"""

from __future__ import annotations

import typer
from rich.console import Console

from matneo.config import Settings, get_settings
from matneo.db.session import DatabaseBehind, prepare
from matneo.reference.organisations import OrgHierarchy, load_hierarchy


def _console(stderr: bool = False) -> Console:
    """Rich output fitted to a terminal; piped (into a file, ``less``, ``grep`` or a program), no
    line is wrapped: Rich would otherwise break long lines at 80 columns, splitting a path or a
    message over two lines that nothing can read back (issue 10, "Words people understand")."""
    made = Console(stderr=stderr)
    made.soft_wrap = not made.is_terminal
    return made


console = _console()
errors = _console(stderr=True)


def settings() -> Settings:
    """This instance's settings, from ``MATNEO_HOME`` and ``MATNEO_DATABASE_URL``."""
    return get_settings()


def hierarchy(settings: Settings) -> OrgHierarchy:
    """The instance's organisation hierarchy: its installed extract, else the packaged snapshot."""
    return load_hierarchy(settings=settings)


def prepared() -> Settings:
    """Settings of an instance whose app database is ready to use; otherwise exit 1 saying what to run.

    No migrating here: that is ``matneo db upgrade``'s job (see :mod:`matneo.db.session`).
    """
    resolved = settings()
    resolved.ensure_dirs()
    try:
        prepare(resolved.database_url, hierarchy(resolved))
    except DatabaseBehind as error:
        errors.print(f"[red]Database not ready:[/red] {error}")
        raise typer.Exit(1) from None
    return resolved
