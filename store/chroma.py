"""Chroma access: the client, collection names, and `VectorStore` over one chunk collection.

An index is a family of collections named after the embedding model (`<base>` =
`gcot__all-minilm-l6-v2__384`): one chunk collection per visibility (`<base>__public`, ...), so an
audience's search never even sees a forbidden chunk and needs no `where` filter; `<base>__records`
(per-document records and the version stamp, see `store.records`); and `<base>__lock` while an
ingest holds a server (see `store.locks`). The client is an embedded `PersistentClient` under the
data dir by default, or a `chroma run` server with `CHROMA_HOST`/`CHROMA_PORT`. Embeddings are
always computed by us and passed in: Chroma's default embedding function (which downloads a model)
is never used.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gcot.settings import Settings
from store.records import ALL_VISIBILITIES, most_restricted

_log = logging.getLogger(__name__)
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


def doc_id_of(chunk_id: str) -> str:
    """The document a chunk id belongs to: chunk ids are `<doc_id>:<content hash>:<index>` (`ingest.chunking`)."""
    return chunk_id.rsplit(":", 2)[0]


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]


class VectorStore:
    """The chunk collection. Only ids, texts, metadata and our own embeddings go in or out."""

    def __init__(self, collection: Any, *, location: str, visibility: str | None = None) -> None:
        self.collection = collection
        self.location = location
        self.visibility = visibility
        """The visibility every chunk here has (None: a legacy mixed collection)."""

    def _chunk(self, chunk_id: str, text: str | None, metadata: dict | None) -> StoredChunk:
        metadata = dict(metadata or {})
        # Fail closed: a chunk reads as the most restricted of its collection and its own metadata.
        metadata["visibility"] = most_restricted(self.visibility or metadata.get("visibility"), metadata.get("visibility"))
        return StoredChunk(chunk_id, text or "", metadata)

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
                yield self._chunk(chunk_id, text, metadata)
            if len(page["ids"]) < page_size:
                return
            offset += page_size

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        page = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        found = {
            chunk_id: self._chunk(chunk_id, text, metadata)
            for chunk_id, text, metadata in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
        }
        return [found[chunk_id] for chunk_id in ids if chunk_id in found]

    def containing(self, phrase: str, *, limit: int) -> list[StoredChunk]:
        """Up to `limit` chunks whose text contains `phrase` verbatim (case-sensitive: Chroma's `$contains`)."""
        page = self.collection.get(where_document={"$contains": phrase}, include=["documents", "metadatas"], limit=limit)
        return [self._chunk(i, t, m) for i, t, m in zip(page["ids"], page["documents"], page["metadatas"], strict=True)]

    def query(self, embedding: np.ndarray, *, k: int = 20) -> list[tuple[StoredChunk, float]]:
        """Top-k chunks of this collection by cosine similarity (no filter: a collection is one visibility)."""
        result = self.collection.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (self._chunk(chunk_id, text, metadata), 1.0 - float(distance))
            for chunk_id, text, metadata, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

    def query_ids(self, embedding: np.ndarray, *, k: int = 20) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of this collection's top k, without reading texts or metadata."""
        result = self.collection.query(query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k,
                                       include=["distances"])
        return [(chunk_id, 1.0 - float(d)) for chunk_id, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def metadatas(self, *, page_size: int = 5000) -> Iterator[dict[str, Any]]:
        """Every chunk's metadata (no texts), in pages."""
        offset = 0
        while True:
            page = self.collection.get(include=["metadatas"], limit=page_size, offset=offset)
            yield from (self._chunk(cid, "", m).metadata for cid, m in zip(page["ids"], page["metadatas"], strict=True))
            if len(page["ids"]) < page_size:
                return
            offset += page_size

    def vectors(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """(ids found, their stored unit-length embeddings as rows), in Chroma's order."""
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        page = self.collection.get(ids=list(ids), include=["embeddings"])
        if not page["ids"]:
            return [], np.zeros((0, 0), dtype=np.float32)
        return list(page["ids"]), np.asarray(page["embeddings"], dtype=np.float32)

    def similarities(self, embedding: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of `embedding` to the stored (normalised) vectors of `ids`."""
        found, vectors = self.vectors(ids)
        if not found:
            return {}
        return dict(zip(found, (vectors @ np.asarray(embedding, dtype=np.float32)).tolist(), strict=True))

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict]) -> None:
        """Replace the metadata of stored chunks; their vectors stay (nothing is re-embedded)."""
        for start in range(0, len(ids), _ADD_BATCH):
            end = start + _ADD_BATCH
            self.collection.update(ids=list(ids[start:end]), metadatas=list(metadatas[start:end]))

    def full(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray, list[str]]:
        """(ids found, their stored embeddings, texts): what moving chunks to another collection needs."""
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32), []
        page = self.collection.get(ids=list(ids), include=["embeddings", "documents"])
        return list(page["ids"]), np.asarray(page["embeddings"], dtype=np.float32), [t or "" for t in page["documents"]]

    def heartbeat(self) -> bool:
        try:
            self.collection.count()
        except Exception:  # any transport or storage failure means "not ready"
            return False
        return True


def chunk_collection_name(base: str, visibility: str) -> str:
    """`gcot__all-minilm-l6-v2__384__public`: one collection per visibility (a forbidden chunk is never searched)."""
    return f"{base}__{visibility}"


def records_collection_name(base: str) -> str:
    return f"{base}__records"


def lock_collection_name(base: str) -> str:
    return f"{base}__lock"


def location(settings: Settings) -> str:
    """Where the store lives, for messages: the server URL or the embedded folder."""
    if settings.uses_chroma_server:
        return f"http://{settings.chroma_host}:{settings.chroma_port or 8000}"
    return str(settings.chroma_path)


def hnsw_ef_search(collection: Any) -> int | None:
    """The collection's configured HNSW `ef_search`, None when it has no HNSW configuration (e.g. SPANN)."""
    hnsw = (collection.configuration or {}).get("hnsw") or {}
    value = hnsw.get("ef_search")
    return int(value) if value is not None else None


def apply_ef_search(collection: Any, ef_search: int) -> None:
    """Set `ef_search` on an HNSW collection when it differs: an index built before the setting (or with
    another value) searches as configured without a rebuild. ef_search is a search-time parameter, so
    Chroma accepts the change on an existing collection; a failure only leaves the old value."""
    current = hnsw_ef_search(collection)
    if current is None or current == ef_search:
        return
    try:
        collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
    except Exception as exc:  # noqa: BLE001 -- a read-only or older server must not stop serving
        _log.warning("chroma ef_search not changed", extra={"collection": collection.name, "error": str(exc)[:200]})
    else:
        _log.info("chroma ef_search changed", extra={"collection": collection.name, "from": current, "to": ef_search})


def open_chunk_collections(client: Any, settings: Settings, base: str, *, create: bool, model_name: str = "",
                           dimension: int = 0) -> dict[str, VectorStore]:
    """The per-visibility chunk collections of one index, created when `create` is set."""
    stores: dict[str, VectorStore] = {}
    for visibility in ALL_VISIBILITIES:
        name = chunk_collection_name(base, visibility)
        if create:
            collection = client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_search": settings.chroma_hnsw_ef_search}},
                metadata={"embedding_model": model_name, "dimension": dimension, "visibility": visibility},
            )
        else:
            collection = client.get_collection(name, embedding_function=None)
        apply_ef_search(collection, settings.chroma_hnsw_ef_search)
        stores[visibility] = VectorStore(collection, location=location(settings), visibility=visibility)
    return stores


def store_key(settings: Settings, collection: str) -> str:
    """A filesystem-safe name for one (Chroma location, collection) pair; keys the manifest and lexical index."""
    where = f"{settings.chroma_host}-{settings.chroma_port or 8000}" if settings.uses_chroma_server else "local"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{where}__{collection}")
