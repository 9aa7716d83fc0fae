from slack_bolt import App

from bot.slack.blocks import ESCALATE, FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL

from .escalate import escalate_callback
from .feedback import feedback_callback


def register(app: App) -> None:
    app.action(FEEDBACK_HELPFUL)(feedback_callback)
    app.action(FEEDBACK_NOT_HELPFUL)(feedback_callback)
    app.action(ESCALATE)(escalate_callback)
