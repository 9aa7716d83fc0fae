"""The Slack app's shared state: SQLAlchemy 2 models, the engine factory, Alembic migrations and the
durable answer queue.

One schema, two engines: SQLite under `GCOT_DATA_DIR` (`slack.sqlite3`, the embedded default) or
PostgreSQL at `GCOT_DATABASE_URL`, which every replica of the app shares. Nothing is imported or opened
at import time of this package; `bot.slack.store.SlackStore` is the entry point.
"""
