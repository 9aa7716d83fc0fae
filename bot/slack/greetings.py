"""Who has been greeted in the agent view: one row per user in the state store's `meta` table.

The key is a salted hash of the user (as for votes), so the store never holds the user id itself.
The insert is a no-op when the row exists, so with several replicas a user is still greeted once.
"""

from __future__ import annotations

import hashlib
import time

from bot.slack.store import SlackStore


def greeting_key(store: SlackStore, team: str | None, user: str) -> str:
    digest = hashlib.sha256(f"{store.user_salt}:{team or ''}:{user}".encode()).hexdigest()[:32]
    return f"greeted:{digest}"


def mark_greeted(store: SlackStore, team: str | None, user: str) -> bool:
    """True the first time only (for this user in this workspace), then False forever."""
    statement = (store.insert("meta").values(key=greeting_key(store, team, user), value=f"{time.time():.0f}")
                 .on_conflict_do_nothing(index_elements=["key"]))
    with store.begin() as conn:
        return conn.execute(statement).rowcount == 1
