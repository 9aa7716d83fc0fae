"""Streamed answers: `chat.startStream` / `appendStream` / `stopStream` through slack_sdk's `chat_stream`.

One streamed message per part of the answer (`blocks.answer_parts`, at most 12,000 characters, the
`markdown_text` limit). The first message opens with `task_update` chunks whose `sources` are the
cited documents (source cards); the last one is stopped with the feedback buttons and the audience
line attached, and with metadata that names the answer, never a document. Everything in a chunk comes
from the `Answer`, which holds only documents the channel's audience may read.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.slack.blocks import citation_url, slack_url
from bot.slack.mrkdwn import neutralise_markdown, plain_text
from bot.types import Answer

SOURCES_PER_TASK = 10
"""Sources per task card: long source lists become several cards rather than one oversized chunk."""
SOURCE_TEXT_LIMIT = 150
APPENDS_PER_MESSAGE = 8
"""Roughly how many appendStream calls one message takes (chat.appendStream is Tier 4)."""
MIN_BUFFER = 200
METADATA_EVENT = "gcot_answer"

# Errors meaning "this workspace or token cannot stream": stop trying for the process.
STREAM_UNSUPPORTED = {"unknown_method", "not_allowed_token_type", "missing_scope", "feature_not_enabled",
                      "method_not_supported_for_channel_type", "not_supported", "access_denied"}
_URL = re.compile(r"^https?://[^\s<>|]+$")
_SENTENCE = re.compile(r"\S.*?(?:[.!?](?=\s)|\n|$)\s*", re.S)


class StreamUnavailable(Exception):
    """chat.startStream was refused before anything was posted; `permanent` if it never will work."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.permanent = error in STREAM_UNSUPPORTED


class StreamBroken(Exception):
    """The stream started (message `ts` exists) but could not be finished."""

    def __init__(self, ts: str, error: str) -> None:
        super().__init__(error)
        self.ts = ts


def source_cards(answer: Answer) -> list[dict[str, Any]]:
    """`task_update` chunks listing every cited document (title and URL) as a source card."""
    cites = sorted(answer.citations, key=lambda c: c.n)
    if not cites:
        return [{"type": "task_update", "id": "search", "title": "Searched the coalition documents",
                 "status": "complete", "output": "No document answers this question."}]
    cards = []
    for start in range(0, len(cites), SOURCES_PER_TASK):
        group = cites[start : start + SOURCES_PER_TASK]
        sources = []
        for c in group:
            url = slack_url(citation_url(c))
            if _URL.match(url):
                label = f"[{c.n}] {c.title or c.doc_id}" + (f" · {c.published}" if c.published else "")
                sources.append({"type": "url", "url": url, "text": plain_text(label, SOURCE_TEXT_LIMIT)})
        title = "Sources" if len(cites) <= SOURCES_PER_TASK else f"Sources {group[0].n}-{group[-1].n}"
        card: dict[str, Any] = {"type": "task_update", "id": f"sources-{start // SOURCES_PER_TASK + 1}",
                                "title": title, "status": "complete",
                                "output": f"{len(group)} cited document{'s' if len(group) != 1 else ''}"}
        if sources:
            card["sources"] = sources
        cards.append(card)
    return cards


def answer_metadata(answer: Answer, *, question_ts: str | None = None) -> dict[str, Any]:
    """Message metadata: which answer this is, for whom, and (`question_ts`) which question it answers,
    so a replica re-running the job can see that the answer is already in Slack. No document title,
    text or id."""
    payload: dict[str, Any] = {"answer_id": answer.answer_id, "status": answer.status, "audience": answer.audience}
    if question_ts:
        payload["question_ts"] = question_ts
    return {"event_type": METADATA_EVENT, "event_payload": payload}


def stream_part(client: WebClient, part: str, *, channel: str, thread_ts: str, team: str | None, user: str,
                chunks: list[dict[str, Any]] | None = None, blocks: list[dict[str, Any]] | None = None,
                metadata: dict[str, Any] | None = None) -> str:
    """Stream one message: `chunks` first, then `part` as `markdown_text`, then stop with `blocks`.

    Raises:
        StreamUnavailable: Slack refused to start the stream (nothing was posted).
        StreamBroken: the stream started but could not be finished (its `ts` is on the exception).
    """
    text = neutralise_markdown(part)
    buffer = max(MIN_BUFFER, len(text) // APPENDS_PER_MESSAGE)
    streamer = client.chat_stream(channel=channel, thread_ts=thread_ts, recipient_team_id=team,
                                  recipient_user_id=user, buffer_size=buffer)
    try:
        if chunks:
            streamer.append(chunks=chunks)
        for piece in _SENTENCE.findall(text) or ([text] if text else []):
            streamer.append(markdown_text=piece)
        streamer.stop(blocks=blocks, metadata=metadata)
    except (SlackApiError, SlackRequestError) as exc:
        error = str(exc.response.get("error")) if isinstance(exc, SlackApiError) else "request_error"
        if streamer.ts is None:
            raise StreamUnavailable(error) from exc
        raise StreamBroken(streamer.ts, error) from exc
    return str(streamer.ts)
