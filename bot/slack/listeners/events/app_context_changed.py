"""`app_context_changed` (agent view): the user is looking at another channel; suggest prompts about it.

Used only to re-order prompts, never to widen the audience: the prompts come from the documents the
user may read in the DM *and* in the channel in view (the narrower of the two audiences), and only
topics of those documents that the channel's name is about are put first. The channel's name itself
is never put in a prompt, and a channel the app cannot see just gets the usual prompts.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.audience import PUBLIC_ONLY
from bot.slack.prompts import PROMPTS_TITLE, channel_topics, suggested_prompts
from bot.slack.runtime import runtime_of

log = logging.getLogger(__name__)


def viewed_channel(event: dict[str, Any]) -> str | None:
    """The channel id of the most relevant entity in the event's context, if any."""
    for entity in (event.get("context") or {}).get("entities") or []:
        if entity.get("type") == "slack#/types/channel_id" and entity.get("value"):
            return str(entity["value"])
        if entity.get("type") == "slack#/types/message_context":
            value = entity.get("value") or {}
            if value.get("channel_id"):
                return str(value["channel_id"])
    return None


def app_context_changed_callback(event: dict[str, Any], context: Any, client: WebClient) -> None:
    dm, user = event.get("channel"), event.get("user")
    if not dm or not user:
        return  # nowhere to put prompts
    runtime = runtime_of(context)
    try:
        audience = runtime.audiences.resolve(client, channel=dm, user=user, team=context.team_id,
                                             channel_type="im", enterprise=context.enterprise_id)
        focus: list[str] = []
        viewed = viewed_channel(event)
        if viewed and viewed.startswith(("C", "G")):
            channel_audience = runtime.audiences.resolve(client, channel=viewed, user=user, team=context.team_id,
                                                         enterprise=context.enterprise_id)
            if channel_audience != audience:
                audience = PUBLIC_ONLY  # the narrower audience: never more than either place allows
            info = client.conversations_info(channel=viewed)["channel"]
            focus = channel_topics(runtime.service.topics(audience), str(info.get("name") or ""))
        prompts = suggested_prompts(runtime.service.topics(audience), focus=focus)
        client.assistant_threads_setSuggestedPrompts(channel_id=dm, prompts=prompts, title=PROMPTS_TITLE)
    except SlackApiError as exc:  # cosmetic: the previous prompts stay
        log.info("slack.context_prompts_skipped", extra={"error": exc.response.get("error")})
