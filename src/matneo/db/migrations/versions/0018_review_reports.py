"""When a review notice was sent by e-mail (null: not sent yet), as harm notifications have since 0006.

Revision ID: 0018
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_notifications") as batch:
        batch.add_column(sa.Column("emailed_at", sa.DateTime))


def downgrade() -> None:
    with op.batch_alter_table("review_notifications") as batch:
        batch.drop_column("emailed_at")
