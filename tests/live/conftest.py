"""Fixtures for the live-index tests: a real `chroma run` server and a serving AnswerService that
polls for new index versions.

Every test keeps one serving process running throughout (in-process, or a real `gcot` subprocess)
while documents are added, changed and deleted underneath it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def serve(embedder) -> Iterator[Callable[..., Any]]:
    """`serve(settings)` -> an AnswerService whose live index polls every `REFRESH_S`; stopped at teardown."""
    from bot.answer.service import AnswerService
    from bot.retrieve.hybrid import HybridRetriever

    started: list[Any] = []

    def start(settings):
        service = AnswerService(HybridRetriever.from_settings(settings, embedder=embedder), settings=settings)
        service.retriever.live.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.retriever.live.stop()
