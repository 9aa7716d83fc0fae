"""The Slack app's own state in one SQLite file under the data dir (`slack.sqlite3`).

Tables: `answers` (what each posted answer was about, for feedback and escalation), `feedback`
(votes), `threads` (threads the bot answered, so follow-ups need no mention) and `meta` (the salt used
to hash user ids). One connection guarded by a lock: writes are tiny and rare next to answering.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY, question TEXT NOT NULL, audience TEXT NOT NULL, status TEXT NOT NULL,
    doc_ids TEXT NOT NULL, channel TEXT NOT NULL, question_ts TEXT NOT NULL, thread_ts TEXT NOT NULL,
    escalated_at REAL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL, user_hash TEXT NOT NULL, helpful INTEGER NOT NULL, question TEXT NOT NULL,
    doc_ids TEXT NOT NULL, audience TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_hash)
);
CREATE TABLE IF NOT EXISTS threads (channel TEXT NOT NULL, thread_ts TEXT NOT NULL, answered_at REAL NOT NULL,
    PRIMARY KEY (channel, thread_ts));
"""


class SlackStore:
    """Opens (creating if needed) `path` and prunes rows older than `retention_days`."""

    def __init__(self, path: Path, *, retention_days: int = 90) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self.cursor() as cur:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.executescript(_SCHEMA)
            cutoff = time.time() - retention_days * 86400
            cur.execute("DELETE FROM answers WHERE created_at < ?", (cutoff,))
            cur.execute("DELETE FROM threads WHERE answered_at < ?", (cutoff,))
            cur.execute("INSERT OR IGNORE INTO meta VALUES ('user_salt', ?)", (secrets.token_hex(16),))
            self.user_salt = cur.execute("SELECT value FROM meta WHERE key='user_salt'").fetchone()[0]

    @classmethod
    def in_data_dir(cls, data_dir: Path, *, retention_days: int = 90) -> SlackStore:
        return cls(data_dir / "slack.sqlite3", retention_days=retention_days)

    @contextmanager
    def cursor(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                yield cur
            finally:
                cur.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
