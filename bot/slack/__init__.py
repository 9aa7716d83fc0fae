"""The Slack front end: Socket Mode or the HTTP Events API over the shared AnswerService.

Re-exports are resolved lazily so `gcot --help` does not import Bolt.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Runtime": "bot.slack.runtime",
    "build_app": "bot.slack.app",
    "build_http_app": "bot.slack.http_app",
    "build_socket_mode_handler": "bot.slack.socket_mode",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(name)
    return getattr(importlib.import_module(_EXPORTS[name]), name)
