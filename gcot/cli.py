"""The `gcot` command, with every subcommand registered in one place.

Each part of the data flow owns its commands (`ingest/cli.py`, `bot/cli.py`, `evals/cli.py`); their
modules import only typer at load time, so `gcot --help` is instant.
"""

from __future__ import annotations

import typer

from bot import cli as bot_cli
from evals import bench_cli
from evals import cli as evals_cli
from ingest import cli as ingest_cli

app = typer.Typer(
    help="The coalition assistant: ingest documents, ask questions, run the Slack bot and evals.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """The coalition assistant."""


ingest_cli.register(app)
bot_cli.register(app)
evals_cli.register(app)
bench_cli.register(app)


def main() -> None:
    app()
