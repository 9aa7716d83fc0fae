"""The state store on a shared PostgreSQL, with several engines playing several replicas at once:
event claims, rate limits, job claims and migrations hold under real concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.slack.dedupe import EventDeduplicator
from bot.slack.feedback import FeedbackStore
from bot.slack.ratelimit import RateLimiter
from bot.slack.state.migrate import head_revision
from bot.slack.state.queue import JobQueue
from bot.slack.store import SlackStore
from pg_helpers import fresh_database


@pytest.fixture(scope="module")
def pg_url() -> str:
    with fresh_database("gcot_state") as url:
        yield url


@pytest.fixture(scope="module")
def replicas(pg_url: str) -> list[SlackStore]:
    """Two stores with their own engines and connection pools, as two replica processes would have."""
    stores = [SlackStore(pg_url), SlackStore(pg_url)]
    yield stores
    for store in stores:
        store.close()


def race(calls: list, workers: int = 8) -> list:
    """Run the callables together (released by one barrier) and return their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=max(workers, len(calls))) as pool:
        return list(pool.map(run, calls))


def test_replicas_share_salt_answers_and_votes(replicas):
    a, b = replicas
    assert a.user_salt == b.user_salt
    from bot.answer import Answer

    FeedbackStore(a).record_answer(Answer(answer_id="pg-a1", status="answered", text="t", audience="staff"),
                                   question="q", channel="C1", question_ts="1.0", thread_ts="1.0")
    assert FeedbackStore(b).vote("pg-a1", team="T1", user="U1", helpful=False)
    assert FeedbackStore(a).votes()[0]["answer_id"] == "pg-a1"
    assert race([lambda: FeedbackStore(a).mark_escalated("pg-a1"), lambda: FeedbackStore(b).mark_escalated("pg-a1")]
                ).count(True) == 1


def test_each_event_id_is_claimed_by_exactly_one_replica(replicas):
    dedupes = [EventDeduplicator(store) for store in replicas]
    ids = [f"EvPG{i:03d}" for i in range(20)]
    calls = [lambda d=d, e=e: (e, d.first_time(e)) for e in ids for d in dedupes for _ in range(2)]
    wins = Counter(event for event, won in race(calls, workers=16) if won)
    assert wins == Counter({event: 1 for event in ids})


def test_user_limit_is_the_limit_not_twice_it(replicas):
    limiters = [RateLimiter(store, per_user=5, per_channel=1000) for store in replicas]
    calls = [lambda lim=limiters[i % 2], i=i: lim.check(user="ULIMITPG", channel=f"C{i}") for i in range(16)]
    results = race(calls, workers=16)
    assert results.count(None) == 5 and results.count("user") == 11


def test_concurrent_workers_on_two_replicas_claim_each_job_once(replicas):
    queues = [JobQueue(store, owner=f"replica-{i}", lease_s=60) for i, store in enumerate(replicas)]
    for n in range(40):
        assert queues[0].enqueue({"n": n}, event_id=f"EvJob{n}", max_pending=1000)
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()

    def worker(queue: JobQueue) -> None:
        while (job := queue.claim()) is not None:
            with lock:
                claimed.append((queue.owner, job.payload["n"]))
            assert queue.complete(job.id)

    race([lambda q=queues[i % 2]: worker(q) for i in range(6)], workers=6)
    assert sorted(n for _, n in claimed) == list(range(40))
    assert {owner for owner, _ in claimed} == {"replica-0", "replica-1"}


def test_gcot_db_upgrade_run_three_times_at_once_migrates_once():
    gcot = str(Path(sys.executable).parent / "gcot")
    with fresh_database("gcot_migrate") as url:
        env = {**os.environ, "GCOT_DATABASE_URL": url}
        procs = [subprocess.Popen([gcot, "db", "upgrade"], env=env, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
        outputs = [proc.communicate(timeout=120)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
        assert sum("(was empty)" in out for out in outputs) == 1, outputs
        store = SlackStore(url, migrate=False)
        with store.begin() as conn:
            from sqlalchemy import text

            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
        store.close()
