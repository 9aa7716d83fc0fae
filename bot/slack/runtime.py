"""Everything the listeners share, built once per process and handed to them through Bolt's context."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.answer import Answer, Turn
from bot.slack.audience import AudienceResolver
from bot.slack.dedupe import EventDeduplicator
from bot.slack.feedback import FeedbackStore
from bot.slack.ratelimit import RateLimiter
from bot.slack.store import SlackStore
from bot.slack.threads import ThreadRegistry
from gcot.settings import Settings

CONTEXT_KEY = "gcot"

log = logging.getLogger(__name__)


class AnswerBackend(Protocol):
    """The part of `bot.answer.service.AnswerService` the Slack app uses."""

    def ask(self, question: str, *, audience: str, history: Sequence[Turn] = ()) -> Answer: ...

    def ready(self) -> dict[str, bool]: ...

    def topics(self, audience: str) -> list[dict]: ...


class AnswerWorkers:
    """A bounded pool for answering, separate from Bolt's listener threads.

    Answering is CPU-bound and slow next to everything else; on its own pool it can never hold up a
    button's `ack()` (which Bolt runs on its listener threads), and past `max_pending` queued questions
    `submit` refuses at once instead of letting waits grow without bound.
    """

    def __init__(self, workers: int, *, max_pending: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-answer")
        self.max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> bool:
        with self._lock:
            if self._pending >= self.max_pending:
                return False
            self._pending += 1
        self._pool.submit(self._run, fn, args, kwargs)
        return True

    def _run(self, fn: Callable[..., object], args: tuple, kwargs: dict) -> None:
        try:
            fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - jobs handle their own errors; this is the last net
            log.error("slack.worker_failed", exc_info=True)
        finally:
            with self._lock:
                self._pending -= 1

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


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
    dedupe: EventDeduplicator = field(default_factory=EventDeduplicator)
    streaming: bool = True
    """Cleared for the process when the workspace refuses chat.startStream."""

    @classmethod
    def create(cls, settings: Settings, service: AnswerBackend) -> Runtime:
        store = SlackStore.in_data_dir(settings.data_dir, retention_days=settings.slack_retention_days)
        return cls(
            settings=settings,
            service=service,
            store=store,
            audiences=AudienceResolver(settings),
            feedback=FeedbackStore(store),
            threads=ThreadRegistry(store),
            limiter=RateLimiter(per_user=settings.slack_user_rate_per_minute,
                                per_channel=settings.slack_channel_rate_per_minute),
            workers=AnswerWorkers(settings.slack_workers, max_pending=settings.slack_max_pending),
            streaming=settings.slack_streaming,
        )

    def attach(self, context: Any, next: Any) -> Any:
        """Bolt global middleware: makes this runtime `context["gcot"]` for every listener."""
        context[CONTEXT_KEY] = self
        return next()


def runtime_of(context: Any) -> Runtime:
    return context[CONTEXT_KEY]
