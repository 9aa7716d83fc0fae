"""Bring the state schema to the newest revision, once, however many replicas start together.

The upgrade runs under a lock: a PostgreSQL session advisory lock (every replica's `upgrade` waits for
the first one, then finds the schema current), or an exclusive `flock` on a file beside the SQLite
database. Whoever holds the lock reads the current revision, runs Alembic's `upgrade head` on the same
connection, and commits.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x6763_6F74_0014  # any constant shared by all replicas; "gcot" + the issue number


@dataclass(frozen=True)
class Upgrade:
    before: str | None
    after: str | None

    @property
    def applied(self) -> bool:
        return self.before != self.after


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> Upgrade:
    """Run pending migrations (under the lock); returns the revisions before and after."""
    with _migration_lock(engine) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        if before != head_revision():
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        conn.commit()
        after = MigrationContext.configure(conn).get_current_revision()
        conn.commit()
    result = Upgrade(before, after)
    log.info("slack.db_migrated" if result.applied else "slack.db_up_to_date",
             extra={"dialect": engine.dialect.name, "from_revision": before, "to_revision": after})
    return result


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with engine.connect() as conn:
            yield conn
        return
    with open(f"{database}.migrate-lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
