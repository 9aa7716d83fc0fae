"""SQLite state: answers, votes and their export, answered threads; rate limits and de-duplication."""

import io
import json
import time

from bot.answer import Answer, Citation
from bot.slack.dedupe import EventDeduplicator
from bot.slack.feedback import FeedbackStore
from bot.slack.ratelimit import RateLimiter
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


def test_old_answers_are_pruned_on_open(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = SlackStore(path)
    stored_answer(store)
    with store.cursor() as cur:
        cur.execute("UPDATE answers SET created_at=?", (time.time() - 10 * 86400,))
    store.close()
    assert FeedbackStore(SlackStore(path, retention_days=5)).answer("a1") is None


def test_thread_registry_survives_reopen(tmp_path):
    ThreadRegistry(SlackStore(tmp_path / "s.sqlite3")).mark_answered("C1", "1.0")
    registry = ThreadRegistry(SlackStore(tmp_path / "s.sqlite3"))
    assert registry.was_answered("C1", "1.0") and not registry.was_answered("C1", "2.0")


def test_strip_mentions():
    assert strip_mentions("<@U123ABC> what is  GCOT &amp; 6G &lt;x&gt;?") == "what is GCOT & 6G <x>?"


def test_rate_limiter_per_user_and_per_channel():
    now = [0.0]
    limiter = RateLimiter(per_user=2, per_channel=3, clock=lambda: now[0])
    assert limiter.check(user="U1", channel="C1") is None
    assert limiter.check(user="U1", channel="C1") is None
    assert limiter.check(user="U1", channel="C1") == "user"
    assert limiter.check(user="U2", channel="C1") is None
    assert limiter.check(user="U3", channel="C1") == "channel"
    now[0] = 61.0
    assert limiter.check(user="U1", channel="C1") is None


def test_deduplicator_lets_an_event_id_through_once():
    dedupe = EventDeduplicator(ttl_s=60)
    assert dedupe.first_time("Ev1") and not dedupe.first_time("Ev1") and dedupe.first_time("Ev2")


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
