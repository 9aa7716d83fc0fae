""""Ask the outreach team": pass an unanswered question to the escalation channel.

The escalation post carries the question and a permalink to it, nothing else from the conversation, so
no other message text leaves the channel it was written in.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.slack.answering import APOLOGY
from bot.slack.mrkdwn import escape_mrkdwn
from bot.slack.replies import post_notice
from bot.slack.runtime import runtime_of

log = logging.getLogger(__name__)

PASSED_ON = "I've passed your question on to the outreach team. Someone will follow up with you."
ALREADY = "This question has already been passed on to the outreach team."


def escalate_callback(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: Any, client: WebClient) -> None:
    ack()
    runtime = runtime_of(context)
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    thread_ts = (body.get("message") or {}).get("thread_ts")
    private = str(channel or "").startswith("D")
    notify_user = None if private else user
    marked = False
    try:
        record = runtime.feedback.answer(action["value"])
        target = runtime.settings.slack_escalation_channel
        if record is None or not target:
            raise LookupError("unknown answer or no escalation channel")
        if not runtime.feedback.mark_escalated(record.answer_id):
            post_notice(client, ALREADY, channel=record.channel, thread_ts=thread_ts, ephemeral_user=notify_user)
            return
        marked = True
        permalink = client.chat_getPermalink(channel=record.channel, message_ts=record.question_ts)["permalink"]
        text = f"*Question passed on from Slack* (<{permalink}|view in Slack>)\n>{escape_mrkdwn(record.question)}"
        client.chat_postMessage(channel=target, text=text, unfurl_links=False, unfurl_media=False)
        post_notice(client, PASSED_ON, channel=record.channel, thread_ts=thread_ts, ephemeral_user=notify_user)
        log.info("slack.escalated", extra={"answer_id": record.answer_id, "channel": record.channel})
    except Exception as exc:  # noqa: BLE001 - the asker still hears back
        ref = secrets.token_hex(4)
        if marked:  # let a later click try again
            runtime.feedback.clear_escalation(action["value"])
        log.error("slack.escalation_failed", exc_info=True, extra={"ref": ref, "error_type": type(exc).__name__})
        if channel:
            post_notice(client, APOLOGY.format(ref=ref), channel=channel, thread_ts=thread_ts, ephemeral_user=notify_user)
