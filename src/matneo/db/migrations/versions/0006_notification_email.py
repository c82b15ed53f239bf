"""When a harm notification was sent by e-mail (null: in-app only, or not sent yet).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("harm_notifications") as batch:
        batch.add_column(sa.Column("emailed_at", sa.DateTime))


def downgrade() -> None:
    with op.batch_alter_table("harm_notifications") as batch:
        batch.drop_column("emailed_at")
