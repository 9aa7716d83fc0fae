"""Audience rules against the stand-in's users, channels and members (real HTTP lookups, cached)."""

import zlib

import pytest
from slack_sdk import WebClient

from bot.slack.audience import AudienceResolver
from gcot.settings import Settings
from slack_standin import (
    BOT_TOKEN,
    BOT_USER,
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


@pytest.fixture
def channel(fresh_standin, request):
    """A fresh internal channel (staff and the bot as members) that tests may change; removed afterwards."""
    name = "CT" + format(zlib.crc32(request.node.name.encode()) % 10**7, "07d")
    fresh_standin.channels[name] = {"is_channel": True, "is_ext_shared": False}
    fresh_standin.members[name] = [STAFF_USER, BOT_USER]
    yield name
    fresh_standin.channels.pop(name, None)
    fresh_standin.members.pop(name, None)


def resolver(**overrides):
    return AudienceResolver(Settings(_env_file=None, **overrides))


@pytest.mark.parametrize("channel_id,user,channel_type,expected", [
    (INTERNAL_CHANNEL, STAFF_USER, None, "staff"),
    (STAFF_DM, STAFF_USER, "im", "staff"),
    (SHARED_CHANNEL, STAFF_USER, None, "industry"),
    (INTERNAL_CHANNEL, GUEST_USER, None, "industry"),
    (STAFF_DM, GUEST_USER, "im", "industry"),
    (INTERNAL_CHANNEL, EXTERNAL_USER, None, "industry"),
    ("GMPIM0001", STAFF_USER, "mpim", "industry"),
    ("CUNKNOWN1", STAFF_USER, None, "industry"),  # lookup fails -> fail closed
])
def test_audience_rules(client, channel_id, user, channel_type, expected):
    assert resolver().resolve(client, channel=channel_id, user=user, team=TEAM, channel_type=channel_type) == expected


def test_mapping_wins(client):
    mapped = resolver(slack_channel_audiences={SHARED_CHANNEL: "staff", INTERNAL_CHANNEL: "academic"})
    assert mapped.resolve(client, channel=SHARED_CHANNEL, user=STAFF_USER, team=TEAM) == "staff"
    assert mapped.resolve(client, channel=INTERNAL_CHANNEL, user=STAFF_USER, team=TEAM) == "academic"


def test_lookups_are_cached_until_the_ttl(client, fresh_standin):
    cached = resolver(slack_lookup_ttl_s=300)
    for _ in range(3):
        cached.resolve(client, channel=INTERNAL_CHANNEL, user=STAFF_USER, team=TEAM)
    assert len(fresh_standin.calls_to("conversations.info")) == 1
    assert len(fresh_standin.calls_to("conversations.members")) == 1
    assert len(fresh_standin.calls_to("users.info")) == 2  # the asker, then the bot among the members
    expired = resolver(slack_lookup_ttl_s=0)
    for _ in range(2):
        expired.resolve(client, channel=INTERNAL_CHANNEL, user=STAFF_USER, team=TEAM)
    assert len(fresh_standin.calls_to("conversations.info")) == 3


def test_a_channel_becoming_shared_is_seen_after_the_ttl(client, fresh_standin, channel):
    fresh = resolver(slack_lookup_ttl_s=0)
    assert fresh.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "staff"
    fresh_standin.channels[channel]["is_ext_shared"] = True
    assert fresh.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "industry"


# --- members -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", [GUEST_USER, EXTERNAL_USER])
def test_a_guest_or_outside_member_makes_the_channel_public_only_for_everyone(client, fresh_standin, channel, outsider):
    fresh_standin.members[channel].append(outsider)
    assert resolver().resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "industry"


def test_members_are_read_page_by_page(client, fresh_standin, channel):
    staff = [f"USTAFF{i:04d}" for i in range(450)]
    for user in staff:
        fresh_standin.users[user] = {"team_id": TEAM}
    try:
        fresh_standin.members[channel] = [STAFF_USER, *staff, GUEST_USER]  # the guest is on the third page
        assert resolver(slack_audience_max_members=1000).resolve(client, channel=channel, user=STAFF_USER,
                                                                 team=TEAM) == "industry"
        pages = fresh_standin.calls_to("conversations.members", lambda c: c.params["channel"] == channel)
        assert len(pages) == 3 and pages[1].params.get("cursor")
        fresh_standin.members[channel].remove(GUEST_USER)
        assert resolver(slack_audience_max_members=1000).resolve(client, channel=channel, user=STAFF_USER,
                                                                 team=TEAM) == "staff"
    finally:
        for user in staff:
            fresh_standin.users.pop(user, None)


def test_channels_over_the_member_bound_are_public_only_without_listing_members(client, fresh_standin, channel):
    fresh_standin.members[channel] = [STAFF_USER, BOT_USER, "USTAFF002"]
    assert resolver(slack_audience_max_members=2).resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "industry"
    assert not fresh_standin.calls_to("conversations.members", lambda c: c.params["channel"] == channel)
    fresh_standin.members[channel] = [STAFF_USER, BOT_USER]
    assert resolver(slack_audience_max_members=2).resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "staff"


def test_a_failed_member_lookup_fails_closed(client, fresh_standin, channel):
    fresh_standin.fail_next("conversations.members", status=200, payload={"ok": False, "error": "internal_error"})
    assert resolver().resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "industry"
    fresh_standin.members[channel].append("UNOBODY01")  # users.info: user_not_found
    assert resolver().resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "industry"


def test_the_asker_still_counts_in_a_channel_of_staff(client, channel):
    assert resolver().resolve(client, channel=channel, user=GUEST_USER, team=TEAM) == "industry"


# --- invalidation ----------------------------------------------------------------------------------------


def test_invalidating_a_channel_drops_its_cached_verdict(client, fresh_standin, channel):
    audiences = resolver(slack_lookup_ttl_s=300)
    assert audiences.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "staff"
    fresh_standin.members[channel].append(GUEST_USER)
    assert audiences.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "staff"  # cached
    audiences.invalidate_channel(channel)
    assert audiences.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "industry"


def test_a_member_becoming_a_guest_rechecks_their_channels(client, fresh_standin, channel):
    fresh_standin.users["USTAFF777"] = {"team_id": TEAM}
    fresh_standin.members[channel].append("USTAFF777")
    try:
        audiences = resolver(slack_lookup_ttl_s=300)
        assert audiences.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "staff"
        audiences.user_changed({"id": "USTAFF777", "team_id": TEAM, "profile": {"title": "new title"}})
        assert audiences.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "staff"  # nothing that matters
        audiences.user_changed({"id": "USTAFF777", "team_id": TEAM, "is_restricted": True})
        assert audiences.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "industry"
    finally:
        fresh_standin.users.pop("USTAFF777", None)


def test_a_lookup_begun_before_an_invalidation_does_not_store_its_verdict(client, fresh_standin, channel):
    audiences = resolver(slack_lookup_ttl_s=300)
    original = audiences._look_up_channel

    def racing(*args, **kwargs):
        verdict = original(*args, **kwargs)
        audiences.invalidate_channel(channel)  # the event arrives while the lookup is in flight
        return verdict

    audiences._look_up_channel = racing
    assert audiences.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "staff"
    audiences._look_up_channel = original
    fresh_standin.members[channel].append(GUEST_USER)
    assert audiences.resolve(client, channel=channel, user=STAFF_USER, team=TEAM) == "industry"
