"""QI (issue 13): a project may belong to one site of its trust, so its MatNeo measures are
computed for that site's births rather than the whole trust's.

Revision ID: 0021
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("qi_projects", sa.Column("site_code", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("qi_projects") as batch:
        batch.drop_column("site_code")
