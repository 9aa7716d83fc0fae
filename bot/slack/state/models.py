"""The tables of the Slack app's state (SQLAlchemy 2 declarative models).

Times are Unix seconds (floats) taken from the replica's clock, the same on both engines; replicas
are expected to keep their clocks in sync (NTP), and leases are long next to any skew.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Key-value settings of the install, e.g. `user_salt` (the salt for hashing user ids)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AnswerRow(Base):
    """What a posted answer was about, so a later click (feedback, escalation) can be tied to it."""

    __tablename__ = "answers"
    answer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    doc_ids: Mapped[str] = mapped_column(Text)
    """JSON list of the cited doc ids."""
    channel: Mapped[str] = mapped_column(String(64))
    question_ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    escalated_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)


class FeedbackRow(Base):
    """One vote per (answer, salted hash of the voter's user id)."""

    __tablename__ = "feedback"
    answer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    helpful: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    doc_ids: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float, index=True)


class ThreadRow(Base):
    """Threads the bot answered, so follow-ups there need no mention."""

    __tablename__ = "threads"
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    answered_at: Mapped[float] = mapped_column(Float, index=True)


class EventRow(Base):
    """Slack event ids claimed by a replica (de-duplication of Slack's retries across replicas)."""

    __tablename__ = "slack_events"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    claimed_at: Mapped[float] = mapped_column(Float, index=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    """False while the claiming replica is still handling the request; a stale unfinished claim
    (its replica died before acking) can be taken over by Slack's next retry."""


class RateHit(Base):
    """One counted question in a sliding rate-limit window (`scope` is `user` or `channel`)."""

    __tablename__ = "rate_hits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    """A channel id, or the salted hash of a user id."""
    at: Mapped[float] = mapped_column(Float)
    ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    """The job's event id, so a re-claimed job is not counted twice."""
    __table_args__ = (Index("ix_rate_hits_scope_key_at", "scope", "key", "at"),)


class JobRow(Base):
    """A question waiting for, or being answered by, a worker on some replica."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    """JSON: the question as Slack delivered it; emptied when the job is done."""
    status: Mapped[str] = mapped_column(String(16))
    """`queued`, `claimed` (leased by `owner` until `lease_until`), `done` or `failed`."""
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)


TABLES = {model.__tablename__: model.__table__ for model in (Meta, AnswerRow, FeedbackRow, ThreadRow, EventRow,
                                                              RateHit, JobRow)}
