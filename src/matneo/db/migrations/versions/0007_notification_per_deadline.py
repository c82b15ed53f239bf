"""Overdue notifications once per deadline, not once per route for ever.

A route reopened, or re-dated by an amendment, that goes overdue again must be notified again
(a missed notification is a patient-safety problem). Existing notices get the route's current
deadline, so they are not repeated.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("harm_notifications") as batch:
        batch.add_column(sa.Column("due_on", sa.Date))
    op.execute(
        "UPDATE harm_notifications SET due_on = (SELECT r.next_due FROM harm_routes r "
        "WHERE r.report_id = harm_notifications.report_id AND r.route_id = harm_notifications.route_id)"
    )
    with op.batch_alter_table("harm_notifications") as batch:
        batch.drop_constraint("uq_harm_notifications_once", type_="unique")
        batch.create_unique_constraint(
            "uq_harm_notifications_per_deadline", ["report_id", "route_id", "kind", "due_on"]
        )


def downgrade() -> None:
    with op.batch_alter_table("harm_notifications") as batch:
        batch.drop_constraint("uq_harm_notifications_per_deadline", type_="unique")
        batch.create_unique_constraint("uq_harm_notifications_once", ["report_id", "route_id", "kind"])
        batch.drop_column("due_on")
