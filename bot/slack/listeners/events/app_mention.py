"""`app_mention`: a mention in a channel is answered in the message's thread."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.slack.answering import schedule_answer
from bot.slack.listeners.internals import bot_of, is_person_asking, question_from_event
from bot.slack.runtime import runtime_of


def app_mention_callback(event: dict[str, Any], body: dict[str, Any], context: Any, client: WebClient) -> None:
    if not is_person_asking(event, context):
        return
    question = question_from_event(event, context, body, thread_ts=event.get("thread_ts") or event["ts"])
    schedule_answer(runtime_of(context), client, question, bot=bot_of(context))
