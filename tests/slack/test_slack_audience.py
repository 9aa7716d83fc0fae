"""Audience rules against the stand-in's users and channels (real HTTP lookups, cached)."""

import pytest
from slack_sdk import WebClient

from bot.slack.audience import AudienceResolver
from gcot.settings import Settings
from slack_standin import (
    BOT_TOKEN,
    EXTERNAL_USER,
    GUEST_USER,
    INTERNAL_CHANNEL,
    SHARED_CHANNEL,
    STAFF_DM,
    STAFF_USER,
    TEAM,
)


@pytest.fixture
def client(fresh_standin):
    return WebClient(token=BOT_TOKEN, base_url=fresh_standin.api_url)


def resolver(**overrides):
    return AudienceResolver(Settings(_env_file=None, **overrides))


@pytest.mark.parametrize("channel,user,channel_type,expected", [
    (INTERNAL_CHANNEL, STAFF_USER, None, "staff"),
    (STAFF_DM, STAFF_USER, "im", "staff"),
    (SHARED_CHANNEL, STAFF_USER, None, "industry"),
    (INTERNAL_CHANNEL, GUEST_USER, None, "industry"),
    (STAFF_DM, GUEST_USER, "im", "industry"),
    (INTERNAL_CHANNEL, EXTERNAL_USER, None, "industry"),
    ("GMPIM0001", STAFF_USER, "mpim", "industry"),
    ("CUNKNOWN1", STAFF_USER, None, "industry"),  # lookup fails -> fail closed
])
def test_audience_rules(client, channel, user, channel_type, expected):
    assert resolver().resolve(client, channel=channel, user=user, team=TEAM, channel_type=channel_type) == expected


def test_mapping_wins(client):
    mapped = resolver(slack_channel_audiences={SHARED_CHANNEL: "staff", INTERNAL_CHANNEL: "academic"})
    assert mapped.resolve(client, channel=SHARED_CHANNEL, user=STAFF_USER, team=TEAM) == "staff"
    assert mapped.resolve(client, channel=INTERNAL_CHANNEL, user=STAFF_USER, team=TEAM) == "academic"


def test_lookups_are_cached_until_the_ttl(client, fresh_standin):
    cached = resolver(slack_lookup_ttl_s=300)
    for _ in range(3):
        cached.resolve(client, channel=INTERNAL_CHANNEL, user=STAFF_USER, team=TEAM)
    assert len(fresh_standin.calls_to("conversations.info")) == 1 and len(fresh_standin.calls_to("users.info")) == 1
    expired = resolver(slack_lookup_ttl_s=0)
    for _ in range(2):
        expired.resolve(client, channel=INTERNAL_CHANNEL, user=STAFF_USER, team=TEAM)
    assert len(fresh_standin.calls_to("conversations.info")) == 3


def test_a_channel_becoming_shared_is_seen_after_the_ttl(client, fresh_standin):
    fresh = resolver(slack_lookup_ttl_s=0)
    fresh_standin.channels["CFLIPPING"] = {"is_ext_shared": False}
    assert fresh.resolve(client, channel="CFLIPPING", user=STAFF_USER, team=TEAM) == "staff"
    fresh_standin.channels["CFLIPPING"] = {"is_ext_shared": True}
    assert fresh.resolve(client, channel="CFLIPPING", user=STAFF_USER, team=TEAM) == "industry"
