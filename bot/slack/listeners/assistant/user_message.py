"""A message in an assistant thread: status while searching, then the reply streamed."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.set_status import SetStatus
from slack_bolt.context.set_title import SetTitle
from slack_sdk import WebClient

from bot.slack.answering import best_effort, schedule_answer
from bot.slack.listeners.internals import bot_of, is_person_asking, question_from_event
from bot.slack.mrkdwn import plain_text
from bot.slack.runtime import runtime_of


def user_message_callback(payload: dict[str, Any], body: dict[str, Any], context: Any, client: WebClient,
                          set_status: SetStatus, set_title: SetTitle) -> None:
    if not is_person_asking(payload, context):
        return
    runtime = runtime_of(context)
    question = question_from_event(payload, context, body, thread_ts=payload["thread_ts"], assistant=True)
    if not runtime.threads.was_answered(question.channel, payload["thread_ts"]):
        best_effort(set_title, plain_text(question.text, 60))  # first question names the thread
    schedule_answer(runtime, client, question, bot=bot_of(context), set_status=set_status)
