"""Answering tests: the `slow` marker (tests that load a real LLM; they still run in CI) and the
`service` fixture most modules share."""

from __future__ import annotations

import pytest
from answer_helpers import build_service

from bot.answer.service import AnswerService


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: loads and runs a real local LLM (tens of seconds); runs in CI")


@pytest.fixture(scope="module")
def service(corpus_index, query_embedder) -> AnswerService:
    """An AnswerService over the session's corpus index, one per test module (a module may define its
    own), embedding questions as serving does."""
    return build_service(corpus_index, query_embedder)
