"""`app_home_opened`: the Messages tab (agent view) greets once and offers prompts; the Home tab is published.

In Slack's agent view this event (with `tab == "messages"`) replaces `assistant_thread_started`: the
greeting goes to the DM once per user (remembered in the Slack state store), and the suggested
prompts are set without a thread, drawn from the documents the user's audience may read.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from slack_sdk import WebClient

from bot.slack.answering import APOLOGY
from bot.slack.greetings import mark_greeted
from bot.slack.home import home_view, recent_documents
from bot.slack.prompts import GREETING, PROMPTS_TITLE, suggested_prompts
from bot.slack.replies import post_notice
from bot.slack.runtime import runtime_of

log = logging.getLogger(__name__)


def app_home_opened_callback(event: dict[str, Any], context: Any, client: WebClient) -> None:
    if event.get("tab") == "home":
        publish_home(event, context, client)
    elif event.get("tab") == "messages" and event.get("channel"):
        greet(event, context, client)


def greet(event: dict[str, Any], context: Any, client: WebClient) -> None:
    """Greet a first-time user and set the prompts; on failure tell them (first visit only) with a ref."""
    runtime = runtime_of(context)
    channel, user = event["channel"], event["user"]
    first = False
    try:
        audience = runtime.audiences.resolve(client, channel=channel, user=user, team=context.team_id,
                                             channel_type="im", enterprise=context.enterprise_id)
        first = mark_greeted(runtime.store, context.team_id, user)
        if first:
            client.chat_postMessage(channel=channel, text=GREETING, unfurl_links=False, unfurl_media=False)
        prompts = suggested_prompts(runtime.service.topics(audience))
        client.assistant_threads_setSuggestedPrompts(channel_id=channel, prompts=prompts, title=PROMPTS_TITLE)
    except Exception as exc:  # noqa: BLE001 - a first-time user still hears back
        ref = secrets.token_hex(4)
        log.error("slack.greeting_failed", exc_info=True, extra={"ref": ref, "error_type": type(exc).__name__})
        if first:
            post_notice(client, APOLOGY.format(ref=ref), channel=channel, thread_ts=None)


def publish_home(event: dict[str, Any], context: Any, client: WebClient) -> None:
    """Publish the Home tab for the viewer's audience (a DM audience: the viewer and the app alone)."""
    runtime = runtime_of(context)
    user = event["user"]
    try:
        audience = runtime.audiences.resolve(client, channel=event.get("channel") or f"home:{user}", user=user,
                                             team=context.team_id, channel_type="im", enterprise=context.enterprise_id)
        view = home_view(audience, recent_documents(runtime.service, audience),
                         escalation_channel=runtime.settings.slack_escalation_channel)
        client.views_publish(user_id=user, view=view)
    except Exception as exc:  # noqa: BLE001 - the tab keeps its last version; nothing was promised
        log.error("slack.home_failed", exc_info=True, extra={"error_type": type(exc).__name__})
