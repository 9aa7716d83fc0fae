"""Alembic environment for the Slack state store.

`bot.slack.state.migrate.upgrade` passes an open connection (holding the migration lock) in
`config.attributes["connection"]`; the `alembic` command line can use `sqlalchemy.url` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from bot.slack.state.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    with create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool).connect() as conn:
        _run(conn)
        conn.commit()
