"""Answer each Slack event once.

Slack re-sends an event (`X-Slack-Retry-Num`, same `event_id`) when our ack was slow or lost, and
Socket Mode re-delivers envelopes after a reconnect. This global middleware acks a repeated
`event_id` without running any listener. Kept in memory: one process per app is the deployment we
support; several processes would need a shared store here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cachetools import TTLCache
from slack_bolt import BoltRequest, BoltResponse

log = logging.getLogger(__name__)


class EventDeduplicator:
    def __init__(self, *, ttl_s: float = 3600, maxsize: int = 100_000) -> None:
        self._seen: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl_s)
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = True
            return True

    def middleware(self, req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Bolt global middleware: `app.use(deduplicator.middleware)`."""
        event_id = req.body.get("event_id")
        if event_id and not self.first_time(event_id):
            retry = req.headers.get("x-slack-retry-num", [None])[0]
            log.info("slack.duplicate_event", extra={"event_id": event_id, "retry_num": retry})
            return BoltResponse(status=200, body="")
        return next()
