"""Threads the bot has answered, and the history of a thread as conversation turns.

A follow-up in a thread the bot answered is answered without a mention; the registry is in the state
store, so that holds after a restart and on every replica sharing the database, without an API call
per thread message to find out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from slack_sdk import WebClient
from sqlalchemy import select

from bot.answer import Turn
from bot.retrieve.query import unescape_slack
from bot.slack.store import SlackStore

_MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


def strip_mentions(text: str) -> str:
    """The question as typed: `<@U..>` mentions removed (the bot's own is not part of the question) and
    Slack's `&amp;`/`&lt;`/`&gt;` turned back into characters."""
    plain = unescape_slack(_MENTION.sub(" ", text or ""))
    return " ".join(plain.split())


class ThreadRegistry:
    def __init__(self, store: SlackStore) -> None:
        self.store = store

    def mark_answered(self, channel: str, thread_ts: str) -> None:
        now = time.time()
        stmt = self.store.insert("threads").values(channel=channel, thread_ts=thread_ts, answered_at=now)
        with self.store.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=["channel", "thread_ts"], set_={"answered_at": now}))

    def was_answered(self, channel: str, thread_ts: str) -> bool:
        threads = self.store.table("threads")
        with self.store.begin() as conn:
            row = conn.execute(select(threads.c.answered_at).where(threads.c.channel == channel,
                                                                    threads.c.thread_ts == thread_ts)).first()
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
