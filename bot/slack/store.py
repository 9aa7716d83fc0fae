"""The Slack app's state store: one SQLAlchemy engine over SQLite (default) or PostgreSQL.

Tables are in `bot/slack/state/models.py`; the schema is brought up to date by Alembic when a store
is opened (`migrate=True`, what the app does at start-up) or by `gcot db upgrade`. The per-install salt
for hashing user ids lives in `meta` and is shared by every replica on one database.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, text

from bot.slack.state.engine import database_url, make_engine, sqlite_url
from bot.slack.state.migrate import Upgrade, upgrade
from bot.slack.state.models import TABLES
from gcot.settings import Settings

DAY_S = 86400
EVENT_TTL_S = 3600.0
"""How long an event id (and a finished job) is remembered; Slack retries for about 5 minutes."""


class SlackStore:
    """Opens `target` (a database URL, or a path to a SQLite file), migrates it and prunes old rows.

    Example:
        >>> store = SlackStore.from_settings(Settings())  # doctest: +SKIP
        >>> with store.begin() as conn: ...  # doctest: +SKIP
    """

    def __init__(self, target: str | Path, *, retention_days: int = 90, migrate: bool = True,
                 pool_size: int = 10) -> None:
        url = target if isinstance(target, str) and "://" in target else sqlite_url(Path(target))
        self.engine: Engine = make_engine(url, pool_size=pool_size)
        self.dialect = self.engine.dialect.name
        self.retention_days = retention_days
        self.migration: Upgrade | None = upgrade(self.engine) if migrate else None
        self.user_salt = self._salt()
        self.prune()

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = True) -> SlackStore:
        return cls(database_url(settings), retention_days=settings.slack_retention_days, migrate=migrate,
                   pool_size=settings.slack_workers + 8)

    @classmethod
    def in_data_dir(cls, data_dir: Path, *, retention_days: int = 90) -> SlackStore:
        return cls(data_dir / "slack.sqlite3", retention_days=retention_days)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction (committed on success, rolled back on error)."""
        with self.engine.begin() as conn:
            yield conn

    def table(self, name: str):  # type: ignore[no-untyped-def]
        return TABLES[name]

    def insert(self, name: str) -> Any:
        """The dialect's INSERT for table `name`, with `on_conflict_do_nothing/update` available."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(TABLES[name])

    def lock_keys(self, conn: Connection, keys: list[str]) -> None:
        """Serialise read-then-write sections on `keys` across replicas until the transaction ends.

        PostgreSQL: transaction advisory locks, taken in sorted order (no deadlocks). SQLite needs
        nothing: every transaction already holds the database's write lock (`BEGIN IMMEDIATE`).
        """
        if self.dialect == "postgresql":
            for key in sorted(set(keys)):
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - a probe reports, it does not raise
            return False

    def prune(self, now: float | None = None) -> dict[str, int]:
        """Delete questions, answers, feedback and thread marks older than the retention, finished jobs
        and event claims older than `EVENT_TTL_S`, and rate-limit hits older than an hour."""
        now = time.time() if now is None else now
        cutoff = now - self.retention_days * DAY_S
        t = TABLES
        statements = {
            "answers": delete(t["answers"]).where(t["answers"].c.created_at < cutoff),
            "feedback": delete(t["feedback"]).where(t["feedback"].c.created_at < cutoff),
            "threads": delete(t["threads"]).where(t["threads"].c.answered_at < cutoff),
            "jobs": delete(t["jobs"]).where(
                (t["jobs"].c.created_at < cutoff)
                | (t["jobs"].c.status.in_(("done", "failed")) & (t["jobs"].c.updated_at < now - EVENT_TTL_S))),
            "slack_events": delete(t["slack_events"]).where(t["slack_events"].c.claimed_at < now - EVENT_TTL_S),
            "rate_hits": delete(t["rate_hits"]).where(t["rate_hits"].c.at < now - 3600),
        }
        with self.begin() as conn:
            return {name: conn.execute(stmt).rowcount for name, stmt in statements.items()}

    def _salt(self) -> str:
        meta = TABLES["meta"]
        with self.begin() as conn:
            conn.execute(self.insert("meta").values(key="user_salt", value=secrets.token_hex(16))
                         .on_conflict_do_nothing(index_elements=["key"]))
            return conn.execute(select(meta.c.value).where(meta.c.key == "user_salt")).scalar_one()

    def close(self) -> None:
        self.engine.dispose()
