"""Two real `gcot slack --http` replicas on one PostgreSQL, driven with Slack-signed requests.

Each replica is a subprocess loading the real model over its own copy of the test index, pointed at
the local Web API stand-in, with a short job lease. They are started together once for the module
(two model-loading processes are what this machine can afford) and shared by the tests; the test
that SIGKILLs replica A runs last.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.slack.answering import RATE_LIMITED
from bot.slack.listeners.actions.feedback import THANKS
from bot.slack.state.migrate import head_revision
from bot.slack.store import SlackStore
from testkit import free_port
from pg_helpers import fresh_database
from slack_events import SIGNING_SECRET, block_action, event_envelope, message, mention, post_action, post_event
from slack_standin import (
    APP_TOKEN, BOT_ID, BOT_TOKEN, BOT_USER, ESCALATION_CHANNEL, INTERNAL_CHANNEL, TEAM, Message, SlackStandIn,
)

ANSWERABLE = "When was the GCOT joint statement of intent published?"
USER_LIMIT = 3
LEASE_S = 4
ROOT = Path(__file__).resolve().parents[2]


class Replica:
    """`gcot slack --http` in a subprocess; its JSON log lines are collected from stderr."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.logs: list[dict] = []
        self._lock = threading.Lock()
        gcot = str(Path(sys.executable).parent / "gcot")
        self.proc = subprocess.Popen([gcot, "slack", "--http", "--port", str(self.port)], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"replica-{name}-logs")
        self._reader.start()
        self.http = httpx.Client(timeout=20)

    def _read(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = {"event": "raw", "line": line.rstrip()}
            with self._lock:
                self.logs.append(record)

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def logged(self, event: str, **match: object) -> list[dict]:
        with self._lock:
            return [r for r in self.logs if r.get("event") == event and all(r.get(k) == v for k, v in match.items())]

    def wait_logs_closed(self, timeout: float = 30) -> None:
        """Wait until every line the (exited) process wrote has been read: its stderr reached EOF."""
        self._reader.join(timeout)
        assert not self._reader.is_alive(), f"replica {self.name}'s stderr still open after {timeout} s"

    def wait_ready(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"replica {self.name} exited {self.proc.returncode}: {self.logs[-5:]}")
            try:
                if self.http.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"replica {self.name} not ready in {timeout} s")

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def pg_url() -> str:
    with fresh_database("gcot_replicas") as url:
        yield url


@pytest.fixture(scope="module")
def replicas(pg_url, corpus_index, standin: SlackStandIn, tmp_path_factory) -> dict[str, Replica]:
    """Replicas A and B, started at the same moment on an empty database."""
    started: dict[str, Replica] = {}
    envs = {}
    for name in ("A", "B"):
        data_dir = tmp_path_factory.mktemp(f"replica_{name}") / "data"
        shutil.copytree(corpus_index.data_dir, data_dir)  # embedded Chroma is one process's
        envs[name] = {
            **os.environ, "GCOT_DATA_DIR": str(data_dir), "GCOT_DATABASE_URL": pg_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": standin.api_url, "SLACK_ESCALATION_CHANNEL": ESCALATION_CHANNEL,
            "SLACK_USER_RATE_PER_MINUTE": str(USER_LIMIT), "SLACK_CHANNEL_RATE_PER_MINUTE": "100000",
            "SLACK_JOB_LEASE_S": str(LEASE_S), "SLACK_QUEUE_POLL_S": "0.5", "SLACK_WORKERS": "2",
            "GCOT_LOG_LEVEL": "INFO", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        }
        for key in ("CHROMA_HOST", "CHROMA_PORT", "SLACK_STREAMING"):  # the embedded copy; the default
            envs[name].pop(key, None)
    try:
        for name in ("A", "B"):
            started[name] = Replica(name, envs[name])
        for replica in started.values():
            replica.wait_ready()
        yield started
    finally:
        for replica in started.values():
            replica.stop()


@pytest.fixture(scope="module")
def state(pg_url, replicas) -> SlackStore:
    store = SlackStore(pg_url, migrate=False)
    yield store
    store.close()


def staff_user(standin: SlackStandIn, user: str) -> str:
    standin.users[user] = {"team_id": TEAM}
    return user


def ask_on(replica: Replica, standin: SlackStandIn, user: str, text_: str = ANSWERABLE, **post) -> tuple[str, dict]:
    ts = standin.add_user_message(INTERNAL_CHANNEL, user, f"<@{BOT_USER}> {text_}")
    payload = event_envelope(mention(INTERNAL_CHANNEL, user, text_, ts))
    assert post_event(replica.http, replica.events_url, payload, **post).status_code == 200
    return ts, payload


def replies(standin: SlackStandIn, thread_ts: str) -> list[Message]:
    """The bot's complete replies in the thread so far (posted, or streamed and stopped)."""
    with standin._cond:
        return [m for m in standin.messages if m.thread_ts == thread_ts and m.bot_id == BOT_ID and not m.streaming]


def wait_reply(standin: SlackStandIn, thread_ts: str, *, count: int = 1, timeout: float = 120) -> list[Message]:
    return standin.replies(INTERNAL_CHANNEL, thread_ts, count=count, timeout=timeout)


