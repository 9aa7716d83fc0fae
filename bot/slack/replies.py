"""Posting to Slack: an answer streamed or as Block Kit messages, the working status, short notices.

Every post sets `unfurl_links=False` (sources are listed, previews would swamp the thread) and never
`link_names`, so nothing in the text becomes a mention. A long answer is delivered whole, in as many
messages as Block Kit and stream limits need.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import (
    answer_messages,
    audience_line,
    answer_parts,
    fallback_text,
    footer_blocks,
    notice_blocks,
    pack,
    stream_footer_blocks,
    text_sections,
)
from bot.slack.streaming import (
    METADATA_EVENT,
    StreamBroken,
    StreamUnavailable,
    answer_metadata,
    source_cards,
    stream_part,
)
from bot.types import Answer

log = logging.getLogger(__name__)

SEARCHING = "is searching the coalition documents…"
LOADING_MESSAGES = ["Searching the coalition documents…", "Reading the best matches…",
                    "Checking the sources…", "Writing the answer…"]


@dataclass
class Delivery:
    """Where an answer went: the ts of every message, whether it was streamed, and whether Slack said
    this workspace can never stream (so the caller stops trying)."""

    ts: list[str]
    streamed: bool
    stream_refused: bool = False


def show_status(client: WebClient, *, channel: str, thread_ts: str,
                set_status: Callable[..., object] | None = None) -> bool:
    """The "is searching…" status with rotating loading messages; cosmetic, so a refusal is ignored."""
    try:
        if set_status is not None:
            set_status(SEARCHING, loading_messages=LOADING_MESSAGES)
        else:
            client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=SEARCHING,
                                               loading_messages=LOADING_MESSAGES)
    except SlackApiError as exc:
        log.debug("slack.status_failed", extra={"error": exc.response.get("error")})
        return False
    return True


def post_answer(client: WebClient, answer: Answer, *, channel: str, thread_ts: str | None, escalation: bool) -> str:
    """Post the answer as Block Kit messages (more than one when it is long); returns the first ts."""
    return _post_messages(client, answer, answer_messages(answer, escalation=escalation),
                          channel=channel, thread_ts=thread_ts)[0]


def deliver_answer(client: WebClient, answer: Answer, *, channel: str, thread_ts: str | None, team: str | None,
                   user: str, escalation: bool, stream: bool, question_ts: str | None = None,
                   on_stream_refused: Callable[[], object] | None = None) -> Delivery:
    """Stream the answer part by part; where streaming is refused or breaks, post Block Kit instead.

    The last message carries the answer's metadata (with `question_ts`, the question it answers), set
    only once that message is complete: `find_delivered` looks for it.

    A stream refused before anything was shown falls back to posting; one that broke part-way has its
    message replaced (chat.update) with the Block Kit version of the same part, so the text is never
    left half-written, and the remaining parts are posted. `on_stream_refused` is called as soon as Slack
    says this workspace can never stream (before the fallback post).
    """
    parts = answer_parts(answer.text)
    delivery = Delivery(ts=[], streamed=stream and thread_ts is not None)
    metadata = answer_metadata(answer, question_ts=question_ts)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        part_metadata = metadata if last else None
        if delivery.streamed:
            try:
                delivery.ts.append(stream_part(
                    client, part, channel=channel, thread_ts=str(thread_ts), team=team, user=user,
                    chunks=source_cards(answer) if i == 0 else None,
                    blocks=stream_footer_blocks(answer, escalation=escalation) if last else None,
                    metadata=part_metadata))
                continue
            except StreamUnavailable as exc:
                log.info("slack.stream_unavailable", extra={"error": str(exc), "permanent": exc.permanent})
                delivery.streamed, delivery.stream_refused = False, exc.permanent
                if exc.permanent and on_stream_refused is not None:
                    on_stream_refused()
            except StreamBroken as exc:
                log.warning("slack.stream_failed", extra={"answer_id": answer.answer_id, "error": str(exc)})
                delivery.streamed = False
                blocks = _part_messages(answer, part, last=last, escalation=escalation)
                update = {"metadata": part_metadata} if part_metadata and len(blocks) == 1 else {}
                client.chat_update(channel=channel, ts=exc.ts, text=fallback_text(answer, part), blocks=blocks[0],
                                   **update)
                delivery.ts.append(exc.ts)
                delivery.ts += _post_messages(client, answer, blocks[1:], channel=channel, thread_ts=thread_ts,
                                              metadata=part_metadata)
                continue
        messages = _part_messages(answer, part, last=last, escalation=escalation)
        delivery.ts += _post_messages(client, answer, messages, channel=channel, thread_ts=thread_ts,
                                      metadata=part_metadata)
    return delivery


def find_delivered(client: WebClient, *, channel: str, thread_ts: str | None, question_ts: str,
                   bot_id: str | None) -> str | None:
    """The ts of our finished answer to the question at `question_ts`, if Slack already has it, else None.

    A replica can die after Slack took its answer but before the job was marked done; the replica that
    re-claims the job asks Slack first (the thread, or for a top-level DM the messages after the
    question) so the asker does not get the answer twice. A lookup that fails returns None: answering
    twice is better than not at all.
    """
    try:
        if thread_ts:
            response = client.conversations_replies(channel=channel, ts=thread_ts, limit=200,
                                                    include_all_metadata=True)
        else:
            response = client.conversations_history(channel=channel, oldest=question_ts, inclusive=False,
                                                    limit=50, include_all_metadata=True)
    except Exception as exc:  # noqa: BLE001 - Slack refusing or unreachable: answer rather than drop the question
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("slack.delivery_lookup_failed", extra={"error": error})
        return None
    for message in response.get("messages", []):
        meta = message.get("metadata") or {}
        mine = bot_id is None or message.get("bot_id") == bot_id
        if mine and meta.get("event_type") == METADATA_EVENT \
                and (meta.get("event_payload") or {}).get("question_ts") == question_ts:
            return str(message.get("ts"))
    return None


def _part_messages(answer: Answer, part: str, *, last: bool, escalation: bool) -> list[list[dict]]:
    if last:
        return pack(text_sections(part) + footer_blocks(answer, escalation=escalation), keep_last=2)
    return pack(text_sections(part))


def _post_messages(client: WebClient, answer: Answer, messages: list[list[dict]], *, channel: str,
                   thread_ts: str | None, metadata: dict | None = None) -> list[str]:
    """Post each message in turn; `metadata` goes on the last one only."""
    sent = []
    for i, blocks in enumerate(messages):
        extra = {"metadata": metadata} if metadata and i == len(messages) - 1 else {}
        # The notification text is the answer's own text (thread history reads it back), not the sources.
        text = " ".join(b["text"]["text"] for b in blocks
                        if b["type"] == "section" and not b.get("block_id", "").startswith("sources"))
        response = client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=_cut(text) if text else audience_note(answer),
            blocks=blocks, unfurl_links=False, unfurl_media=False, **extra,
        )
        sent.append(str(response["ts"]))
    return sent


def audience_note(answer: Answer) -> str:
    return f"{audience_line(answer.audience)} · ref {answer.answer_id}"


def _cut(mrkdwn_text: str, limit: int = 3000) -> str:
    """A message's notification `text`: the first `limit` characters of its (already escaped) sections."""
    return mrkdwn_text if len(mrkdwn_text) <= limit else mrkdwn_text[:limit].rsplit(" ", 1)[0] + " …"


def post_notice(client: WebClient, text: str, *, channel: str, thread_ts: str | None,
                ephemeral_user: str | None = None) -> None:
    """A short message (apology, rate limit, escalation receipt); `text` must already be safe mrkdwn.

    With `ephemeral_user` only that person sees it (used in channels, where others need not).
    """
    if ephemeral_user:
        client.chat_postEphemeral(channel=channel, user=ephemeral_user, thread_ts=thread_ts, text=text,
                                  blocks=notice_blocks(text))
    else:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=notice_blocks(text),
                                unfurl_links=False, unfurl_media=False)
