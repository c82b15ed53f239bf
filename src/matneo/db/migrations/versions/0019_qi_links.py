"""QI, second part (issue 13): a project's MatNeoSIP priority, the history of its progress score
(the stage-per-quarter grid reads it), its links to perinatal mortality review actions, and the
periods a team marks as astronomical points on a measure's run chart.

Existing projects with a score get one history row from the score they hold, stamped when and by
whom it was set, so the grid starts from what is known.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("qi_projects", sa.Column("priority", sa.String(64)))
    op.add_column("qi_measures", sa.Column("astronomical", sa.Text, nullable=False, server_default="[]"))
    history = op.create_table(
        "qi_progress_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("score", sa.Float),
        sa.Column("set_by", sa.String(254), nullable=False),
        sa.Column("set_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "qi_review_action_links",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("qi_projects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "action_id",
            sa.Integer,
            sa.ForeignKey("review_actions.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    projects = sa.table(
        "qi_projects",
        sa.column("id", sa.Integer),
        sa.column("progress_score", sa.Float),
        sa.column("progress_set_by", sa.String),
        sa.column("progress_set_at", sa.DateTime),
    )
    rows = (
        op.get_bind()
        .execute(
            sa.select(
                projects.c.id, projects.c.progress_score, projects.c.progress_set_by, projects.c.progress_set_at
            ).where(projects.c.progress_set_at.is_not(None))
        )
        .all()
    )
    if rows:
        op.bulk_insert(
            history,
            [{"project_id": r[0], "score": r[1], "set_by": r[2] or "", "set_at": r[3]} for r in rows],
        )


def downgrade() -> None:
    op.drop_table("qi_review_action_links")
    op.drop_table("qi_progress_history")
    with op.batch_alter_table("qi_projects") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("qi_measures") as batch:
        batch.drop_column("astronomical")
