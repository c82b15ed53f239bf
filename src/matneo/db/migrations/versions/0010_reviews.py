"""Perinatal mortality reviews.

Reviews, panel members, meetings, parents' items, issues, grades, actions, overdue notices and changes.

Revision ID: 0010
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None


def _review_fk() -> sa.Column:
    return sa.Column(
        "review_id", sa.Integer, sa.ForeignKey("reviews.id", ondelete="CASCADE"), nullable=False, index=True
    )


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(64)),
        sa.Column("harm_report_id", sa.Integer),
        sa.Column("birth_date", sa.Date),
        sa.Column("death_date", sa.Date, nullable=False, index=True),
        sa.Column("gestation_weeks", sa.Integer),
        sa.Column("gestation_days", sa.Integer),
        sa.Column("joint_trusts", sa.Text, nullable=False),
        sa.Column("notified_on", sa.Date),
        sa.Column("started_on", sa.Date),
        sa.Column("draft_report_on", sa.Date),
        sa.Column("shared_with_parents_on", sa.Date),
        sa.Column("closed_on", sa.Date),
        sa.Column("parents_told_on", sa.Date),
        sa.Column("parents_told_by", sa.String(254)),
        sa.Column("key_contact", sa.String(254)),
        sa.Column("parents_contribute", sa.String(16)),
        sa.Column("mnsi_investigation", sa.Boolean, nullable=False),
        sa.Column("mnsi_report_on", sa.Date),
        sa.Column("mnsi_findings", sa.Text),
        sa.Column("cause_of_death", sa.Text),
        sa.Column("story", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("trust_code", "record_id", name="uq_reviews_trust_record"),
        sa.UniqueConstraint("harm_report_id", name="uq_reviews_harm_report"),
    )
    op.create_table(
        "review_members",
        sa.Column("id", sa.Integer, primary_key=True),
        _review_fk(),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("name", sa.String(254), nullable=False),
        sa.Column("external", sa.Boolean, nullable=False),
    )
    op.create_table(
        "review_meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        _review_fk(),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("attendees", sa.Text, nullable=False),
    )
    op.create_table(
        "review_parent_items",
        sa.Column("id", sa.Integer, primary_key=True),
        _review_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("answer", sa.Text),
    )
    op.create_table(
        "review_issues",
        sa.Column("id", sa.Integer, primary_key=True),
        _review_fk(),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("relevant", sa.String(16), nullable=False),
        sa.Column("factors", sa.Text, nullable=False),
    )
    op.create_table(
        "review_grades",
        sa.Column("id", sa.Integer, primary_key=True),
        _review_fk(),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.UniqueConstraint("review_id", "area", name="uq_review_grades_area"),
    )
    op.create_table(
        "review_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        _review_fk(),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner", sa.String(254), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("done_on", sa.Date),
    )
    op.create_table(
        "review_notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_code", sa.String(16), nullable=False, index=True),
        _review_fk(),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("read_at", sa.DateTime),
        sa.Column("read_by", sa.String(254)),
        sa.UniqueConstraint("review_id", "stage", "due_on", name="uq_review_notifications_deadline"),
    )
    op.create_table(
        "review_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("review_id", sa.Integer, nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("sensitive", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "review_changes",
        "review_notifications",
        "review_actions",
        "review_grades",
        "review_issues",
        "review_parent_items",
        "review_meetings",
        "review_members",
        "reviews",
    ):
        op.drop_table(table)
