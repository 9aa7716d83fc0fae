"""`message`: top-level DMs, and follow-ups in channel threads the bot already answered.

A top-level DM is answered in its own thread, as in Slack's agent view, so every question keeps its
follow-ups together. Threaded DM messages never get here: Bolt's Assistant middleware takes them (see
listeners/assistant), for the legacy assistant panel and agent-view threads alike.
Messages that mention the bot are left to `app_mention`, which Slack sends as well; everything else
(edits, deletions, joins, other bots, unrelated chatter) is acknowledged and dropped.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.slack.answering import schedule_answer
from bot.slack.listeners.internals import bot_of, is_person_asking, question_from_event
from bot.slack.runtime import runtime_of


def message_callback(event: dict[str, Any], body: dict[str, Any], context: Any, client: WebClient) -> None:
    if not is_person_asking(event, context):
        return
    runtime = runtime_of(context)
    if event.get("channel_type") == "im":  # each DM message is its own thread root (agent view)
        question = question_from_event(event, context, body, thread_ts=event.get("thread_ts") or event["ts"])
        schedule_answer(runtime, client, question, bot=bot_of(context))
        return
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event["ts"]:
        return  # channel chatter outside a thread: only mentions are answered
    if context.bot_user_id and f"<@{context.bot_user_id}" in event.get("text", ""):
        return  # app_mention answers this one
    if event["channel"] in runtime.settings.slack_thread_followups_opt_out:
        return
    if not runtime.threads.was_answered(event["channel"], thread_ts):
        return
    question = question_from_event(event, context, body, thread_ts=thread_ts)
    schedule_answer(runtime, client, question, bot=bot_of(context))
