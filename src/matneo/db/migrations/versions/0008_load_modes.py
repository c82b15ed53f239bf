"""Loads with a mode, a plan and an outcome, and loads that can be reverted.

``loads`` gains who loaded (``actor``), the mode (resubmit | upsert | revert), the outcome in
rows added, replaced and removed, and ``reverts_load_id`` for a revert. ``status`` may now
also be ``reverted`` (a load undone) or ``revert`` (the undoing). ``load_trust_months`` gains
the rows before and after, and the rows added, removed and moved out, per trust-month; from
now on ``replaced_rows`` counts the supplied rows that replaced an earlier copy of the same
record (before, it counted every earlier row that went). Earlier loads keep zeros: their
outcome was not recorded in this detail.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LOAD_COUNTS = ("rows_added", "rows_replaced", "rows_removed")
MONTH_COUNTS = ("existing_rows", "new_rows", "added_rows", "removed_rows", "moved_rows")


def upgrade() -> None:
    with op.batch_alter_table("loads") as batch:
        batch.add_column(sa.Column("actor", sa.String(254)))
        batch.add_column(sa.Column("mode", sa.String(16)))
        batch.add_column(sa.Column("reverts_load_id", sa.Integer))
        for name in LOAD_COUNTS:
            batch.add_column(sa.Column(name, sa.BigInteger, nullable=False, server_default="0"))
    with op.batch_alter_table("load_trust_months") as batch:
        for name in MONTH_COUNTS:
            batch.add_column(sa.Column(name, sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("load_trust_months") as batch:
        for name in MONTH_COUNTS:
            batch.drop_column(name)
    with op.batch_alter_table("loads") as batch:
        for name in (*LOAD_COUNTS, "reverts_load_id", "mode", "actor"):
            batch.drop_column(name)
