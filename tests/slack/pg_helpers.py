"""A fresh PostgreSQL database per test module on the machine's server (127.0.0.1:5432, trust auth).

`GCOT_TEST_PG_URL` overrides the admin URL. When PostgreSQL cannot be reached the tests skip, except
under CI (env `CI` set), where they fail: the CI machine always runs PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ADMIN_URL = os.environ.get("GCOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_database(prefix: str = "gcot_test") -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards (runs never collide)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {ADMIN_URL.split('@')[-1]}: {str(exc).splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
