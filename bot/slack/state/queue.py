"""The durable answer queue: questions recorded as jobs before Slack is acked, claimed by workers on
any replica with a lease.

A claim is one statement: the oldest job that is `queued`, or `claimed` with an expired lease, is
taken (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers never wait on or take
the same row; on SQLite the statement runs under the database's write lock, `BEGIN IMMEDIATE`). While
a job is answered its lease is renewed; a replica that dies stops renewing, and another replica
re-claims the job once the lease has run out. A job is unique per Slack event id, so a retried event
never queues its question twice. Finished jobs keep their row (the question text emptied) for an
hour as that record, then are pruned.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from bot.slack.store import SlackStore

ACTIVE = ("queued", "claimed")


@dataclass(frozen=True)
class Job:
    id: int
    payload: dict[str, Any]
    attempts: int
    event_id: str | None


class JobQueue:
    """Jobs in `store`, claimed as `owner` (unique per replica process) for `lease_s` seconds."""

    def __init__(self, store: SlackStore, *, owner: str, lease_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.owner = owner
        self.lease_s = lease_s
        self.clock = clock
        self._jobs = store.table("jobs")

    def enqueue(self, payload: dict[str, Any], *, event_id: str | None, max_pending: int,
                extra_pending: int = 0) -> bool:
        """Record a job; False (nothing recorded) when `max_pending` jobs are already waiting or running.

        A second job for the same `event_id` is not recorded, and counts as queued (True).
        """
        jobs, now = self._jobs, self.clock()
        with self.store.begin() as conn:
            pending = conn.execute(select(func.count()).select_from(jobs).where(jobs.c.status.in_(ACTIVE))).scalar_one()
            if pending + extra_pending >= max_pending:
                return False
            stmt = self.store.insert("jobs").values(event_id=event_id, payload=json.dumps(payload), status="queued",
                                                    attempts=0, created_at=now, updated_at=now)
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["event_id"]) if event_id else stmt)
        return True

    def claim(self) -> Job | None:
        """Take the oldest claimable job for `lease_s` seconds, or None."""
        jobs, now = self._jobs, self.clock()
        candidate = (select(jobs.c.id)
                     .where((jobs.c.status == "queued") | ((jobs.c.status == "claimed") & (jobs.c.lease_until < now)))
                     .order_by(jobs.c.id).limit(1))
        if self.store.dialect == "postgresql":
            candidate = candidate.with_for_update(skip_locked=True)
        stmt = (update(jobs).where(jobs.c.id == candidate.scalar_subquery())
                .values(status="claimed", owner=self.owner, lease_until=now + self.lease_s,
                        attempts=jobs.c.attempts + 1, updated_at=now)
                .returning(jobs.c.id, jobs.c.payload, jobs.c.attempts, jobs.c.event_id))
        with self.store.begin() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return Job(id=row.id, payload=json.loads(row.payload), attempts=row.attempts, event_id=row.event_id)

    def renew(self, job_ids: Iterable[int]) -> set[int]:
        """Extend this owner's leases on `job_ids`; returns the ids whose lease was lost to another worker."""
        ids = set(job_ids)
        if not ids:
            return set()
        jobs, now = self._jobs, self.clock()
        with self.store.begin() as conn:
            kept = conn.execute(update(jobs).where(jobs.c.id.in_(ids), jobs.c.owner == self.owner,
                                                   jobs.c.status == "claimed")
                                .values(lease_until=now + self.lease_s, updated_at=now).returning(jobs.c.id))
            return ids - {row.id for row in kept}

    def complete(self, job_id: int, *, status: str = "done") -> bool:
        """Mark a job finished (its question text dropped); False if this owner no longer held it."""
        jobs = self._jobs
        with self.store.begin() as conn:
            result = conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.owner == self.owner,
                                                     jobs.c.status == "claimed")
                                  .values(status=status, payload="{}", lease_until=None, updated_at=self.clock()))
            return result.rowcount == 1

    def release(self, job_ids: Iterable[int]) -> int:
        """Give jobs back to the queue at once (drain on shutdown), for any replica to claim."""
        ids = set(job_ids)
        if not ids:
            return 0
        jobs = self._jobs
        with self.store.begin() as conn:
            return conn.execute(update(jobs).where(jobs.c.id.in_(ids), jobs.c.owner == self.owner,
                                                   jobs.c.status == "claimed")
                                .values(status="queued", owner=None, lease_until=None,
                                        attempts=jobs.c.attempts - 1, updated_at=self.clock())).rowcount

    def pending(self) -> int:
        jobs = self._jobs
        with self.store.begin() as conn:
            return conn.execute(select(func.count()).select_from(jobs).where(jobs.c.status.in_(ACTIVE))).scalar_one()
