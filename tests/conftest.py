"""Shared fixtures: isolated settings, one real embedding model per session, one indexed corpus.

Tests use the real model (the packaged all-MiniLM-L6-v2) and a real embedded Chroma; nothing is
mocked. The model is loaded once per session and handed to `ingest(embedder=...)`. The corpus index
and the answering service embed as production does: chunks with torch (`embedder`), questions and the
stored sentence vectors with the query model (`query_embedder`, the ONNX export), so what the answer
tests check is what `gcot ask` and the Slack app do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from testkit import CHROMA, CORPUS_DIR, PROJECT_ROOT, RESTRICTED_DIR, ChromaServer, free_port, make_settings  # noqa: F401 (first: pins the offline env)

from gcot.settings import Settings


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """`settings_factory(**overrides)` -> Settings with a fresh data dir under this test's tmp_path."""

    def factory(**overrides: object) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return make_settings(**overrides)

    return factory


@pytest.fixture(scope="session")
def embedder():
    """The real embedding model, loaded once for the whole session. Treat it as read-only."""
    from encoder import Embedder

    settings = make_settings(Path("unused"))
    return Embedder(settings.model_path(), batch_size=settings.embedding_batch_size)


@pytest.fixture(scope="session")
def query_embedder(tmp_path_factory: pytest.TempPathFactory):
    """The embedder serving loads for questions (`load_embedder`: the ONNX int8 export where it can be
    made, exported once per session into a temp cache). Treat it as read-only."""
    from encoder import load_embedder

    return load_embedder(make_settings(Path("unused"), embedding_cache_dir=tmp_path_factory.mktemp("onnx-cache")))


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, embedder, query_embedder) -> Settings:
    """`corpus/` plus `tests/fixtures/restricted` ingested once per session, the sentences with the
    query model as `gcot ingest` embeds them; returns its Settings."""
    from ingest.pipeline import ingest

    settings = make_settings(tmp_path_factory.mktemp("corpus_index") / "data")
    result = ingest([CORPUS_DIR, RESTRICTED_DIR], settings=settings, embedder=embedder, sentence_embedder=query_embedder)
    assert not result["errors"], result["errors"]
    assert result["chunks_total"] > 0
    return settings


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A real `chroma run` server on a free port of 127.0.0.1, stopped at teardown."""
    assert CHROMA.is_file(), f"{CHROMA} not found; install chromadb in the venv"
    server = ChromaServer("127.0.0.1", free_port(), tmp_path / "chroma-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()