def wait_queue_empty(state: SlackStore, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with state.begin() as conn:
            if not conn.execute(text("SELECT count(*) FROM jobs WHERE status IN ('queued', 'claimed')")).scalar_one():
                return
        time.sleep(0.2)
    raise AssertionError("answer queue not empty in time")


def answered_by(replicas: dict[str, Replica], event_id: str) -> list[str]:
    return [name for name, r in replicas.items() if r.logged("slack.answered", event_id=event_id)]


def test_two_replicas_starting_together_migrate_once(replicas, state):
    migrated = [name for name, r in replicas.items() if r.logged("slack.db_migrated")]
    current = [name for name, r in replicas.items() if r.logged("slack.db_up_to_date")]
    assert len(migrated) == 1 and len(current) == 1, (migrated, current)
    assert replicas[migrated[0]].logged("slack.db_migrated")[0]["from_revision"] is None
    with state.begin() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]


def test_event_and_its_retry_on_the_other_replica_are_answered_once(replicas, standin, state):
    user = staff_user(standin, "URETRY001")
    ts, payload = ask_on(replicas["A"], standin, user)
    for retry, name in ((1, "B"), (2, "A"), (3, "B")):
        assert post_event(replicas[name].http, replicas[name].events_url, payload, retry_num=retry).status_code == 200
    wait_reply(standin, ts)
    wait_queue_empty(state)
    assert len(replies(standin, ts)) == 1
    assert len(replicas["B"].logged("slack.duplicate_event", event_id=payload["event_id"])) == 2
    assert len(answered_by(replicas, payload["event_id"])) == 1


def test_feedback_and_follow_up_on_the_replica_that_did_not_answer(replicas, standin, state):
    user = staff_user(standin, "UFOLLOW01")
    ts, payload = ask_on(replicas["A"], standin, user)
    [reply] = wait_reply(standin, ts)
    wait_queue_empty(state)
    [first] = answered_by(replicas, payload["event_id"])
    other = replicas["B" if first == "A" else "A"]
    answer_id = reply.metadata["event_payload"]["answer_id"]
    action = block_action("feedback_not_helpful", answer_id, user=user, channel=INTERNAL_CHANNEL,
                          message_ts=reply.ts, thread_ts=ts)
    assert post_action(other.http, other.events_url, action).status_code == 200
    thanks = standin.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == user, timeout=30)[0]
    assert thanks.params["text"] == THANKS
    from bot.slack.feedback import FeedbackStore

    assert [v["helpful"] for v in FeedbackStore(state).votes() if v["answer_id"] == answer_id] == [False]

    follow_up = "and is it a legally binding agreement?"
    follow_ts = standin.add_user_message(INTERNAL_CHANNEL, user, follow_up, thread_ts=ts)
    event = event_envelope(message(INTERNAL_CHANNEL, user, follow_up, follow_ts, thread_ts=ts))
    assert post_event(other.http, other.events_url, event).status_code == 200
    second = wait_reply(standin, ts, count=2)[1]
    assert standin.calls_to("conversations.replies", lambda c: c.params.get("ts") == ts)
    assert "binding" in second.text  # the thread's history reached the answerer


def test_per_user_limit_holds_across_replicas(replicas, standin, state):
    user = staff_user(standin, "ULIMIT001")
    threads = [ask_on(replicas["AB"[i % 2]], standin, user)[0] for i in range(2 * USER_LIMIT)]
    limited = lambda c: c.params.get("user") == user and c.params.get("text") == RATE_LIMITED  # noqa: E731
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        answered = [ts for ts in threads if replies(standin, ts)]
        refused = standin.calls_to("chat.postEphemeral", limited)
        if len(answered) + len(refused) >= len(threads):
            break
        time.sleep(0.2)
    wait_queue_empty(state)
    assert len(answered) == USER_LIMIT and len(standin.calls_to("chat.postEphemeral", limited)) == USER_LIMIT


def test_replica_killed_after_acking_a_burst_loses_nothing(replicas, standin, state):
    """A acks 20 questions and is SIGKILLed; B answers every one not already answered, each once."""
    a, b = replicas["A"], replicas["B"]
    users = [staff_user(standin, f"UBURST{i:03d}") for i in range(20)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        asked = list(pool.map(lambda u: ask_on(a, standin, u), users))
    with state.begin() as conn:  # what A holds at the moment it dies
        held = conn.execute(text("SELECT event_id FROM jobs WHERE status='claimed' AND owner LIKE :pid"),
                            {"pid": f"%:{a.proc.pid}:%"}).scalars().all()
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=30)
    a.wait_logs_closed()  # a line A wrote just before the kill may still be in the pipe
    answered_by_a = {e for e in (p["event_id"] for _, p in asked) if a.logged("slack.answered", event_id=e)}
    for ts, _ in asked:
        wait_reply(standin, ts, timeout=300)
    wait_queue_empty(state, timeout=60)
    assert Counter(len(replies(standin, ts)) for ts, _ in asked) == Counter({1: 20})  # each exactly once
    answered_by_b = {e for e in (p["event_id"] for _, p in asked) if b.logged("slack.answered", event_id=e)}
    # A can die after Slack took its reply but before it logged it or marked the job done: B re-claims
    # the job, finds that reply in the thread and stops, so the asker still gets one answer, A's.
    found_by_b = {r["event_id"] for r in b.logged("slack.job_already_answered")}
    reclaimed = {r["event_id"] for r in b.logged("slack.job_reclaimed")}
    assert not answered_by_b & found_by_b  # a job B found answered, B did not answer again
    assert found_by_b <= reclaimed
    for _, payload in asked:
        if payload["event_id"] not in answered_by_a:
            assert payload["event_id"] in answered_by_b | found_by_b, payload["event_id"]
    assert set(held) - answered_by_a <= reclaimed  # A's in-hand jobs went to B after their lease
    assert len(answered_by_a) < 20
