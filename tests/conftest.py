"""Shared fixtures: isolated settings, one real embedding model per session, one indexed corpus.

Tests use the real model (the packaged all-MiniLM-L6-v2) and a real embedded Chroma; nothing is
mocked. The model is loaded once per session and handed to `ingest(embedder=...)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gcot.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_ROOT / "corpus"
RESTRICTED_DIR = PROJECT_ROOT / "tests" / "fixtures" / "restricted"

# Offline and quiet, whatever the developer's shell says; set before anything imports the stack.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: everything under `data_dir`, embedded Chroma, no `.env`, no env overrides."""
    values: dict[str, object] = {"data_dir": data_dir, "chroma_host": None, "chroma_port": None}
    values.update(overrides)
    return Settings(_env_file=None, **values)


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
def corpus_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:
    """`corpus/` plus `tests/fixtures/restricted` ingested once per session; returns its Settings."""
    from ingest.pipeline import ingest

    settings = make_settings(tmp_path_factory.mktemp("corpus_index") / "data")
    result = ingest([CORPUS_DIR, RESTRICTED_DIR], settings=settings, embedder=embedder)
    assert not result["errors"], result["errors"]
    assert result["chunks_total"] > 0
    return settings
