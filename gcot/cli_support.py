"""Small helpers shared by the command modules: settings, logging, and one-line errors."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from gcot.logs import configure_logging
from gcot.settings import Settings


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` (one line) on stderr and return the Exit to raise."""
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    return typer.Exit(code)


def settings_error(exc: ValidationError) -> str:
    """A pydantic validation error as one line naming each bad setting."""
    parts = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error.get("loc", ())) or "settings"
        parts.append(f"{name.upper()}: {error.get('msg', 'invalid')}")
    return "invalid setting " + "; ".join(parts)


def load_settings() -> Settings:
    """Read settings and configure structured logging; called at the start of every command.

    Raises:
        typer.Exit: (code 2, after a one-line error) when a setting is invalid.
    """
    try:
        settings = Settings()
        configure_logging(settings.log_level)
    except ValidationError as exc:
        raise fail(settings_error(exc)) from None
    except ValueError as exc:  # a log level that is not one
        raise fail(str(exc)) from None
    return settings
