from slack_bolt import App, Assistant

from .thread_started import thread_started_callback
from .user_message import user_message_callback


def _ignore_context_change() -> None:
    """We never use the channel a user is viewing, so skip Bolt's default (two API calls per change)."""


def register(app: App) -> None:
    assistant = Assistant()
    assistant.thread_started(thread_started_callback)
    assistant.user_message(user_message_callback)
    assistant.thread_context_changed(_ignore_context_change)
    app.assistant(assistant)
