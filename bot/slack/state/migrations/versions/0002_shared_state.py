"""Shared state for several replicas: event claims, rate-limit hits, the answer queue; time indexes
for retention.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("claimed_at", sa.Float(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_slack_events_claimed_at", "slack_events", ["claimed_at"])
    op.create_table(
        "rate_hits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("ref", sa.String(128), nullable=True),
    )
    op.create_index("ix_rate_hits_scope_key_at", "rate_hits", ["scope", "key", "at"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(128), nullable=True, unique=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_jobs_status_id", "jobs", ["status", "id"])
    op.create_index("ix_answers_created_at", "answers", ["created_at"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])
    op.create_index("ix_threads_answered_at", "threads", ["answered_at"])


def downgrade() -> None:
    for index, table in (("ix_threads_answered_at", "threads"), ("ix_feedback_created_at", "feedback"),
                         ("ix_answers_created_at", "answers")):
        op.drop_index(index, table_name=table)
    op.drop_table("jobs")
    op.drop_table("rate_hits")
    op.drop_table("slack_events")
