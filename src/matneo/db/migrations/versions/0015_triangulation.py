"""Triangulation decisions: what an LMNS or region decided about a trust, with a review date.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triangulation_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False),
        sa.Column("decided_by_org", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("review_on", sa.Date, nullable=False),
        sa.Column("decided_by", sa.String(254), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_triangulation_decisions_trust_code", "triangulation_decisions", ["trust_code"])


def downgrade() -> None:
    op.drop_index("ix_triangulation_decisions_trust_code", "triangulation_decisions")
    op.drop_table("triangulation_decisions")
