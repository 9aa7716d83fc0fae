"""Helpers shared by the answering tests: build the service once, read an answer's citations.

Not a conftest: the fixtures stay in each test module (one AnswerService per module), these are
plain functions they call.
"""

from __future__ import annotations

import re

from bot.answer.service import AnswerService
from bot.types import Answer
from bot.retrieve.hybrid import HybridRetriever
from gcot.settings import Settings

_MARK = re.compile(r"\[(\d+)\]")


def build_service(settings: Settings, embedder) -> AnswerService:
    """An AnswerService over the index `settings` points at, reusing the session's embedding model."""
    return AnswerService(HybridRetriever.from_settings(settings, embedder=embedder), settings=settings)


def cited_doc_ids(answer: Answer) -> list[str]:
    return [citation.doc_id for citation in answer.citations]


def quoted_by_doc(answer: Answer) -> dict[str, str]:
    """doc_id -> the answer text marked with that document's citation number.

    The answer text is "sentence [1] sentence [2] ...": every sentence ends with the number of the
    source it was taken from. Every number used must belong to a citation.
    """
    by_number = {citation.n: citation.doc_id for citation in answer.citations}
    parts = _MARK.split(answer.text)
    quoted: dict[str, list[str]] = {}
    for sentence, number in zip(parts[0::2], parts[1::2], strict=False):
        assert int(number) in by_number, f"[{number}] in the text has no citation: {answer.text!r}"
        quoted.setdefault(by_number[int(number)], []).append(sentence.strip())
    return {doc_id: " ".join(sentences) for doc_id, sentences in quoted.items()}


def describe(answer: Answer) -> str:
    """One line for assertion messages."""
    return f"{answer.status}/{answer.reason or '-'} conf={answer.confidence} cited={cited_doc_ids(answer)} text={answer.text[:200]!r}"
