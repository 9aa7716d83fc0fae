"""A job re-claimed after its replica died: answered if the answer never reached Slack, not again if it did.

Replica A is the runtime's own queue; replica B is a second `JobQueue` on the same state store whose
clock runs past A's lease, as another process would see it once A stopped renewing. Both answer
through the real Web API client against the stand-in, so the check B makes is a real
`conversations.replies` call reading the metadata A's answer carried.
"""

from __future__ import annotations

import logging
import time

import pytest

from bot.slack.answering import Bot, Question, run_job, schedule_answer
from bot.slack.client import build_web_client
from bot.slack.runtime import Runtime
from bot.slack.state.queue import JobQueue
from slack_standin import BOT_ID, BOT_USER, INTERNAL_CHANNEL, STAFF_USER, TEAM

ANSWERABLE = "When was the GCOT joint statement of intent published?"
BOT = Bot(user_id=BOT_USER, bot_id=BOT_ID)


@pytest.fixture
def runtime(make_slack_settings, answer_service, fresh_standin):
    """Replica A's runtime, workers not started: the test runs each job by hand."""
    settings = make_slack_settings(slack_job_lease_s=5)
    rt = Runtime.create(settings, answer_service)
    rt.client = build_web_client(settings)
    yield rt
    rt.store.close()


def replica_b(runtime: Runtime) -> JobQueue:
    """Another replica's queue, at a moment after A's lease has run out."""
    return JobQueue(runtime.store, owner="replica-b", lease_s=5, clock=lambda: time.time() + 60)


def ask(runtime: Runtime, standin, n: int):
    ts = standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, f"<@{BOT_USER}> {ANSWERABLE}")
    question = Question(text=ANSWERABLE, user=STAFF_USER, channel=INTERNAL_CHANNEL, ts=ts, thread_ts=ts,
                        channel_type="channel", team=TEAM, event_id=f"EvRedeliver{n:03d}{time.time_ns()}")
    schedule_answer(runtime, runtime.client, question, bot=BOT)
    return ts


def complete_replies(standin, ts: str) -> list:
    with standin._cond:
        return [m for m in standin.messages if m.thread_ts == ts and m.bot_id == BOT_ID and not m.streaming]


def bot_posts(standin) -> int:
    return len(standin.calls_to("chat.postMessage")) + len(standin.calls_to("chat.startStream"))


@pytest.mark.parametrize("streaming", [True, False], ids=["streamed", "posted"])
def test_a_job_whose_answer_reached_slack_is_not_answered_again(runtime, fresh_standin, caplog, streaming):
    runtime.streaming = streaming
    ts = ask(runtime, fresh_standin, 1)
    first = runtime.queue.claim()
    run_job(runtime, first)  # A answers, then dies before marking the job done
    [reply] = complete_replies(fresh_standin, ts)
    assert reply.metadata["event_payload"]["question_ts"] == ts
    posts = bot_posts(fresh_standin)

    again = replica_b(runtime).claim()
    assert again is not None and again.id == first.id and again.attempts == 2
    with caplog.at_level(logging.INFO, logger="bot.slack.answering"):
        run_job(runtime, again)
    assert bot_posts(fresh_standin) == posts
    assert len(complete_replies(fresh_standin, ts)) == 1
    assert [r.event_id for r in caplog.records if r.getMessage() == "slack.job_already_answered"] == [first.event_id]
    lookup = fresh_standin.calls_to("conversations.replies", lambda c: c.params.get("ts") == ts)[-1]
    assert str(lookup.params.get("include_all_metadata")).lower() in ("1", "true")


def test_a_job_whose_answer_was_cut_off_mid_stream_is_answered_by_the_next_replica(runtime, fresh_standin):
    ts = ask(runtime, fresh_standin, 2)
    first = runtime.queue.claim()
    # A started streaming and died: Slack holds an unfinished message with no answer metadata.
    runtime.client.chat_startStream(channel=INTERNAL_CHANNEL, thread_ts=ts, recipient_team_id=TEAM,
                                    recipient_user_id=STAFF_USER, markdown_text="The joint statement was ")
    assert complete_replies(fresh_standin, ts) == []
    again = replica_b(runtime).claim()
    assert again.id == first.id
    run_job(runtime, again)
    [reply] = complete_replies(fresh_standin, ts)
    assert "5 October 2023" in reply.text and reply.metadata["event_payload"]["question_ts"] == ts


def test_a_reclaimed_job_is_answered_when_slack_cannot_say_whether_it_was(runtime, fresh_standin, caplog):
    ts = ask(runtime, fresh_standin, 3)
    again = replica_b(runtime).claim()  # A claimed nothing; B's clock makes this its first claim
    run_job(runtime, again)
    assert len(complete_replies(fresh_standin, ts)) == 1
    posts = bot_posts(fresh_standin)
    # B dies before marking it done; a third replica, later still, re-claims it.
    third = JobQueue(runtime.store, owner="replica-c", lease_s=5, clock=lambda: time.time() + 120).claim()
    assert third is not None and third.attempts == 2
    fresh_standin.fail_next("conversations.replies", status=200, payload={"ok": False, "error": "internal_error"})
    with caplog.at_level(logging.WARNING, logger="bot.slack.replies"):
        run_job(runtime, third)
    assert any(r.getMessage() == "slack.delivery_lookup_failed" for r in caplog.records)
    assert bot_posts(fresh_standin) == posts + 1  # answered twice rather than maybe never
