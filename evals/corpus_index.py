"""A throwaway index of a corpus, for `gcot eval run --corpus` and `python -m evals.train_refusal --corpus`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gcot.settings import Settings


def index_corpus(corpus: Sequence[Path], settings: Settings, data_dir: Path, *, progress: bool = False) -> tuple[Settings, dict[str, Any]]:
    """Ingest `corpus` into a new embedded index under `data_dir`, as `gcot ingest` would.

    Returns the settings that point at it and the ingest's result. An ONNX export cache that already
    exists where `settings` keeps it (`<data dir>/models/` unless `GCOT_EMBEDDING_CACHE_DIR` is set) is
    reused, so the query model is not exported again each run; none is created there (the current data
    dir is neither used nor created). Raises FileNotFoundError for a missing folder.
    """
    from encoder.factory import onnx_cache_root
    from ingest.pipeline import ingest

    update: dict[str, Any] = {"data_dir": data_dir, "chroma_host": None, "chroma_port": None}
    if (cache := onnx_cache_root(settings)).is_dir():
        update["embedding_cache_dir"] = cache
    settings = settings.model_copy(update=update)
    return settings, dict(ingest(corpus, settings=settings, progress=progress))
