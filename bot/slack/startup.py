"""Checks `gcot slack` makes before the slow index load, each failure one line for the operator.

- the settings the chosen mode needs (Socket Mode: `SLACK_BOT_TOKEN` and `SLACK_APP_TOKEN`; HTTP:
  `SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET`);
- that Slack answers at `SLACK_API_URL` (`auth.test`), and accepts the bot token and, in Socket Mode,
  the app-level token (`apps.connections.open`).
"""

from __future__ import annotations

import logging
from typing import Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_sdk.http_retry import ConnectionErrorRetryHandler
from gcot.settings import Settings

Mode = Literal["socket", "http"]

PROBE_LOGGER = "bot.slack.startup.probe"
"""The probes' client logger, silenced: slack_sdk logs each failed attempt at ERROR; the one line says it all."""


class StartupError(Exception):
    """Why the bot cannot start, as one line for the operator."""


def choose_mode(settings: Settings, *, http: bool) -> Mode:
    """`--http` or `SLACK_MODE=http` -> HTTP; `socket` -> Socket Mode; `auto`: Socket Mode unless only the
    signing secret is set (the docs' default is Socket Mode, so a bare token is taken to mean it)."""
    if http or settings.slack_mode == "http":
        return "http"
    if settings.slack_mode == "socket":
        return "socket"
    if settings.slack_app_token is None and settings.slack_signing_secret is not None:
        return "http"
    return "socket"


def missing_settings(settings: Settings, mode: Mode) -> list[str]:
    """Names of the settings `mode` needs that are not set."""
    needed = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_APP_TOKEN" if mode == "socket" else "SLACK_SIGNING_SECRET":
            settings.slack_app_token if mode == "socket" else settings.slack_signing_secret,
    }
    return [name for name, value in needed.items() if value is None or not value.get_secret_value().strip()]


def check_settings(settings: Settings, *, http: bool) -> Mode:
    """The mode to run in, once its settings are all there.

    Raises:
        StartupError: naming every missing setting (and, in auto mode, the other choice).
    """
    mode = choose_mode(settings, http=http)
    missing = missing_settings(settings, mode)
    if missing:
        hint = " (or SLACK_SIGNING_SECRET with --http)" if mode == "socket" and settings.slack_mode == "auto" and not http else ""
        raise StartupError(f"{', '.join(missing)} not set{hint} (see docs/slack.md)")
    return mode


def check_slack(settings: Settings, mode: Mode) -> None:
    """Slack is reachable and accepts the tokens.

    Raises:
        StartupError: "cannot reach Slack at URL (reason)" or "Slack rejected SLACK_..._TOKEN (error)".
    """
    quiet = logging.getLogger(PROBE_LOGGER)
    quiet.setLevel(logging.CRITICAL + 1)
    quiet.propagate = False
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = WebClient(token=token, base_url=base_url, timeout=10, logger=quiet,
                       retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)])
    _call(settings, "SLACK_BOT_TOKEN", client.auth_test)
    if mode == "socket" and settings.slack_app_token is not None:
        app_client = WebClient(base_url=base_url, timeout=10, logger=quiet)
        token = settings.slack_app_token.get_secret_value()
        _call(settings, "SLACK_APP_TOKEN", lambda: app_client.apps_connections_open(app_token=token))


def _call(settings: Settings, token_name: str, call) -> None:  # type: ignore[no-untyped-def]
    try:
        call()
    except SlackApiError as exc:
        status = getattr(exc.response, "status_code", 200)
        if status >= 500:  # Slack (or the proxy in front of it) is down, the token may be fine
            raise StartupError(f"cannot reach Slack at {settings.slack_api_url} (HTTP {status})") from None
        raise StartupError(f"Slack rejected {token_name} ({exc.response.get('error') or f'HTTP {status}'})") from None
    except (OSError, TimeoutError) as exc:  # URLError, refused connections, DNS failures, timeouts
        reason = getattr(exc, "reason", None) or exc
        raise StartupError(f"cannot reach Slack at {settings.slack_api_url} ({_one_line(reason)})") from None


def _one_line(reason: object) -> str:
    return " ".join(str(reason).split()) or type(reason).__name__
