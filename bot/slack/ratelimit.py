"""Per-user and per-channel sliding-window limits, so one person or one busy channel cannot starve
the answering workers (which are few and CPU-bound).

The windows are rows in the shared state store, so N replicas allow the limit, not N times it: each
check locks its two keys (a PostgreSQL transaction advisory lock; SQLite transactions are serialised
anyway), counts the hits in the window and records a new one only if both are under their limit.
User ids are stored as salted hashes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import and_, delete, func, select

from bot.slack.feedback import hash_user
from bot.slack.store import SlackStore


class RateLimiter:
    """At most `per_user` questions per user and `per_channel` per channel in any `window_s` seconds."""

    def __init__(self, store: SlackStore, *, per_user: int, per_channel: int, window_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limits = {"user": per_user, "channel": per_channel}
        self.window_s = window_s
        self.clock = clock

    def check(self, *, user: str, channel: str, ref: str | None = None) -> str | None:
        """Count a question; returns None if allowed, else which limit (`"user"` or `"channel"`) was hit.

        A refused question is not counted, so waiting out the window always works. `ref` (the event
        id) makes a repeated check for the same question, e.g. a job re-claimed after its replica
        died, answer as the first one did without counting again.
        """
        now = self.clock()
        hits = self.store.table("rate_hits")
        keys = {"user": hash_user(self.store.user_salt, None, user), "channel": channel}
        with self.store.begin() as conn:
            self.store.lock_keys(conn, [f"rate:{scope}:{key}" for scope, key in keys.items()])
            if ref is not None and conn.execute(select(hits.c.id).where(hits.c.ref == ref).limit(1)).first():
                return None
            for scope, key in keys.items():
                in_key = and_(hits.c.scope == scope, hits.c.key == key)
                conn.execute(delete(hits).where(in_key, hits.c.at <= now - self.window_s))
                count = conn.execute(select(func.count()).select_from(hits).where(in_key)).scalar_one()
                if count >= self.limits[scope]:
                    return scope
            conn.execute(hits.insert(), [{"scope": scope, "key": key, "at": now, "ref": ref}
                                         for scope, key in keys.items()])
        return None
