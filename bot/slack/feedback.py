"""Answers the bot posted, votes on them, and the export of unhelpful ones as eval cases.

A vote row carries everything a reviewer needs (answer id, question, cited doc ids, audience, time)
and a salted hash of the voter's user id, so votes can be de-duplicated but not traced to a person.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import select, update

from bot.answer import Answer
from bot.slack.store import SlackStore


def hash_user(salt: str, team: str | None, user: str) -> str:
    """The salted hash stored instead of a Slack user id (votes, rate-limit windows)."""
    return hashlib.sha256(f"{salt}:{team or ''}:{user}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class AnswerRecord:
    answer_id: str
    question: str
    audience: str
    status: str
    doc_ids: list[str]
    channel: str
    question_ts: str
    thread_ts: str
    escalated: bool


class FeedbackStore:
    def __init__(self, store: SlackStore) -> None:
        self.store = store

    def record_answer(self, answer: Answer, *, question: str, channel: str, question_ts: str, thread_ts: str) -> None:
        """Remember an answer (before it is posted, so even an instant click finds it)."""
        doc_ids = json.dumps(list(dict.fromkeys(c.doc_id for c in answer.citations)))
        row = {"answer_id": answer.answer_id, "question": question, "audience": answer.audience,
               "status": answer.status, "doc_ids": doc_ids, "channel": channel, "question_ts": question_ts,
               "thread_ts": thread_ts, "created_at": time.time()}
        stmt = self.store.insert("answers").values(**row)
        with self.store.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=["answer_id"],
                                                    set_={k: v for k, v in row.items() if k != "answer_id"}))

    def answer(self, answer_id: str) -> AnswerRecord | None:
        answers = self.store.table("answers")
        with self.store.begin() as conn:
            row = conn.execute(select(answers).where(answers.c.answer_id == answer_id)).mappings().first()
        if row is None:
            return None
        return AnswerRecord(row["answer_id"], row["question"], row["audience"], row["status"],
                            json.loads(row["doc_ids"]), row["channel"], row["question_ts"], row["thread_ts"],
                            escalated=row["escalated_at"] is not None)

    def mark_escalated(self, answer_id: str) -> bool:
        """True the first time only (one atomic UPDATE), so a double click, on any replica, escalates once."""
        answers = self.store.table("answers")
        with self.store.begin() as conn:
            result = conn.execute(update(answers).where(answers.c.answer_id == answer_id,
                                                        answers.c.escalated_at.is_(None))
                                  .values(escalated_at=time.time()))
            return result.rowcount == 1

    def clear_escalation(self, answer_id: str) -> None:
        answers = self.store.table("answers")
        with self.store.begin() as conn:
            conn.execute(update(answers).where(answers.c.answer_id == answer_id).values(escalated_at=None))

    def hash_user(self, team: str | None, user: str) -> str:
        return hash_user(self.store.user_salt, team, user)

    def vote(self, answer_id: str, *, team: str | None, user: str, helpful: bool) -> bool:
        """Store (or change) `user`'s vote on an answer. False if the answer is unknown (expired)."""
        record = self.answer(answer_id)
        if record is None:
            return False
        row = {"answer_id": answer_id, "user_hash": self.hash_user(team, user), "helpful": int(helpful),
               "question": record.question, "doc_ids": json.dumps(record.doc_ids), "audience": record.audience,
               "created_at": time.time()}
        stmt = self.store.insert("feedback").values(**row)
        with self.store.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["answer_id", "user_hash"],
                set_={k: v for k, v in row.items() if k not in ("answer_id", "user_hash")}))
        return True

    def votes(self) -> list[dict[str, Any]]:
        feedback = self.store.table("feedback")
        with self.store.begin() as conn:
            rows = conn.execute(select(feedback).order_by(feedback.c.created_at)).mappings().all()
        keys = ("answer_id", "user_hash", "helpful", "question", "doc_ids", "audience", "created_at")
        return [{**{k: row[k] for k in keys}, "helpful": bool(row["helpful"]), "doc_ids": json.loads(row["doc_ids"])}
                for row in rows]

    def export_not_helpful(self, out: TextIO) -> int:
        """Write each not-helpful answer once as an eval case (eval suite JSONL); returns the count.

        `expect` is left empty and `needs_review` set: a reviewer writes the expected facts.
        """
        seen: set[str] = set()
        for vote in self.votes():
            if vote["helpful"] or vote["answer_id"] in seen:
                continue
            seen.add(vote["answer_id"])
            case = {
                "id": f"fb-{vote['answer_id']}", "question": vote["question"], "audience": vote["audience"],
                "answerable": True, "expect": [], "gold_doc_ids": vote["doc_ids"], "history": [],
                "category": "feedback", "needs_review": True,
            }
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
        return len(seen)
