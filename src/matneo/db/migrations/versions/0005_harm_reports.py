"""Harm reports: cases, routes, family contacts, Duty of Candour steps, attachments, notifications, changes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _report_fk() -> sa.Column:
    return sa.Column(
        "report_id", sa.Integer, sa.ForeignKey("harm_reports.id", ondelete="CASCADE"), nullable=False, index=True
    )


def upgrade() -> None:
    op.create_table(
        "harm_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("idempotency_key", sa.String(100)),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("routing", sa.Text),
        sa.Column("ruleset", sa.String(16)),
        sa.Column("event_date", sa.Date),
        sa.Column("nhs_number", sa.String(10)),
        sa.Column("patient_label", sa.String(200)),
        sa.Column("linked_record_id", sa.String(64)),
        sa.Column("link_status", sa.String(16)),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("submitted_at", sa.DateTime),
        sa.UniqueConstraint("trust_code", "idempotency_key", name="uq_harm_reports_trust_key"),
    )
    op.create_table(
        "harm_routes",
        sa.Column("id", sa.Integer, primary_key=True),
        _report_fk(),
        sa.Column("route_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deadlines", sa.Text, nullable=False),
        sa.Column("next_due", sa.Date, index=True),
        sa.Column("reference", sa.String(100)),
        sa.Column("done_on", sa.Date),
        sa.Column("reason", sa.Text),
        sa.Column("updated_by", sa.String(254)),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("report_id", "route_id", name="uq_harm_routes_report_route"),
    )
    op.create_table(
        "harm_family_contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        _report_fk(),
        sa.Column("contacted_on", sa.Date, nullable=False),
        sa.Column("by", sa.String(254), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(254), nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "harm_candour_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        _report_fk(),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("done_on", sa.Date, nullable=False),
        sa.Column("by", sa.String(254), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("report_id", "step", name="uq_harm_candour_report_step"),
    )
    op.create_table(
        "harm_attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        _report_fk(),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("added_by", sa.String(254), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "harm_notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_code", sa.String(16), nullable=False, index=True),
        _report_fk(),
        sa.Column("route_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("read_at", sa.DateTime),
        sa.Column("read_by", sa.String(254)),
        sa.UniqueConstraint("report_id", "route_id", "kind", name="uq_harm_notifications_once"),
    )
    op.create_table(
        "harm_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, nullable=False, index=True),
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
        "harm_changes",
        "harm_notifications",
        "harm_attachments",
        "harm_candour_steps",
        "harm_family_contacts",
        "harm_routes",
        "harm_reports",
    ):
        op.drop_table(table)
