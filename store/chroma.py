"""The vector store: one Chroma collection per embedding model, embedded or on a `chroma run` server.

`open_vector_store` is the single factory. It returns a `VectorStore` over an embedded
`PersistentClient` under the data dir by default, which is right for one machine and for tests; set
`CHROMA_HOST`/`CHROMA_PORT` to share one index between several bot processes through a Chroma
server. Both go through the same code. Embeddings are always computed by us and passed in: Chroma's
default embedding function (which downloads a model) is never used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np

from gcot.settings import Settings, Visibility

ALL_VISIBILITIES = get_args(Visibility)
_ADD_BATCH = 5000  # Chroma accepts at most 5,461 records per call


def collection_name(prefix: str, model_name: str, dimension: int) -> str:
    """`gcot__all-minilm-l6-v2__384`: vectors of two models can never share a collection."""
    slug = re.sub(r"[^a-z0-9.-]+", "-", model_name.lower()).strip("-.") or "model"
    return f"{prefix}__{slug}__{dimension}"[:500]


def chroma_client(settings: Settings) -> Any:
    """A Chroma client with telemetry off: HTTP when `CHROMA_HOST` is set, embedded otherwise."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.uses_chroma_server:
        return chromadb.HttpClient(
            host=settings.chroma_host or "localhost", port=settings.chroma_port or 8000, settings=chroma_settings
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]


class VectorStore:
    """The chunk collection. Only ids, texts, metadata and our own embeddings go in or out."""

    def __init__(self, collection: Any, *, location: str) -> None:
        self.collection = collection
        self.location = location

    @property
    def name(self) -> str:
        return str(self.collection.name)

    def count(self) -> int:
        return int(self.collection.count())

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray, texts: Sequence[str], metadatas: Sequence[dict]) -> None:
        for start in range(0, len(ids), _ADD_BATCH):
            end = start + _ADD_BATCH
            self.collection.upsert(
                ids=list(ids[start:end]),
                embeddings=embeddings[start:end],
                documents=list(texts[start:end]),
                metadatas=list(metadatas[start:end]),
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), _ADD_BATCH):
            self.collection.delete(ids=ids[start : start + _ADD_BATCH])

    def iter_chunks(self, *, page_size: int = 5000) -> Iterator[StoredChunk]:
        """Every stored chunk, in pages, for rebuilding the lexical index."""
        offset = 0
        while True:
            page = self.collection.get(include=["documents", "metadatas"], limit=page_size, offset=offset)
            for chunk_id, text, metadata in zip(page["ids"], page["documents"], page["metadatas"], strict=True):
                yield StoredChunk(chunk_id, text or "", dict(metadata or {}))
            if len(page["ids"]) < page_size:
                return
            offset += page_size

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        page = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        found = {
            chunk_id: StoredChunk(chunk_id, text or "", dict(metadata or {}))
            for chunk_id, text, metadata in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
        }
        return [found[chunk_id] for chunk_id in ids if chunk_id in found]

    def query(
        self, embedding: np.ndarray, *, k: int = 20, visibilities: Sequence[str] | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Top-k chunks by cosine similarity, filtered inside Chroma to the allowed visibilities."""
        # Every visibility allowed means no filter at all (a `where` costs Chroma a filtered search).
        unrestricted = visibilities is None or set(visibilities) >= set(ALL_VISIBILITIES)
        where = None if unrestricted else {"visibility": {"$in": list(visibilities)}}
        result = self.collection.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (StoredChunk(chunk_id, text or "", dict(metadata or {})), 1.0 - float(distance))
            for chunk_id, text, metadata, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

    def metadatas(self, *, page_size: int = 5000) -> Iterator[dict[str, Any]]:
        """Every chunk's metadata (no texts), in pages."""
        offset = 0
        while True:
            page = self.collection.get(include=["metadatas"], limit=page_size, offset=offset)
            yield from (dict(m or {}) for m in page["metadatas"])
            if len(page["ids"]) < page_size:
                return
            offset += page_size

    def similarities(self, embedding: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of `embedding` to the stored (normalised) vectors of `ids`."""
        page = self.collection.get(ids=list(ids), include=["embeddings"])
        if not page["ids"]:
            return {}
        vectors = np.asarray(page["embeddings"], dtype=np.float32)
        return dict(zip(page["ids"], (vectors @ np.asarray(embedding, dtype=np.float32)).tolist(), strict=True))

    def heartbeat(self) -> bool:
        try:
            self.collection.count()
        except Exception:  # any transport or storage failure means "not ready"
            return False
        return True


def open_vector_store(settings: Settings, *, model_name: str, dimension: int, create: bool = True) -> VectorStore:
    """Open (or create) the collection for `model_name` in the configured Chroma.

    Args:
        settings: where the store lives (`GCOT_DATA_DIR`, or `CHROMA_HOST`/`CHROMA_PORT`).
        model_name: the embedding model's name; part of the collection name.
        dimension: the embedding size; part of the collection name.
        create: create the collection when missing. Defaults to True; readers pass False.
    """
    client = chroma_client(settings)
    name = collection_name(settings.collection_prefix, model_name, dimension)
    if create:
        collection = client.get_or_create_collection(
            name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": model_name, "dimension": dimension},
        )
    else:
        collection = client.get_collection(name, embedding_function=None)
    location = (
        f"http://{settings.chroma_host}:{settings.chroma_port or 8000}" if settings.uses_chroma_server else str(settings.chroma_path)
    )
    return VectorStore(collection, location=location)


def store_key(settings: Settings, collection: str) -> str:
    """A filesystem-safe name for one (Chroma location, collection) pair; keys the manifest and lexical index."""
    where = f"{settings.chroma_host}-{settings.chroma_port or 8000}" if settings.uses_chroma_server else "local"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{where}__{collection}")
