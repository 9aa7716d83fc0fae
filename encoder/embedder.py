"""One embedding wrapper: the model is chosen and loaded in one place, offline, once per process."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def offline_env() -> None:
    """Keep transformers and the hub client off the network: the model is a local folder."""
    # Never let transformers or the hub client reach for the network: the model is a local folder.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


class Embedder:
    """Normalised sentence-transformers embeddings from a local model folder.

    Args:
        model_path: a local sentence-transformers folder (the packaged all-MiniLM-L6-v2 by default,
            see `Settings.model_path`).
        batch_size: texts per forward pass. Defaults to 32.
        device: torch device. Defaults to "cpu".
        threads: torch intra-op threads, set process-wide. Defaults to None (torch's own choice).

    Example:
        >>> embedder = Embedder(Settings().model_path())
        >>> embedder.embed_documents(["The coalition launched on 5 October 2023."]).shape
        (1, 384)
    """

    backend = "torch"
    variant = "fp32"

    def __init__(self, model_path: Path, *, batch_size: int = 32, device: str = "cpu", threads: int | None = None) -> None:
        offline_env()
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            # Process-wide: torch's default (one thread per core) thrashes on a shared machine.
            torch.set_num_threads(threads)

        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(self.model_path), device=device, local_files_only=True)

    @property
    def name(self) -> str:
        return self.model_path.name if self.model_path.name != "model" else self.model_path.parent.name

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def embed_documents(self, texts: Sequence[str], *, show_progress_bar: bool = False) -> np.ndarray:
        return self.model.encode_document(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress_bar,
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.encode_query(
            [text], batch_size=1, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )[0]


def model_info(model_path: Path) -> tuple[str, int]:
    """(name, dimension) of a sentence-transformers folder, read from its config without loading torch."""
    import json

    model_path = Path(model_path)
    name = model_path.name if model_path.name != "model" else model_path.parent.name
    for modules_file in [model_path / "modules.json"]:
        if modules_file.is_file():
            for module in json.loads(modules_file.read_text()):
                pooling = model_path / module.get("path", "") / "config.json"
                if "Pooling" in module.get("type", "") and pooling.is_file():
                    return name, int(json.loads(pooling.read_text())["word_embedding_dimension"])
    config = model_path / "config.json"
    if config.is_file():
        return name, int(json.loads(config.read_text())["hidden_size"])
    msg = f"{model_path} is not a sentence-transformers model folder (no modules.json or config.json)"
    raise FileNotFoundError(msg)
