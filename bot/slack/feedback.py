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

from bot.answer import Answer
from bot.slack.store import SlackStore


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
        with self.store.cursor() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO answers (answer_id, question, audience, status, doc_ids, channel, question_ts,"
                " thread_ts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer.answer_id, question, answer.audience, answer.status, doc_ids, channel, question_ts,
                 thread_ts, time.time()),
            )

    def answer(self, answer_id: str) -> AnswerRecord | None:
        with self.store.cursor() as cur:
            row = cur.execute(
                "SELECT answer_id, question, audience, status, doc_ids, channel, question_ts, thread_ts, escalated_at"
                " FROM answers WHERE answer_id=?", (answer_id,)).fetchone()
        if row is None:
            return None
        return AnswerRecord(*row[:4], json.loads(row[4]), *row[5:8], escalated=row[8] is not None)

    def mark_escalated(self, answer_id: str) -> bool:
        """True the first time only, so a double click escalates once."""
        with self.store.cursor() as cur:
            cur.execute("UPDATE answers SET escalated_at=? WHERE answer_id=? AND escalated_at IS NULL",
                        (time.time(), answer_id))
            return cur.rowcount == 1

    def clear_escalation(self, answer_id: str) -> None:
        with self.store.cursor() as cur:
            cur.execute("UPDATE answers SET escalated_at=NULL WHERE answer_id=?", (answer_id,))

    def hash_user(self, team: str | None, user: str) -> str:
        return hashlib.sha256(f"{self.store.user_salt}:{team or ''}:{user}".encode()).hexdigest()[:32]

    def vote(self, answer_id: str, *, team: str | None, user: str, helpful: bool) -> bool:
        """Store (or change) `user`'s vote on an answer. False if the answer is unknown (expired)."""
        record = self.answer(answer_id)
        if record is None:
            return False
        with self.store.cursor() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO feedback (answer_id, user_hash, helpful, question, doc_ids, audience, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (answer_id, self.hash_user(team, user), int(helpful), record.question, json.dumps(record.doc_ids),
                 record.audience, time.time()),
            )
        return True

    def votes(self) -> list[dict[str, Any]]:
        with self.store.cursor() as cur:
            rows = cur.execute("SELECT answer_id, user_hash, helpful, question, doc_ids, audience, created_at"
                               " FROM feedback ORDER BY created_at").fetchall()
        keys = ("answer_id", "user_hash", "helpful", "question", "doc_ids", "audience", "created_at")
        return [{**dict(zip(keys, row)), "helpful": bool(row[2]), "doc_ids": json.loads(row[4])} for row in rows]

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
