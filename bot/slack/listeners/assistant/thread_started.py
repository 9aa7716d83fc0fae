"""`assistant_thread_started`: greet, and offer prompts drawn from the corpus topics."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from slack_bolt.context.set_suggested_prompts import SetSuggestedPrompts
from slack_sdk import WebClient

from bot.slack.answering import APOLOGY
from bot.slack.prompts import GREETING, suggested_prompts
from bot.slack.replies import post_notice
from bot.slack.runtime import runtime_of

log = logging.getLogger(__name__)


def thread_started_callback(event: dict[str, Any], context: Any, client: WebClient,
                            set_suggested_prompts: SetSuggestedPrompts) -> None:
    thread = event["assistant_thread"]
    channel, thread_ts = thread["channel_id"], thread["thread_ts"]
    runtime = runtime_of(context)
    try:
        audience = runtime.audiences.resolve(client, channel=channel, user=thread["user_id"], team=context.team_id,
                                             channel_type="im", enterprise=context.enterprise_id)
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=GREETING)
        set_suggested_prompts(prompts=suggested_prompts(runtime.service.topics(audience)), title="Try asking")
    except Exception as exc:  # noqa: BLE001 - the user still hears back
        ref = secrets.token_hex(4)
        log.error("slack.greeting_failed", exc_info=True, extra={"ref": ref, "error_type": type(exc).__name__})
        post_notice(client, APOLOGY.format(ref=ref), channel=channel, thread_ts=thread_ts)
