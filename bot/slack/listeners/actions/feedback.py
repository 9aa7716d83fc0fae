"""The Helpful / Not helpful buttons under every answer: Block Kit buttons on posted answers (answer id
as the value), and Slack's native `feedback_buttons` on streamed ones (`helpful:<id>` / `not_helpful:<id>`)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.slack.blocks import FEEDBACK, FEEDBACK_HELPFUL
from bot.slack.replies import post_notice
from bot.slack.runtime import runtime_of

log = logging.getLogger(__name__)

THANKS = "Thanks for the feedback. It helps us improve the answers."
EXPIRED = "Sorry, that answer is too old to take feedback on."


def feedback_callback(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: Any, client: WebClient) -> None:
    ack()
    runtime = runtime_of(context)
    answer_id, helpful = vote_of(action)
    user = body["user"]["id"]
    stored = runtime.feedback.vote(answer_id, team=context.team_id, user=user, helpful=helpful)
    log.info("slack.feedback", extra={"answer_id": answer_id, "helpful": helpful, "stored": stored})
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if channel:
        thread_ts = (body.get("message") or {}).get("thread_ts")
        post_notice(client, THANKS if stored else EXPIRED, channel=channel, thread_ts=thread_ts, ephemeral_user=user)


def vote_of(action: dict[str, Any]) -> tuple[str, bool]:
    """(answer id, helpful?) from either kind of feedback button."""
    value = str(action.get("value", ""))
    if action.get("action_id") == FEEDBACK:
        verdict, _, answer_id = value.partition(":")
        return answer_id, verdict == "helpful"
    return value, action["action_id"] == FEEDBACK_HELPFUL
