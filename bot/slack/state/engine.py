"""The SQLAlchemy engine for the state store: SQLite under the data dir, or PostgreSQL.

SQLite runs every transaction as `BEGIN IMMEDIATE` (the pysqlite recipe from SQLAlchemy's docs): the
write lock is taken up front, so a read-then-write (a rate-limit check, a job claim) is atomic across
threads and processes on one file, and no transaction dies upgrading a read lock to a write lock.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from gcot.settings import Settings

SQLITE_FILE = "slack.sqlite3"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def database_url(settings: Settings) -> str:
    """`GCOT_DATABASE_URL` if set, else the SQLite file in `GCOT_DATA_DIR`."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return sqlite_url(settings.data_dir / SQLITE_FILE)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url` (`sqlite:///...` or `postgresql+psycopg://...`).

    Raises:
        ValueError: for another kind of database.
    """
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if not url.startswith("postgresql"):
        msg = "GCOT_DATABASE_URL must be a postgresql+psycopg:// URL (or unset for SQLite)"
        raise ValueError(msg)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800)


def _sqlite_engine(url: str) -> Engine:
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
