"""Which embedder a process gets: the ONNX Runtime export where it can be used, torch otherwise."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from encoder.embedder import Embedder
    from encoder.onnx import OnnxEmbedder
    from gcot.settings import Settings

log = logging.getLogger(__name__)

Purpose = Literal["query", "documents", "sentences"]


def onnx_cache_root(settings: Settings):
    """Where exports are cached: `GCOT_EMBEDDING_CACHE_DIR`, else `<data dir>/models/`."""
    return settings.embedding_cache_dir or settings.data_dir / "models"


def load_embedder(settings: Settings, *, purpose: Purpose = "query") -> Embedder | OnnxEmbedder:
    """The embedder for `purpose`, with the configured threads.

    Queries (serving, the CLI, evals) use the ONNX export when `embedding_backend` is `auto` or `onnx`
    and the model folder can be exported; the export is made once, in a child process, and cached
    under the data dir. Documents (ingest) always use torch fp32: it embeds as many chunks per
    CPU-second as ONNX fp32 here, and the stored vectors stay the reference every variant is measured
    against. Sentences (the ingest's sentence vectors, `store.sentences`) get the query model,
    since answering compares them with query vectors, but with every core: the ingest is a batch job
    (its torch chunk model uses every core too), and two threads embed them 1.7x faster than one. A
    failure of the ONNX path falls back to torch with a warning, except with `embedding_backend=onnx`,
    which raises.
    """
    from encoder.embedder import Embedder

    model_path = settings.model_path()
    if purpose == "sentences":
        settings = settings.model_copy(update={"embedding_threads": max(settings.embedding_threads, os.cpu_count() or 1)})
    if purpose != "documents" and settings.embedding_backend != "torch":
        embedder = _onnx(settings, variant=settings.embedding_onnx_variant)
        if embedder is not None:
            return embedder
        if settings.embedding_backend == "onnx":
            msg = f"the ONNX export of {model_path} could not be made or loaded (GCOT_EMBEDDING_BACKEND=onnx)"
            raise RuntimeError(msg)
        log.warning("onnx embedder unavailable, using torch", extra={"purpose": purpose})
    return Embedder(model_path, batch_size=settings.embedding_batch_size, threads=settings.embedding_threads)


def _onnx(settings: Settings, *, variant: str) -> OnnxEmbedder | None:
    from encoder.onnx import OnnxEmbedder, ensure_exported, supports_onnx

    model_path = settings.model_path()
    if not supports_onnx(model_path):
        return None
    path = ensure_exported(model_path, onnx_cache_root(settings), variant)
    if path is None:
        return None
    try:
        return OnnxEmbedder(model_path, path, batch_size=settings.embedding_batch_size, threads=settings.embedding_threads, variant=variant)
    except Exception as exc:  # a corrupt or incompatible cache file: torch still works
        log.warning("onnx embedder failed to load", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
        return None
