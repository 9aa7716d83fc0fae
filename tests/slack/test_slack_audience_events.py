"""Sharing and membership events, sent signed over real HTTP, change the very next answer's audience.

The app caches channel verdicts for 300 s here, so only the event can explain a change: each test first
shows the cached verdict surviving a change in Slack, then sends the event and asks again.
"""

from __future__ import annotations

import json
import time
import zlib

import pytest

from slack_events import event_envelope, mention, post_event
from slack_standin import BOT_USER, EXTERNAL_USER, GUEST_USER, STAFF_USER, TEAM

INTERNAL_QUESTION = "What is the codename of the synthetic internal workstream on subsea cable resilience?"
CANARY = "BLUE-LANTERN-7"


@pytest.fixture(scope="module")
def app(serve, answer_service):
    return serve(answer_service, slack_lookup_ttl_s=300)


@pytest.fixture
def channel(fresh_standin, request):
    name = "CE" + format(zlib.crc32(request.node.name.encode()) % 10**7, "07d")
    fresh_standin.channels[name] = {"is_channel": True, "is_ext_shared": False}
    fresh_standin.members[name] = [STAFF_USER, BOT_USER]
    yield name
    fresh_standin.channels.pop(name, None)
    fresh_standin.members.pop(name, None)


def ask(app, standin, channel: str, text: str = INTERNAL_QUESTION) -> str:
    """A staff member mentions the bot in `channel`; returns everything the reply shows."""
    ts = standin.add_user_message(channel, STAFF_USER, f"<@{BOT_USER}> {text}")
    assert post_event(app.http, app.events_url, event_envelope(mention(channel, STAFF_USER, text, ts))).status_code == 200
    if hasattr(standin, "replies"):  # complete messages, posted or streamed
        return " ".join(m.text + json.dumps(m.blocks or [], ensure_ascii=False) for m in standin.replies(channel, ts))
    call = standin.wait_for("chat.postMessage", lambda c: c.params.get("channel") == channel
                            and c.params.get("thread_ts") == ts)[0]
    return call.all_text()


def send(app, event: dict, **sign) -> int:
    return post_event(app.http, app.events_url, event_envelope(event), **sign).status_code


def test_a_channel_converted_to_slack_connect_gets_public_only_answers_on_the_next_question(app, fresh_standin, channel):
    assert CANARY in ask(app, fresh_standin, channel)  # internal channel of staff: internal documents
    fresh_standin.channels[channel].update(is_ext_shared=True, is_shared=True)
    fresh_standin.members[channel].append(EXTERNAL_USER)
    assert CANARY in ask(app, fresh_standin, channel)  # the cached verdict holds until Slack tells us

    forged = {"type": "channel_shared", "connected_team_id": "TOTHER001", "channel": channel, "event_ts": f"{time.time():.6f}"}
    assert send(app, forged, secret="not-the-signing-secret") == 401  # unsigned events change nothing
    assert CANARY in ask(app, fresh_standin, channel)

    assert send(app, forged) == 200
    reply = ask(app, fresh_standin, channel)
    assert CANARY not in reply
    assert fresh_standin.calls_to("conversations.info", lambda c: c.params["channel"] == channel)


def test_a_guest_joining_an_internal_channel_makes_the_next_answer_public_only(app, fresh_standin, channel):
    assert CANARY in ask(app, fresh_standin, channel)
    fresh_standin.members[channel].append(GUEST_USER)
    joined = {"type": "member_joined_channel", "user": GUEST_USER, "channel": channel, "channel_type": "C",
              "team": TEAM, "inviter": STAFF_USER, "event_ts": f"{time.time():.6f}"}
    assert send(app, joined) == 200
    assert CANARY not in ask(app, fresh_standin, channel)

    fresh_standin.members[channel].remove(GUEST_USER)
    left = {"type": "member_left_channel", "user": GUEST_USER, "channel": channel, "channel_type": "C",
            "team": TEAM, "event_ts": f"{time.time():.6f}"}
    assert send(app, left) == 200
    assert CANARY in ask(app, fresh_standin, channel)  # staff only again: the verdict follows the members


def test_a_channel_unshared_is_judged_afresh(app, fresh_standin, channel):
    fresh_standin.channels[channel].update(is_ext_shared=True)
    assert CANARY not in ask(app, fresh_standin, channel)
    fresh_standin.channels[channel].update(is_ext_shared=False)
    unshared = {"type": "channel_unshared", "previously_connected_team_id": "TOTHER001", "channel": channel,
                "is_ext_shared": False, "event_ts": f"{time.time():.6f}"}
    assert send(app, unshared) == 200
    assert CANARY in ask(app, fresh_standin, channel)
