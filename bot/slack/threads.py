"""Threads the bot has answered, and the history of a thread as conversation turns.

A follow-up in a thread the bot answered is answered without a mention; the registry is persisted so
that still holds after a restart, without an API call per thread message to find out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from slack_sdk import WebClient

from bot.answer import Turn
from bot.slack.store import SlackStore

_MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


def strip_mentions(text: str) -> str:
    """The question as typed: `<@U..>` mentions removed (the bot's own is not part of the question) and
    Slack's `&amp;`/`&lt;`/`&gt;` turned back into characters."""
    plain = _MENTION.sub(" ", text or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(plain.split())


class ThreadRegistry:
    def __init__(self, store: SlackStore) -> None:
        self.store = store

    def mark_answered(self, channel: str, thread_ts: str) -> None:
        with self.store.cursor() as cur:
            cur.execute("INSERT OR REPLACE INTO threads (channel, thread_ts, answered_at) VALUES (?, ?, ?)",
                        (channel, thread_ts, time.time()))

    def was_answered(self, channel: str, thread_ts: str) -> bool:
        with self.store.cursor() as cur:
            row = cur.execute("SELECT 1 FROM threads WHERE channel=? AND thread_ts=?", (channel, thread_ts)).fetchone()
        return row is not None


def thread_history(client: WebClient, *, channel: str, thread_ts: str, before_ts: str, bot_user_id: str | None,
                   bot_id: str | None, limit: int = 8, skip_prefixes: Sequence[str] = ()) -> list[Turn]:
    """The thread's messages before `before_ts` as turns (the bot's are `assistant`), the last `limit`.

    Other bots' messages, system messages (joins, edits) and our own greetings and notices (messages
    starting with one of `skip_prefixes`) are left out: they are not part of the conversation's content.
    """
    messages = client.conversations_replies(channel=channel, ts=thread_ts, limit=200).get("messages", [])
    turns: list[Turn] = []
    for message in messages:
        if float(message.get("ts", "0")) >= float(before_ts):
            continue
        mine = (bot_user_id and message.get("user") == bot_user_id) or (bot_id and message.get("bot_id") == bot_id)
        if mine:
            if message.get("text") and not message["text"].startswith(tuple(skip_prefixes)):
                turns.append(Turn(role="assistant", content=strip_mentions(message["text"]).replace("\u200b", "")))
        elif message.get("subtype") is None and not message.get("bot_id"):
            text = strip_mentions(message.get("text", ""))
            if text:
                turns.append(Turn(role="user", content=text))
    return turns[-limit:]
