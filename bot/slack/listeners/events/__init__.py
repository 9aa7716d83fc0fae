import re

from slack_bolt import App

from . import channel_membership
from .app_context_changed import app_context_changed_callback
from .app_home_opened import app_home_opened_callback
from .app_mention import app_mention_callback
from .message import message_callback


def ignore_other_events() -> None:
    """Acked and dropped: an unmatched event would get Bolt's 404 (Slack retries) and a log line with its body."""


def register(app: App) -> None:
    app.event("app_mention")(app_mention_callback)
    app.event("message")(message_callback)
    app.event("app_home_opened")(app_home_opened_callback)
    app.event("app_context_changed")(app_context_changed_callback)
    channel_membership.register(app)  # audience invalidation on sharing/membership events (F, issue 12)
    app.event(re.compile(".*"))(ignore_other_events)
