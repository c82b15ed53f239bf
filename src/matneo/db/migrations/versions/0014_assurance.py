"""Assurance statuses per trust and requirement, and their history.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assurance_statuses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("due", sa.Date),
        sa.Column("reason", sa.Text),
        sa.Column("comment", sa.Text),
        sa.Column("signed_off_by", sa.String(254)),
        sa.Column("signed_off_role", sa.String(100)),
        sa.Column("signed_off_on", sa.Date),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("trust_code", "item_key"),
    )
    op.create_index("ix_assurance_statuses_trust_code", "assurance_statuses", ["trust_code"])
    op.create_table(
        "assurance_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )
    op.create_index("ix_assurance_changes_trust_code", "assurance_changes", ["trust_code"])


def downgrade() -> None:
    op.drop_index("ix_assurance_changes_trust_code", "assurance_changes")
    op.drop_table("assurance_changes")
    op.drop_index("ix_assurance_statuses_trust_code", "assurance_statuses")
    op.drop_table("assurance_statuses")
