"""The manifest asks for the events the listeners handle and the scopes the Web API calls need."""

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "bot" / "slack" / "manifest.yaml"


def test_manifest_events_and_scopes():
    manifest = yaml.safe_load(MANIFEST.read_text())
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {"app_mention", "assistant_thread_started", "message.channels", "message.groups", "message.im",
                      "message.mpim"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {"app_mentions:read", "assistant:write", "channels:history", "channels:read", "chat:write",
                      "groups:history", "groups:read", "im:history", "mpim:history", "mpim:read", "users:read"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # feedback and escalation buttons
    assert "assistant_view" in manifest["features"]
