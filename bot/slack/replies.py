"""Posting to Slack: an answer as one message or as a stream, and short notices.

Every post sets `unfurl_links=False` (sources are listed, previews would swamp the thread) and never
`link_names`, so nothing in the text becomes a mention.
"""

from __future__ import annotations

import logging
import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answer import Answer
from bot.slack.blocks import answer_blocks, fallback_text, footer_blocks, notice_blocks
from bot.slack.mrkdwn import neutralise_markdown

log = logging.getLogger(__name__)

# Errors meaning "this workspace or token cannot stream": stop trying for the process.
STREAM_UNSUPPORTED = {"unknown_method", "not_allowed_token_type", "missing_scope", "feature_not_enabled",
                      "method_not_supported_for_channel_type", "not_supported", "access_denied"}
STREAM_MAX_CHARS = 11_000  # under the 12,000-character markdown_text limit of a stream
STREAM_BUFFER = 200


class StreamUnavailable(Exception):
    """chat.startStream was refused before anything was posted; `permanent` if it never will work."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.permanent = error in STREAM_UNSUPPORTED


def post_answer(client: WebClient, answer: Answer, *, channel: str, thread_ts: str | None, escalation: bool) -> str:
    """Post the answer as one Block Kit message; returns its ts."""
    response = client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text=fallback_text(answer),
        blocks=answer_blocks(answer, escalation=escalation), unfurl_links=False, unfurl_media=False,
    )
    return str(response["ts"])


def stream_answer(client: WebClient, answer: Answer, *, channel: str, thread_ts: str, team: str | None,
                  user: str, escalation: bool) -> str:
    """Stream the answer text (chat.startStream/appendStream), then stop with the sources and buttons.

    Raises:
        StreamUnavailable: if Slack refused to start the stream (nothing was posted).
    """
    text = neutralise_markdown(answer.text)
    if len(text) > STREAM_MAX_CHARS:
        raise StreamUnavailable("too_long_to_stream")
    streamer = client.chat_stream(channel=channel, thread_ts=thread_ts, recipient_team_id=team,
                                  recipient_user_id=user, buffer_size=STREAM_BUFFER)
    try:
        for piece in re.findall(r"\S.*?(?:[.!?](?=\s)|\n|$)\s*", text, flags=re.S) or [text]:
            streamer.append(markdown_text=piece)
        streamer.stop(blocks=footer_blocks(answer, escalation=escalation))
    except SlackApiError as exc:
        if streamer.ts is None:
            raise StreamUnavailable(str(exc.response.get("error"))) from exc
        # The stream started but could not finish (e.g. expired): replace it with the full message.
        log.warning("slack.stream_failed", extra={"answer_id": answer.answer_id, "error": exc.response.get("error")})
        client.chat_update(channel=channel, ts=streamer.ts, text=fallback_text(answer),
                           blocks=answer_blocks(answer, escalation=escalation))
    return str(streamer.ts)


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
