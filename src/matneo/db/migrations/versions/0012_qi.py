"""Quality improvement collaborative: collaboratives, waves, projects, driver diagrams, change
ideas, measures and their values, PDSA cycles and annotations (issue 13; ``matneo.qi``).

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def _stamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime, nullable=False)


def upgrade() -> None:
    op.create_table(
        "qi_collaboratives",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("org_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False, index=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        _stamp("created_at"),
    )
    op.create_table(
        "qi_waves",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "collaborative_id",
            sa.Integer,
            sa.ForeignKey("qi_collaboratives.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("starts_on", sa.Date),
        sa.Column("ends_on", sa.Date),
    )
    op.create_table(
        "qi_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "collaborative_id",
            sa.Integer,
            sa.ForeignKey("qi_collaboratives.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False, index=True),
        sa.Column("wave_id", sa.Integer, sa.ForeignKey("qi_waves.id", ondelete="SET NULL")),
        sa.Column("joined_on", sa.Date),
        sa.UniqueConstraint("collaborative_id", "trust_code", name="uq_qi_members_trust"),
    )
    op.create_table(
        "qi_projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trust_code", sa.String(16), sa.ForeignKey("organisations.code"), nullable=False, index=True),
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("problem", sa.Text, nullable=False),
        sa.Column("aim_what", sa.Text, nullable=False),
        sa.Column("aim_how_much", sa.String(200), nullable=False),
        sa.Column("aim_by_when", sa.Date),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_on", sa.Date),
        sa.Column("ends_on", sa.Date),
        sa.Column("progress_score", sa.Float),
        sa.Column("progress_set_by", sa.String(254)),
        sa.Column("progress_set_at", sa.DateTime),
        sa.Column("motivation", sa.Text, nullable=False),
        sa.Column("signal_id", sa.Integer, sa.ForeignKey("signals.id", ondelete="SET NULL")),
        sa.Column("created_by", sa.String(254), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
    )
    op.create_table(
        "qi_project_collaboratives",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "collaborative_id",
            sa.Integer,
            sa.ForeignKey("qi_collaboratives.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    op.create_table(
        "qi_team_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
    )
    op.create_table(
        "qi_drivers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("qi_drivers.id", ondelete="CASCADE")),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "qi_change_ideas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "collaborative_id",
            sa.Integer,
            sa.ForeignKey("qi_collaboratives.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        _stamp("created_at"),
    )
    op.create_table(
        "qi_driver_ideas",
        sa.Column("driver_id", sa.Integer, sa.ForeignKey("qi_drivers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idea_id", sa.Integer, sa.ForeignKey("qi_change_ideas.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "qi_measures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("matneo_measure", sa.String(64)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("frequency", sa.String(8), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("rule_set", sa.String(16), nullable=False),
        sa.Column("baseline_points", sa.Integer),
        sa.Column("baseline_reason", sa.Text, nullable=False),
        sa.Column("is_key", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        _stamp("created_at"),
    )
    op.create_table(
        "qi_measure_values",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "measure_id", sa.Integer, sa.ForeignKey("qi_measures.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("numerator", sa.Float),
        sa.Column("denominator", sa.Float),
        sa.Column("value", sa.Float),
        sa.Column("entered_by", sa.String(254), nullable=False),
        _stamp("entered_at"),
        sa.UniqueConstraint("measure_id", "period_start", name="uq_qi_measure_values_period"),
    )
    op.create_table(
        "qi_pdsa_cycles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("change_idea_id", sa.Integer, sa.ForeignKey("qi_change_ideas.id", ondelete="SET NULL")),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("prediction", sa.Text, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("data_to_collect", sa.Text, nullable=False),
        sa.Column("do_notes", sa.Text, nullable=False),
        sa.Column("study_notes", sa.Text, nullable=False),
        sa.Column("act", sa.String(16)),
        sa.Column("act_notes", sa.Text, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date),
        sa.Column("created_by", sa.String(254), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
    )
    op.create_table(
        "qi_annotations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("measure_id", sa.Integer, sa.ForeignKey("qi_measures.id", ondelete="CASCADE")),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        _stamp("created_at"),
    )


def downgrade() -> None:
    for table in (
        "qi_annotations",
        "qi_pdsa_cycles",
        "qi_measure_values",
        "qi_measures",
        "qi_driver_ideas",
        "qi_change_ideas",
        "qi_drivers",
        "qi_team_members",
        "qi_project_collaboratives",
        "qi_projects",
        "qi_members",
        "qi_waves",
        "qi_collaboratives",
    ):
        op.drop_table(table)
