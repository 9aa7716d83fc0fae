"""Helpers shared by the event listeners: which messages to skip, and event -> `Question`."""

from __future__ import annotations

from typing import Any

from bot.slack.answering import Bot, Question
from bot.slack.threads import strip_mentions

# Subtypes that are still a person asking something; every other subtype (edits, deletions, joins,
# bot posts, topic changes...) is skipped without a reply.
_USER_SUBTYPES = {None, "thread_broadcast", "file_share"}


def is_person_asking(event: dict[str, Any], context: Any) -> bool:
    """False for other bots, ourselves, edits, deletions, joins and other system messages."""
    if event.get("subtype") not in _USER_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
        return False
    if "edited" in event or not event.get("user"):
        return False
    return event["user"] != context.bot_user_id


def bot_of(context: Any) -> Bot:
    return Bot(user_id=context.bot_user_id, bot_id=context.bot_id)


def question_from_event(event: dict[str, Any], context: Any, body: dict[str, Any], *, thread_ts: str | None,
                        assistant: bool = False) -> Question:
    """The `Question` for a message or app_mention event; the reply goes to `thread_ts`."""
    return Question(
        text=strip_mentions(event.get("text", "")),
        user=event["user"],
        channel=event["channel"],
        ts=event["ts"],
        thread_ts=thread_ts,
        channel_type=event.get("channel_type"),
        team=context.team_id or body.get("team_id"),
        enterprise=context.enterprise_id,
        assistant=assistant,
        event_id=body.get("event_id"),
        user_team=event.get("user_team"),
    )
