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

    def embed_documents_and_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, show_progress_bar: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Document vectors and, from the same forward pass, one vector per character span of each text.

        A span's vector is the normalised mean of the contextual token vectors that lie inside it
        (pooling a part of a text encoded whole, "late chunking"), so a sentence's vector costs no
        model work beyond its chunk's and carries what the chunk says around it. The document vectors
        equal `embed_documents`. A span holding no token (cut off by the model window) gets a zero row.

        Args:
            texts: the documents.
            spans: for each text, (start, end) character offsets into it.
            show_progress_bar: as in `embed_documents`. Defaults to False.

        Returns:
            ((len(texts), dim) unit vectors, for each text a (len(spans[i]), dim) array).
        """
        texts = list(texts)
        outputs = self.model.encode_document(texts, batch_size=self.batch_size, output_value=None,
                                             convert_to_numpy=False, show_progress_bar=show_progress_bar)
        offsets = self.model.tokenizer(texts, return_offsets_mapping=True, truncation=True,
                                       max_length=self.model.max_seq_length)["offset_mapping"]
        documents = np.stack([output["sentence_embedding"].float().numpy() for output in outputs])
        documents /= np.maximum(np.linalg.norm(documents, axis=1, keepdims=True), 1e-12)
        pooled = [
            _pool_spans(output["token_embeddings"][output["attention_mask"].bool()].float().numpy(),
                        np.asarray(text_offsets, dtype=np.int64).reshape(-1, 2), text_spans)
            for output, text_offsets, text_spans in zip(outputs, offsets, spans, strict=True)
        ]
        return documents, pooled

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


def _pool_spans(tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Normalised mean of the token vectors inside each character span (special tokens have empty offsets)."""
    pooled = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    real = offsets[:, 1] > offsets[:, 0]
    for row, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if inside.any():
            mean = tokens[inside].mean(axis=0)
            pooled[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return pooled
