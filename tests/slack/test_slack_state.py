"""State store on SQLite (the embedded default): answers, votes and their export, answered threads,
retention, rate limits, event de-duplication, the answer queue and migrations.

The same classes on a shared PostgreSQL, and several real replicas, are tested in test_replicas*.py.
"""

import io
import json
import sqlite3
import time

from sqlalchemy import update

from bot.answer import Answer, Citation
from bot.slack.dedupe import EventDeduplicator
from bot.slack.feedback import FeedbackStore
from bot.slack.ratelimit import RateLimiter
from bot.slack.state.migrate import head_revision
from bot.slack.state.queue import JobQueue
from bot.slack.store import SlackStore
from bot.slack.threads import ThreadRegistry, strip_mentions


def stored_answer(store: SlackStore, answer_id: str = "a1") -> FeedbackStore:
    feedback = FeedbackStore(store)
    answer = Answer(answer_id=answer_id, status="answered", text="t", audience="industry",
                    citations=[Citation(n=1, doc_id="d1", title="T"), Citation(n=2, doc_id="d2", title="U")])
    feedback.record_answer(answer, question="What is GCOT?", channel="C1", question_ts="1.0", thread_ts="1.0")
    return feedback


def test_votes_are_stored_with_answer_details_and_hashed_users(tmp_path):
    feedback = stored_answer(SlackStore(tmp_path / "s.sqlite3"))
    assert feedback.vote("a1", team="T1", user="U1", helpful=False)
    assert feedback.vote("a1", team="T1", user="U1", helpful=True)  # changing one's vote replaces it
    assert not feedback.vote("missing", team="T1", user="U1", helpful=True)
    [vote] = feedback.votes()
    assert vote["helpful"] is True and vote["question"] == "What is GCOT?" and vote["doc_ids"] == ["d1", "d2"]
    assert vote["audience"] == "industry" and "U1" not in vote["user_hash"] and len(vote["user_hash"]) == 32


def test_user_hash_is_salted_per_install(tmp_path):
    first = FeedbackStore(SlackStore(tmp_path / "a.sqlite3")).hash_user("T1", "U1")
    again = FeedbackStore(SlackStore(tmp_path / "a.sqlite3")).hash_user("T1", "U1")
    other = FeedbackStore(SlackStore(tmp_path / "b.sqlite3")).hash_user("T1", "U1")
    assert first == again != other


def test_export_writes_each_not_helpful_answer_once_in_eval_format(tmp_path):
    feedback = stored_answer(SlackStore(tmp_path / "s.sqlite3"))
    feedback.vote("a1", team="T1", user="U1", helpful=False)
    feedback.vote("a1", team="T1", user="U2", helpful=False)
    out = io.StringIO()
    assert feedback.export_not_helpful(out) == 1
    assert json.loads(out.getvalue()) == {
        "id": "fb-a1", "question": "What is GCOT?", "audience": "industry", "answerable": True, "expect": [],
        "gold_doc_ids": ["d1", "d2"], "history": [], "category": "feedback", "needs_review": True}


def test_escalation_is_marked_once(tmp_path):
    feedback = stored_answer(SlackStore(tmp_path / "s.sqlite3"))
    assert feedback.mark_escalated("a1") and not feedback.mark_escalated("a1")
    feedback.clear_escalation("a1")
    assert feedback.mark_escalated("a1")


