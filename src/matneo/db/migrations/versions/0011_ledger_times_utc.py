"""Ledger times in UTC, like every other time in the app store.

Before migration 0008, the loader stamped ``loads.started_at`` and ``finished_at`` with the
server's local wall-clock time; since then it writes UTC, and pages show any stored time as
UTC converted to London time (``matneo.dates.moment_text``), so earlier loads showed an hour
out in summer. This converts the earlier rows from this machine's time zone (the one the old
loader ran in; run the migration on the same server) to UTC.

Which rows are earlier ones: a load's batch id starts with the old loader's local start time
(``YYYYmmddTHHMMSS-``) and its ``started_at`` equals that time; since 0008 the two differ by
the UTC offset (or are equal when it is zero, where converting changes nothing) and new batch
ids end the time with ``Z``. Failed loads have no such batch id: those before the first load
that has a mode (written by the code of 0008 on) are earlier ones. A failed file recorded after
upgrading but before any successful load is taken as earlier too: at worst an hour out, in
summer only. Downgrading leaves the times in UTC (what the code of 0008 writes).

Revision ID: 0011
Revises: 0015
"""

import datetime as dt
import re

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0015"
branch_labels = None
depends_on = None

LEGACY_BATCH = re.compile(r"(\d{8}T\d{6})-")

loads = sa.table(
    "loads",
    sa.column("id", sa.Integer),
    sa.column("batch_id", sa.String),
    sa.column("mode", sa.String),
    sa.column("started_at", sa.DateTime),
    sa.column("finished_at", sa.DateTime),
)


def to_utc(local: dt.datetime | None) -> dt.datetime | None:
    """A naive local time (this machine's zone, with summer time) as naive UTC."""
    return None if local is None else local.astimezone(dt.UTC).replace(tzinfo=None)


def is_legacy(batch_id: str, started: dt.datetime, mode: str | None, row_id: int, first_with_mode: int) -> bool:
    found = LEGACY_BATCH.match(batch_id or "")
    if found and dt.datetime.strptime(found.group(1), "%Y%m%dT%H%M%S") == started.replace(microsecond=0):
        return True
    return mode is None and row_id < first_with_mode


def upgrade() -> None:
    bind = op.get_bind()
    query = sa.select(loads.c.id, loads.c.batch_id, loads.c.mode, loads.c.started_at, loads.c.finished_at)
    rows = bind.execute(query).all()
    first_with_mode = min((r.id for r in rows if r.mode is not None), default=2**62)
    for row in rows:
        if row.started_at is not None and is_legacy(row.batch_id, row.started_at, row.mode, row.id, first_with_mode):
            bind.execute(
                loads.update()
                .where(loads.c.id == row.id)
                .values(started_at=to_utc(row.started_at), finished_at=to_utc(row.finished_at))
            )


def downgrade() -> None:
    """Times stay in UTC: the code of revision 0008 writes UTC too."""
