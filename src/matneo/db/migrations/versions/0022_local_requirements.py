"""Assurance, issue 14: requirements a trust or LMNS adds (``local_requirements``, keyed
``local:<id>``) and Maternity and Neonatal Voices Partnership feedback themes (``voice_themes``).

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_requirements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("framework", sa.String(64)),
        sa.Column("source", sa.Text),
        sa.Column("due", sa.Date),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("retired_at", sa.DateTime),
        sa.Column("retired_by", sa.String(254)),
        sa.Column("retired_reason", sa.Text),
    )
    op.create_table(
        "voice_themes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False, index=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("theme", sa.String(200), nullable=False),
        sa.Column("mentions", sa.Integer, nullable=False),
        sa.Column("sentiment", sa.String(16)),
        sa.Column("heard", sa.Text),
        sa.Column("did", sa.Text),
        sa.Column("imported_by", sa.String(254), nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("trust_code", "source", "period", "theme", name="uq_voice_themes"),
    )


def downgrade() -> None:
    op.drop_table("voice_themes")
    op.drop_table("local_requirements")
