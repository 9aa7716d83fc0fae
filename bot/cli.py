"""Commands of `bot/` (filled in by its issue)."""

from __future__ import annotations

import typer

from bot.slack import cli as slack_cli


def register(app: typer.Typer) -> None:
    """Attach this part's commands to the `gcot` app."""
    slack_cli.register(app)
