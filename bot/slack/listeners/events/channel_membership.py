"""Membership and sharing events: a channel's cached audience verdict is dropped the moment it may change.

Slack sends, for channels the bot is in (Events API docs):

- `channel_shared`: a channel became shared with another organisation (converted to Slack Connect,
  or one more organisation joined); `channel_unshared`: an organisation left it;
- `member_joined_channel` / `member_left_channel`: someone (a guest, an outside user) joined or left;
- `user_change`: a user's account changed (e.g. a full member turned into a guest).

There is no `channel_converted` event: a conversion to Slack Connect arrives as `channel_shared`.

The invalidation runs as listener middleware, which Bolt runs while dispatching the request, before it
acks: by the time Slack (or a test) has the ack, the next question is judged afresh. It touches only
in-process memory, so the ack is not delayed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.slack.runtime import runtime_of

log = logging.getLogger(__name__)

EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "channel_shared": ("channels:read", "groups:read"),
    "channel_unshared": ("channels:read", "groups:read"),
    "member_joined_channel": ("channels:read", "groups:read"),
    "member_left_channel": ("channels:read", "groups:read"),
    "user_change": ("users:read",),
}
"""The bot events handled here and the scopes Slack needs to send each (for the manifest)."""


def _channel_id(event: dict[str, Any]) -> str | None:
    channel = event.get("channel")
    return channel.get("id") if isinstance(channel, dict) else channel


def invalidate_audience(context: Any, event: dict[str, Any], next: Callable[[], Any]) -> Any:  # noqa: A002
    """Listener middleware: drop the cached verdicts this event may have changed, then go on."""
    audiences = runtime_of(context).audiences
    kind = event.get("type")
    channel = _channel_id(event)
    if kind == "user_change" and isinstance(event.get("user"), dict):
        audiences.user_changed(event["user"])
    elif channel:
        audiences.invalidate_channel(channel)
        if kind == "member_joined_channel" and isinstance(event.get("user"), str):
            audiences.invalidate_user(event["user"])  # a new account: read its flags afresh
    return next()


def membership_changed_callback(event: dict[str, Any]) -> None:
    """The verdicts are already dropped (middleware); record that it happened, ids only."""
    log.info("slack.audience_invalidated", extra={"event_type": event.get("type"), "channel": _channel_id(event)})


def register(app: App) -> None:
    """Attach the listeners (before any catch-all, so these events reach them)."""
    for event_type in EVENT_SCOPES:
        app.event(event_type, middleware=[invalidate_audience])(membership_changed_callback)
