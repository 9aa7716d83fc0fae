"""Answer each Slack event once, across every replica sharing the state store.

Slack re-sends an event (`X-Slack-Retry-Num`, same `event_id`) when our ack was slow or lost, and
Socket Mode re-delivers envelopes after a reconnect; behind a load balancer the retry may reach
another replica. This global middleware claims the `event_id` with one atomic statement (insert, or
take over a claim that expired or was abandoned unfinished) and acks a repeated one without running
any listener. The HTTP handler marks a claim done once the event is acked (its question recorded as a
job), or releases it when the request failed, so Slack's next retry is handled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse

from bot.slack.store import EVENT_TTL_S, SlackStore

log = logging.getLogger(__name__)

CLAIMED = "gcot_event_claimed"
"""Bolt context key: this request claimed its event id (so the handler finishes or releases it)."""


class EventDeduplicator:
    """`ttl_s`: how long an id is remembered; `stale_s`: after this, an unfinished claim (its replica
    died before acking) is taken over by the next delivery."""

    def __init__(self, store: SlackStore, *, ttl_s: float = EVENT_TTL_S, stale_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.stale_s = stale_s
        self.clock = clock

    def first_time(self, event_id: str) -> bool:
        """Claim `event_id`; True for exactly one caller among all replicas (until the claim expires)."""
        now = self.clock()
        events = self.store.table("slack_events")
        stmt = self.store.insert("slack_events").values(event_id=event_id, claimed_at=now, done=False)
        stmt = stmt.on_conflict_do_update(
            index_elements=["event_id"], set_={"claimed_at": now, "done": False},
            where=(events.c.claimed_at < now - self.ttl_s)
            | (events.c.done.is_(False) & (events.c.claimed_at < now - self.stale_s)))
        with self.store.begin() as conn:  # RETURNING: a row only if inserted or taken over
            return conn.execute(stmt.returning(events.c.event_id)).first() is not None

    def finish(self, event_id: str) -> None:
        """The event was acked: later deliveries are duplicates until the TTL."""
        events = self.store.table("slack_events")
        with self.store.begin() as conn:
            conn.execute(events.update().where(events.c.event_id == event_id).values(done=True))

    def release(self, event_id: str) -> None:
        """Handling failed before the ack: let Slack's retry claim it again."""
        events = self.store.table("slack_events")
        with self.store.begin() as conn:
            conn.execute(events.delete().where(events.c.event_id == event_id))

    def middleware(self, req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Bolt global middleware: `app.use(deduplicator.middleware)`."""
        event_id = req.body.get("event_id")
        if event_id:
            if not self.first_time(event_id):
                retry = req.headers.get("x-slack-retry-num", [None])[0]
                log.info("slack.duplicate_event", extra={"event_id": event_id, "retry_num": retry})
                return BoltResponse(status=200, body="")
            req.context[CLAIMED] = event_id
        return next()
