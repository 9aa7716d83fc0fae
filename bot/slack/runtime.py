"""Everything the listeners share, built once per process and handed to them through Bolt's context."""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.answer import Answer, Turn
from bot.slack.audience import AudienceResolver
from bot.slack.dedupe import EventDeduplicator
from bot.slack.feedback import FeedbackStore
from bot.slack.ratelimit import RateLimiter
from bot.slack.state.queue import Job, JobQueue
from bot.slack.store import SlackStore
from bot.slack.threads import ThreadRegistry
from gcot.settings import Settings

CONTEXT_KEY = "gcot"
PRUNE_EVERY_S = 3600.0

log = logging.getLogger(__name__)


class AnswerBackend(Protocol):
    """The part of `bot.answer.service.AnswerService` the Slack app uses."""

    def ask(self, question: str, *, audience: str, history: Sequence[Turn] = ()) -> Answer: ...

    def ready(self) -> dict[str, bool]: ...

    def topics(self, audience: str) -> list[dict]: ...


class AnswerWorkers:
    """`workers` answering threads, separate from Bolt's listener threads, fed by the durable queue.

    Each thread claims a job from the shared queue (any replica's), answers it, and marks it done; a
    heartbeat thread renews the leases of the jobs in hand. An idle thread sleeps until `wake()` (a
    question was just queued on this replica) or for about `poll_s` (to pick up other replicas' jobs
    and expired leases). `submit` runs a callable on a worker without the queue (not durable).
    `drain` stops claiming, waits for the jobs in hand, and gives back those still unfinished.
    """

    def __init__(self, workers: int, *, max_pending: int, poll_s: float = 1.0) -> None:
        self.count = workers
        self.max_pending = max_pending
        self.poll_s = poll_s
        self._cond = threading.Condition()
        self._local: deque[tuple[Callable[..., object], tuple, dict]] = deque()
        self._local_pending = 0
        self._signals = 0
        self._stopping = False
        self._in_hand: dict[int, Job] = {}
        self._threads: list[threading.Thread] = []
        self._queue: JobQueue | None = None
        self._handler: Callable[[Job], None] | None = None
        self._maintenance: Callable[[], object] | None = None
        self._tick = threading.Event()

    @property
    def local_pending(self) -> int:
        return self._local_pending

    @property
    def draining(self) -> bool:
        return self._stopping

    def start(self, queue: JobQueue, handler: Callable[[Job], None], *,
              maintenance: Callable[[], object] | None = None) -> None:
        """Start the threads (once); `handler(job)` answers a job, `maintenance()` runs hourly."""
        with self._cond:
            if self._threads:
                return
            self._queue, self._handler, self._maintenance = queue, handler, maintenance
            for i in range(self.count):
                self._threads.append(threading.Thread(target=self._loop, name=f"slack-answer-{i}", daemon=True))
            self._threads.append(threading.Thread(target=self._heartbeat, name="slack-answer-lease", daemon=True))
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        """A job was queued: one idle worker claims it now rather than at its next poll."""
        with self._cond:
            self._signals += 1
            self._cond.notify()

    def submit(self, fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> bool:
        """Run `fn` on a worker (in this process only); False when `max_pending` are already waiting."""
        with self._cond:
            if self._local_pending >= self.max_pending:
                return False
            self._local_pending += 1
            self._local.append((fn, args, kwargs))
            self._signals += 1
            self._cond.notify()
        return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                local = self._local.popleft() if self._local else None
            if local is not None:
                self._run_local(*local)
                continue
            job = self._claim()
            if job is not None:
                self._run_job(job)
                continue
            with self._cond:
                if self._signals:
                    self._signals -= 1
                    continue
                if not self._stopping and not self._local:
                    self._cond.wait(self.poll_s * random.uniform(0.7, 1.0))  # jitter: replicas do not poll in step

    def _claim(self) -> Job | None:
        assert self._queue is not None
        try:
            return self._queue.claim()
        except Exception:  # noqa: BLE001 - the database may be briefly away; poll again later
            log.warning("slack.job_claim_failed", exc_info=True)
            return None

    def _run_job(self, job: Job) -> None:
        assert self._queue is not None and self._handler is not None
        with self._cond:
            self._in_hand[job.id] = job
        try:
            self._handler(job)
        except Exception:  # noqa: BLE001 - jobs handle their own errors; this is the last net
            log.error("slack.worker_failed", exc_info=True, extra={"job_id": job.id})
        finally:
            with self._cond:
                self._in_hand.pop(job.id, None)
            try:
                if not self._queue.complete(job.id):
                    log.warning("slack.job_lease_lost", extra={"job_id": job.id, "event_id": job.event_id})
            except Exception:  # noqa: BLE001
                log.error("slack.job_complete_failed", exc_info=True, extra={"job_id": job.id})

    def _run_local(self, fn: Callable[..., object], args: tuple, kwargs: dict) -> None:
        try:
            fn(*args, **kwargs)
        except Exception:  # noqa: BLE001
            log.error("slack.worker_failed", exc_info=True)
        finally:
            with self._cond:
                self._local_pending -= 1

    def _heartbeat(self) -> None:
        assert self._queue is not None
        last_maintenance = time.monotonic()
        while True:
            self._tick.wait(max(0.2, self._queue.lease_s / 4))  # not the condition: wake() is for workers
            with self._cond:
                if self._stopping and not self._in_hand:
                    return
                ids = list(self._in_hand)
            try:
                lost = self._queue.renew(ids)
                if lost:
                    log.warning("slack.job_lease_lost", extra={"job_ids": sorted(lost)})
                if self._maintenance and time.monotonic() - last_maintenance > PRUNE_EVERY_S:
                    last_maintenance = time.monotonic()
                    self._maintenance()
            except Exception:  # noqa: BLE001
                log.warning("slack.job_renew_failed", exc_info=True)

    def drain(self, timeout: float) -> int:
        """Stop claiming, wait up to `timeout` s for the jobs in hand; release the rest. Returns how many."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            in_hand = len(self._in_hand)
        log.info("slack.draining", extra={"in_flight": in_hand, "timeout_s": timeout})
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.name != "slack-answer-lease":
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        with self._cond:
            left = list(self._in_hand)
        released = self._queue.release(left) if (left and self._queue) else 0
        log.info("slack.drained", extra={"unfinished": len(left), "released": released})
        return released

    def shutdown(self) -> None:
        """Stop without waiting (tests, interpreter exit); leases of jobs in hand simply expire."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()


def replica_id() -> str:
    """Who holds a lease: host, pid and a random part (a restarted process is a new owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class Runtime:
    settings: Settings
    service: AnswerBackend
    store: SlackStore
    audiences: AudienceResolver
    feedback: FeedbackStore
    threads: ThreadRegistry
    limiter: RateLimiter
    workers: AnswerWorkers
    dedupe: EventDeduplicator
    queue: JobQueue
    streaming: bool = True
    """Cleared for the process when the workspace refuses chat.startStream."""
    client: Any = None
    """The Web API client workers answer with (Bolt's), set by `start`."""

    @classmethod
    def create(cls, settings: Settings, service: AnswerBackend) -> Runtime:
        """Open (and migrate) the state store; workers start with `start`."""
        store = SlackStore.from_settings(settings)
        return cls(
            settings=settings,
            service=service,
            store=store,
            audiences=AudienceResolver(settings),
            feedback=FeedbackStore(store),
            threads=ThreadRegistry(store),
            limiter=RateLimiter(store, per_user=settings.slack_user_rate_per_minute,
                                per_channel=settings.slack_channel_rate_per_minute),
            workers=AnswerWorkers(settings.slack_workers, max_pending=settings.slack_max_pending,
                                  poll_s=settings.slack_queue_poll_s),
            dedupe=EventDeduplicator(store),
            queue=JobQueue(store, owner=replica_id(), lease_s=settings.slack_job_lease_s),
            streaming=settings.slack_streaming,
        )

    def start(self, client: Any) -> None:
        """Start answering queued questions with `client` (idempotent)."""
        from bot.slack.answering import run_job  # answering imports this module

        self.client = client
        self.workers.start(self.queue, lambda job: run_job(self, job), maintenance=self.store.prune)

    def drain(self) -> int:
        return self.workers.drain(self.settings.slack_drain_timeout_s)

    def attach(self, context: Any, next: Any) -> Any:
        """Bolt global middleware: makes this runtime `context["gcot"]` for every listener."""
        context[CONTEXT_KEY] = self
        return next()


def runtime_of(context: Any) -> Runtime:
    return context[CONTEXT_KEY]
