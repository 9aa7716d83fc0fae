import re

from slack_bolt import Ack, App

from bot.slack.blocks import ESCALATE, FEEDBACK, FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL

from .escalate import escalate_callback
from .feedback import feedback_callback


def ack_other_actions(ack: Ack) -> None:
    """Buttons of old message versions: ack so Slack shows no error, and log nothing from the payload."""
    ack()


def register(app: App) -> None:
    app.action(FEEDBACK_HELPFUL)(feedback_callback)
    app.action(FEEDBACK_NOT_HELPFUL)(feedback_callback)
    app.action(FEEDBACK)(feedback_callback)
    app.action(ESCALATE)(escalate_callback)
    app.action(re.compile(".*"))(ack_other_actions)
