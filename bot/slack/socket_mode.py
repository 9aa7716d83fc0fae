"""Socket Mode: Slack pushes events over a WebSocket the app opens (no public URL needed).

`apps.connections.open` goes through the same Web API client as everything else, so with
`SLACK_API_URL` pointing at a stand-in the whole app runs locally.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.slack.app import build_app
from bot.slack.runtime import AnswerBackend, Runtime
from gcot.settings import Settings

log = logging.getLogger(__name__)


def build_socket_mode_handler(settings: Settings, service: AnswerBackend, *,
                              runtime: Runtime | None = None) -> SocketModeHandler:
    """A connected-on-`connect()` handler; call `start()` to block, `close()` to stop.

    Raises:
        ValueError: if `SLACK_APP_TOKEN` is not set.
    """
    if settings.slack_app_token is None:
        msg = "SLACK_APP_TOKEN is not set (an app-level token with connections:write)"
        raise ValueError(msg)
    bolt = build_app(runtime or Runtime.create(settings, service), http=False)
    return SocketModeHandler(bolt, app_token=settings.slack_app_token.get_secret_value(), web_client=bolt.client)


def serve_socket_mode(settings: Settings, service: AnswerBackend) -> None:
    log.info("slack.socket_mode_starting")
    build_socket_mode_handler(settings, service).start()
