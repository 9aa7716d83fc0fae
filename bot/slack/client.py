"""The Slack Web API client: base URL from settings (so a local stand-in can play Slack), and retries
with backoff on 429 (honouring Retry-After), 5xx and dropped connections."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from gcot.settings import Settings


class AnyServerErrorRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's handler retries only 500 and 503; a 502 or 504 from Slack's edge is as transient."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[no-untyped-def]
        return response is not None and 500 <= response.status_code <= 599


def build_web_client(settings: Settings, *, max_retries: int = 2) -> WebClient:
    """A `WebClient` for the bot token at `settings.slack_api_url`.

    Raises:
        ValueError: if `SLACK_BOT_TOKEN` is not set.
    """
    if settings.slack_bot_token is None:
        msg = "SLACK_BOT_TOKEN is not set"
        raise ValueError(msg)
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            RateLimitErrorRetryHandler(max_retry_count=max_retries),
            AnyServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )
