"""The state as it was before migrations: meta (salt), answers, feedback, threads.

A `slack.sqlite3` written by an earlier release already has these tables (without an
`alembic_version`); they are kept as they are and only the missing ones are created.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "meta" not in existing:
        op.create_table("meta", sa.Column("key", sa.String(64), primary_key=True),
                        sa.Column("value", sa.Text(), nullable=False))
    if "answers" not in existing:
        op.create_table(
            "answers",
            sa.Column("answer_id", sa.String(64), primary_key=True),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("audience", sa.String(32), nullable=False),
            sa.Column("status", sa.String(32), nullable=False),
            sa.Column("doc_ids", sa.Text(), nullable=False),
            sa.Column("channel", sa.String(64), nullable=False),
            sa.Column("question_ts", sa.String(32), nullable=False),
            sa.Column("thread_ts", sa.String(32), nullable=False),
            sa.Column("escalated_at", sa.Float(), nullable=True),
            sa.Column("created_at", sa.Float(), nullable=False),
        )
    if "feedback" not in existing:
        op.create_table(
            "feedback",
            sa.Column("answer_id", sa.String(64), primary_key=True),
            sa.Column("user_hash", sa.String(64), primary_key=True),
            sa.Column("helpful", sa.Integer(), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("doc_ids", sa.Text(), nullable=False),
            sa.Column("audience", sa.String(32), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
        )
    if "threads" not in existing:
        op.create_table(
            "threads",
            sa.Column("channel", sa.String(64), primary_key=True),
            sa.Column("thread_ts", sa.String(32), primary_key=True),
            sa.Column("answered_at", sa.Float(), nullable=False),
        )


def downgrade() -> None:
    for table in ("threads", "feedback", "answers", "meta"):
        op.drop_table(table)