def test_old_answers_and_feedback_are_pruned_on_open(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = SlackStore(path)
    feedback = stored_answer(store)
    feedback.vote("a1", team="T1", user="U1", helpful=False)
    stored_answer(store, "a2")  # recent: kept
    old = time.time() - 10 * 86400
    with store.begin() as conn:
        conn.execute(update(store.table("answers")).where(store.table("answers").c.answer_id == "a1")
                     .values(created_at=old))
        conn.execute(update(store.table("feedback")).values(created_at=old))
    store.close()
    reopened = FeedbackStore(SlackStore(path, retention_days=5))
    assert reopened.answer("a1") is None and reopened.answer("a2") is not None
    assert reopened.votes() == []


def test_thread_registry_survives_reopen(tmp_path):
    ThreadRegistry(SlackStore(tmp_path / "s.sqlite3")).mark_answered("C1", "1.0")
    registry = ThreadRegistry(SlackStore(tmp_path / "s.sqlite3"))
    assert registry.was_answered("C1", "1.0") and not registry.was_answered("C1", "2.0")


def test_strip_mentions():
    assert strip_mentions("<@U123ABC> what is  GCOT &amp; 6G &lt;x&gt;?") == "what is GCOT & 6G <x>?"


def test_rate_limiter_per_user_and_per_channel(tmp_path):
    now = [1000.0]
    store = SlackStore(tmp_path / "s.sqlite3")
    limiter = RateLimiter(store, per_user=2, per_channel=3, clock=lambda: now[0])
    assert limiter.check(user="U1", channel="C1") is None
    assert limiter.check(user="U1", channel="C1", ref="Ev2") is None
    assert limiter.check(user="U1", channel="C1", ref="Ev2") is None  # the same question again: not counted
    assert limiter.check(user="U1", channel="C1") == "user"
    assert limiter.check(user="U2", channel="C1") is None
    assert limiter.check(user="U3", channel="C1") == "channel"
    now[0] += 61.0
    assert limiter.check(user="U1", channel="C1") is None
    with sqlite3.connect(tmp_path / "s.sqlite3") as raw:  # user ids are stored hashed
        keys = {row[0] for row in raw.execute("SELECT key FROM rate_hits WHERE scope='user'")}
    assert keys and not keys & {"U1", "U2", "U3"}


def test_deduplicator_lets_an_event_id_through_once(tmp_path):
    now = [1000.0]
    dedupe = EventDeduplicator(SlackStore(tmp_path / "s.sqlite3"), ttl_s=60, stale_s=10, clock=lambda: now[0])
    assert dedupe.first_time("Ev1") and not dedupe.first_time("Ev1") and dedupe.first_time("Ev2")
    dedupe.finish("Ev1")
    now[0] += 30  # Ev2 was never finished (its replica died before acking): the next retry takes it over
    assert not dedupe.first_time("Ev1") and dedupe.first_time("Ev2")
    dedupe.release("Ev2")
    assert dedupe.first_time("Ev2")
    now[0] += 61  # past the TTL, an id is new again
    assert dedupe.first_time("Ev1")


def test_queue_leases_reclaims_and_records_each_event_once(tmp_path):
    now = [1000.0]
    store = SlackStore(tmp_path / "s.sqlite3")
    a = JobQueue(store, owner="a", lease_s=10, clock=lambda: now[0])
    b = JobQueue(store, owner="b", lease_s=10, clock=lambda: now[0])
    assert a.enqueue({"n": 1}, event_id="Ev1", max_pending=2) and a.enqueue({"n": 1}, event_id="Ev1", max_pending=2)
    assert a.enqueue({"n": 2}, event_id="Ev2", max_pending=2)
    assert not a.enqueue({"n": 3}, event_id="Ev3", max_pending=2)  # full: nothing recorded
    assert a.pending() == 2
    first = a.claim()
    assert first.payload == {"n": 1} and first.attempts == 1
    assert b.claim().payload == {"n": 2} and b.claim() is None
    now[0] += 8
    assert a.renew([first.id]) == set()
    now[0] += 8  # a's lease holds (renewed); b's has run out: its job goes to the next claimer
    again = a.claim()
    assert again.payload == {"n": 2} and again.attempts == 2
    assert not b.complete(again.id) and a.complete(again.id) and a.complete(first.id)
    assert a.pending() == 0 and a.claim() is None


def test_migrations_upgrade_an_old_store_in_place(tmp_path):
    """A slack.sqlite3 from before migrations keeps its rows and gains the new tables."""
    path = tmp_path / "slack.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.executescript("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE answers (answer_id TEXT PRIMARY KEY, question TEXT NOT NULL, audience TEXT NOT NULL,
                status TEXT NOT NULL, doc_ids TEXT NOT NULL, channel TEXT NOT NULL, question_ts TEXT NOT NULL,
                thread_ts TEXT NOT NULL, escalated_at REAL, created_at REAL NOT NULL);
            CREATE TABLE feedback (answer_id TEXT NOT NULL, user_hash TEXT NOT NULL, helpful INTEGER NOT NULL,
                question TEXT NOT NULL, doc_ids TEXT NOT NULL, audience TEXT NOT NULL, created_at REAL NOT NULL,
                PRIMARY KEY (answer_id, user_hash));
            CREATE TABLE threads (channel TEXT NOT NULL, thread_ts TEXT NOT NULL, answered_at REAL NOT NULL,
                PRIMARY KEY (channel, thread_ts));
        """)
        raw.execute("INSERT INTO meta VALUES ('user_salt', 'oldsalt')")
        raw.execute("INSERT INTO answers VALUES ('a0', 'q', 'staff', 'answered', '[]', 'C1', '1.0', '1.0', NULL, ?)",
                    (time.time(),))
    store = SlackStore(path)
    assert store.migration.before is None and store.migration.after == head_revision()
    assert store.user_salt == "oldsalt" and FeedbackStore(store).answer("a0").question == "q"
    assert JobQueue(store, owner="x").enqueue({}, event_id="Ev1", max_pending=1)
    assert not SlackStore(path).migration.applied


def test_thread_history_turns_skip_notices_other_bots_and_later_messages(fresh_standin):
    from slack_sdk import WebClient

    from bot.slack.answering import NOTICES
    from bot.slack.prompts import GREETING
    from bot.slack.threads import thread_history
    from slack_standin import BOT_ID, BOT_TOKEN, BOT_USER, Message

    root = fresh_standin.add_user_message("C1", "U1", f"<@{BOT_USER}> what is GCOT?")
    fresh_standin.messages += [
        Message("C1", "1700000100.000100", GREETING, user=BOT_USER, bot_id=BOT_ID, thread_ts=root),
        Message("C1", "1700000101.000100", "GCOT is a coalition [1]", user=BOT_USER, bot_id=BOT_ID, thread_ts=root),
        Message("C1", "1700000102.000100", "beep", bot_id="BOTHER", thread_ts=root),
        Message("C1", "1700000103.000100", "and when did it start?", user="U1", thread_ts=root),
        Message("C1", "1700000104.000100", "later", user="U1", thread_ts=root),
    ]
    turns = thread_history(WebClient(token=BOT_TOKEN, base_url=fresh_standin.api_url), channel="C1", thread_ts=root,
                           before_ts="1700000104.000100", bot_user_id=BOT_USER, bot_id=BOT_ID, skip_prefixes=NOTICES)
    assert [(t.role, t.content) for t in turns] == [
        ("user", "what is GCOT?"), ("assistant", "GCOT is a coalition [1]"), ("user", "and when did it start?")]
