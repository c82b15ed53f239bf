"""Archived board packs: one row per pack produced, content stored by its SHA-256.

Revision ID: 0013
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_packs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("generated_at", sa.DateTime, nullable=False),
        sa.Column("generated_by", sa.String(254), nullable=False),
        sa.Column("store_version", sa.Integer),
        sa.Column("html_sha256", sa.String(64), nullable=False),
        sa.Column("pdf_sha256", sa.String(64)),
    )
    op.create_index("ix_board_packs_org_code", "board_packs", ["org_code"])


def downgrade() -> None:
    op.drop_index("ix_board_packs_org_code", "board_packs")
    op.drop_table("board_packs")
