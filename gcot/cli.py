"""The `gcot` command, with every subcommand registered in one place.

Each part of the data flow owns its commands (`ingest/cli.py`, `bot/cli.py`, `evals/cli.py`); their
modules import only typer at load time, so `gcot --help` is instant.

Commands print their output and, on failure, one line `error: ...` on stderr (exit 2 for bad input or
configuration, 1 otherwise); JSON logs appear from WARNING unless `GCOT_LOG_LEVEL` or `--verbose`
asks for more. An unexpected exception is one line too; its traceback is logged at INFO (`--verbose`).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from bot import cli as bot_cli
from bot.slack.state import cli as db_cli
from evals import bench_cli
from evals import cli as evals_cli
from ingest import cli as ingest_cli

app = typer.Typer(
    help="The coalition assistant: ingest documents, ask questions, run the Slack bot and evals.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO on stderr (GCOT_LOG_LEVEL=INFO).")] = False,
) -> None:
    """The coalition assistant."""
    if verbose and os.environ.get("GCOT_LOG_LEVEL", "").upper() not in ("DEBUG", "INFO"):
        os.environ["GCOT_LOG_LEVEL"] = "INFO"  # the settings read it, in this process and any it starts


ingest_cli.register(app)
bot_cli.register(app)
evals_cli.register(app)
bench_cli.register(app)
db_cli.register(app)


def main() -> None:
    """Entry point of the `gcot` script: the app, with any unexpected error reduced to one line."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last net: one line for people, the traceback in the log
        logging.getLogger("gcot.cli").info("command_failed", exc_info=True, extra={"error_type": type(exc).__name__})
        detail = " ".join(str(exc).split()) or type(exc).__name__
        typer.echo(f"error: {detail} ({type(exc).__name__}; run with --verbose for the traceback)", err=True)
        sys.exit(1)
