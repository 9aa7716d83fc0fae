"""Fixtures for the live-index tests: a real `chroma run` server and a serving AnswerService that
polls for new index versions.

Every test keeps one serving process running throughout (in-process, or a real `gcot` subprocess)
while documents are added, changed and deleted underneath it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_helpers import CHROMA, ChromaServer, free_port


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    assert CHROMA.is_file(), f"{CHROMA} not found; install chromadb in the venv"
    server = ChromaServer("127.0.0.1", free_port(), tmp_path / "chroma-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()


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
