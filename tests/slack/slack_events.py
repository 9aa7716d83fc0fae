"""Slack-shaped Events API payloads, signed exactly as Slack signs them, and sent over real HTTP."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from slack_standin import BOT_USER, TEAM

SIGNING_SECRET = "test-signing-secret"
_ids = itertools.count(1)


def event_envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "unused-legacy-token", "team_id": TEAM, "api_app_id": "AAPP00001", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


def mention(channel: str, user: str, text: str, ts: str, *, thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel,
             "event_ts": ts, "team": TEAM}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(channel: str, user: str, text: str, ts: str, *, channel_type: str = "channel",
            thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {"type": "message", "user": user, "text": text, "ts": ts, "channel": channel,
             "channel_type": channel_type, "event_ts": ts, "team": TEAM, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def assistant_thread_started(channel: str, user: str, thread_ts: str) -> dict[str, Any]:
    return {"type": "assistant_thread_started", "event_ts": thread_ts,
            "assistant_thread": {"user_id": user, "channel_id": channel, "thread_ts": thread_ts,
                                 "context": {"channel_id": "CINTERNAL", "team_id": TEAM}}}


def block_action(action_id: str, value: str, *, user: str, channel: str, message_ts: str,
                 thread_ts: str | None = None) -> dict[str, Any]:
    message = {"type": "message", "ts": message_ts, "user": BOT_USER}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
        "api_app_id": "AAPP00001", "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "channel": {"id": channel}, "message": message, "trigger_id": "1.2.3",
        "actions": [{"type": "button", "action_id": action_id, "value": value,
                     "block_id": f"answer_actions:{value}", "action_ts": str(time.time())}],
    }


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


def post_event(client: httpx.Client, url: str, payload: dict[str, Any], *, retry_num: int | None = None,
               **sign: Any) -> httpx.Response:
    body = json.dumps(payload)
    headers = signed_headers(body, **sign)
    if retry_num is not None:
        headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
    return client.post(url, content=body, headers=headers)


def post_action(client: httpx.Client, url: str, payload: dict[str, Any]) -> httpx.Response:
    body = urlencode({"payload": json.dumps(payload)})
    return client.post(url, content=body, headers=signed_headers(body, content_type="application/x-www-form-urlencoded"))
