"""Sign-in throttles in their own table, shared by every server process.

``sign_in_throttles`` counts failed sign-ins per e-mail address (``kind = 'account'``: a
progressive delay) and per client address (``kind = 'address'``: a limit per window). The
old per-user lock-out columns ``users.failed_sign_ins`` and ``users.locked_until`` go: a
lock-out could be used to keep anyone out, and it ended the person's live sessions. Columns
are dropped with SQLite's own ``ALTER TABLE … DROP COLUMN`` (3.35+), not a table copy, so
rows pointing at ``users`` are untouched.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttles",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("subject", sa.String(254), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("refused", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_failure_at", sa.DateTime),
        sa.Column("last_failure_at", sa.DateTime),
        sa.Column("blocked_until", sa.DateTime),
    )
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_sign_ins")


def downgrade() -> None:
    op.add_column("users", sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"))
    op.add_column("users", sa.Column("locked_until", sa.DateTime))
    op.drop_table("sign_in_throttles")
