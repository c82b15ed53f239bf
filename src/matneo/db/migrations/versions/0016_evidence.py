"""Assurance evidence: items a trust attaches once (documents, links, minutes, data extracts)
and their mappings to every requirement they support; family and staff voice figures.

Revision ID: 0016
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("dated", sa.Date),
        sa.Column("link", sa.String(2000)),
        sa.Column("file_name", sa.String(255)),
        sa.Column("content_type", sa.String(100)),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("sha256", sa.String(64)),
        sa.Column("added_by", sa.String(254), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_evidence_items_trust_code", "evidence_items", ["trust_code"])
    op.create_table(
        "evidence_mappings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("evidence_id", sa.Integer, sa.ForeignKey("evidence_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trust_code", sa.String(16), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("mapped_by", sa.String(254), nullable=False),
        sa.Column("mapped_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("evidence_id", "item_key", name="uq_evidence_mappings_item"),
    )
    op.create_index("ix_evidence_mappings_trust_code", "evidence_mappings", ["trust_code"])
    op.create_table(
        "voice_figures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("measure", sa.String(64), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("responses", sa.Integer),
        sa.Column("imported_by", sa.String(254), nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("trust_code", "source", "period", "measure", name="uq_voice_figures"),
    )
    op.create_index("ix_voice_figures_trust_code", "voice_figures", ["trust_code"])


def downgrade() -> None:
    op.drop_index("ix_voice_figures_trust_code", "voice_figures")
    op.drop_table("voice_figures")
    op.drop_index("ix_evidence_mappings_trust_code", "evidence_mappings")
    op.drop_table("evidence_mappings")
    op.drop_index("ix_evidence_items_trust_code", "evidence_items")
    op.drop_table("evidence_items")
