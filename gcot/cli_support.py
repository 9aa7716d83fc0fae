"""Small helpers shared by the command modules."""

from __future__ import annotations

from gcot.logs import configure_logging
from gcot.settings import Settings


def load_settings() -> Settings:
    """Read settings and configure structured logging; called at the start of every command."""
    settings = Settings()
    configure_logging(settings.log_level)
    return settings
