"""The manifest asks for exactly the events the registered listeners handle and the scopes the Web API
calls in bot/slack need: both sets are derived from the code, not typed out here.

Events come from `register_listeners` run against a recorder; Web API methods from the calls to
`WebClient` methods in bot/slack's source (and the Bolt helpers the listeners take). The only tables
typed here are Slack's own facts: which scope each event and each method needs.
"""

import ast
import re
from pathlib import Path

import yaml
from slack_sdk import WebClient

from bot.slack.listeners import register_listeners

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "bot" / "slack" / "manifest.yaml"

# Slack's facts: the manifest subscriptions an event listener needs, and the scope each one requires.
MESSAGE_SUBSCRIPTIONS = ["message.channels", "message.groups", "message.im", "message.mpim"]
EVENT_SCOPES = {
    "app_mention": {"app_mentions:read"}, "message.channels": {"channels:history"},
    "message.groups": {"groups:history"}, "message.im": {"im:history"}, "message.mpim": {"mpim:history"},
    "assistant_thread_started": {"assistant:write"}, "assistant_thread_context_changed": {"assistant:write"},
    "app_home_opened": set(), "app_context_changed": set(),
    "member_joined_channel": {"channels:read", "groups:read"}, "member_left_channel": {"channels:read", "groups:read"},
    "channel_shared": {"channels:read", "groups:read"}, "channel_unshared": {"channels:read", "groups:read"},
    "user_change": {"users:read"},
}
METHOD_SCOPES = {
    "chat_postMessage": {"chat:write"}, "chat_update": {"chat:write"}, "chat_postEphemeral": {"chat:write"},
    "chat_stream": {"chat:write"}, "chat_startStream": {"chat:write"}, "chat_appendStream": {"chat:write"},
    "chat_stopStream": {"chat:write"}, "chat_getPermalink": set(), "views_publish": set(),
    "assistant_threads_setStatus": {"chat:write"}, "assistant_threads_setSuggestedPrompts": {"assistant:write"},
    "assistant_threads_setTitle": {"assistant:write"}, "users_info": {"users:read"},
    "conversations_info": {"channels:read", "groups:read", "mpim:read"},
    "conversations_replies": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations_history": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations_members": {"channels:read", "groups:read"},
    "auth_test": set(), "apps_connections_open": set(),  # (the app-level token's connections:write is not a bot scope)
}
BOLT_HELPERS = {"set_status": "assistant_threads_setStatus", "set_title": "assistant_threads_setTitle",
                "set_suggested_prompts": "assistant_threads_setSuggestedPrompts"}


class Recorder:
    """Stands in for the Bolt `App` while `register_listeners` runs, noting what gets registered."""

    def __init__(self) -> None:
        self.events: set[str] = set()
        self.actions: set[str] = set()

    def event(self, event_type, **kwargs):
        if isinstance(event_type, str):  # the catch-all regex only acks what Slack already sends
            self.events.add(event_type)
        return lambda fn: fn

    def message(self, *args, **kwargs):
        self.events.add("message")
        return lambda fn: fn

    def action(self, action_id):
        if isinstance(action_id, str):
            self.actions.add(action_id)
        return lambda fn: fn

    def assistant(self, assistant) -> None:
        if assistant._thread_started_listeners:
            self.events.add("assistant_thread_started")
        if assistant._thread_context_changed_listeners:
            self.events.add("assistant_thread_context_changed")
        if assistant._user_message_listeners:
            self.events.add("message")

    def use(self, *args, **kwargs) -> None:
        pass


def registered_subscriptions() -> set[str]:
    recorder = Recorder()
    register_listeners(recorder)
    subscriptions = recorder.events - {"message"}
    if "message" in recorder.events:
        subscriptions |= set(MESSAGE_SUBSCRIPTIONS)
    return subscriptions


def called_methods() -> set[str]:
    """Every `WebClient` method named in bot/slack's source, plus those behind Bolt's helpers."""
    methods: set[str] = set()
    for path in (ROOT / "bot" / "slack").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and re.match(r"^[a-z]+_[A-Za-z_]+$", node.attr) \
                    and callable(getattr(WebClient, node.attr, None)) and not node.attr.startswith("api_"):
                methods.add(node.attr)
            if isinstance(node, ast.arg) and node.arg in BOLT_HELPERS:
                methods.add(BOLT_HELPERS[node.arg])
    return methods


def test_manifest_events_match_the_registered_listeners():
    manifest = yaml.safe_load(MANIFEST.read_text())
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == registered_subscriptions()
    assert {"app_home_opened", "app_context_changed", "assistant_thread_started"} <= events  # agent view + legacy


def test_manifest_scopes_are_exactly_what_events_and_calls_need():
    manifest = yaml.safe_load(MANIFEST.read_text())
    methods = called_methods()
    assert {"chat_stream", "views_publish", "chat_postMessage"} <= methods  # the scan sees the code
    unknown = methods - set(METHOD_SCOPES)
    assert not unknown, f"add the scope these methods need to METHOD_SCOPES: {unknown}"
    needed = set().union(*(METHOD_SCOPES[m] for m in methods),
                         *(EVENT_SCOPES[e] for e in registered_subscriptions()))
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def test_manifest_uses_agent_view_home_tab_and_interactivity():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["features"]["agent_view"]["agent_description"]
    assert "assistant_view" not in manifest["features"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True  # views.publish
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # feedback and escalation buttons
