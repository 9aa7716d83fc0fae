"""Everything the listeners share, built once per process and handed to them through Bolt's context."""

from __future__ import annotations

from collections.abc import Sequence
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


class AnswerBackend(Protocol):
    """The part of `bot.answer.service.AnswerService` the Slack app uses."""

    def ask(self, question: str, *, audience: str, history: Sequence[Turn] = ()) -> Answer: ...

    def ready(self) -> dict[str, bool]: ...

    def topics(self, audience: str) -> list[dict]: ...


@dataclass
class Runtime:
    settings: Settings
    service: AnswerBackend
    store: SlackStore
    audiences: AudienceResolver
    feedback: FeedbackStore
    threads: ThreadRegistry
    limiter: RateLimiter
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
            streaming=settings.slack_streaming,
        )

    def attach(self, context: Any, next: Any) -> Any:
        """Bolt global middleware: makes this runtime `context["gcot"]` for every listener."""
        context[CONTEXT_KEY] = self
        return next()


def runtime_of(context: Any) -> Runtime:
    return context[CONTEXT_KEY]
