"""The write side of the store, used by the ingest job: `open_writer(settings, model_name=..., dimension=...)`.

The writer holds the store's write lock for its lifetime (see `store.locks`) and offers the few
operations an incremental ingest needs: add embedded chunks to their visibility's collection,
rewrite chunk metadata in place, move chunks to another visibility's collection with their stored
vectors (nothing re-embedded), store sentence vectors (`sentences`), put and remove per-document records, and finally `publish`, which
caches the lexical index of the new state and stamps its version into Chroma.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from gcot.settings import Settings
from store.chroma import (
    VectorStore, chroma_client, collection_name, location, lock_collection_name, open_chunk_collections,
    records_collection_name,
)
from store.index import current_chunks
from store.lexical import LexicalIndex, lexical_dir
from store.locks import EmbeddedLock, ServerLock
from store.records import ALL_VISIBILITIES, DocumentRecord, RecordStore, index_version

if TYPE_CHECKING:
    from store.sentences import SentenceStore

log = logging.getLogger(__name__)


class IndexWriter:
    """Exclusive write access to one index. Use as a context manager, or call `close()`."""

    def __init__(self, settings: Settings, *, model_name: str, dimension: int, purpose: str | None = None) -> None:
        self.settings = settings
        self.name = collection_name(settings.collection_prefix, model_name, dimension)
        self.location = location(settings)
        client = chroma_client(settings)
        self._lock: EmbeddedLock | ServerLock = (
            ServerLock(client, lock_collection_name(self.name), settings, purpose=purpose)
            if settings.uses_chroma_server else EmbeddedLock(settings, purpose=purpose)
        )
        self._lock.acquire()
        try:
            self.collections = open_chunk_collections(client, settings, self.name, create=True, model_name=model_name,
                                                      dimension=dimension)
            self._records = RecordStore(client, records_collection_name(self.name), create=True)
        except BaseException:
            self._lock.release()
            raise

    # --- reads the planner needs --------------------------------------------------------------------

    def records(self) -> dict[str, DocumentRecord]:
        return self._records.all()

    def stored_ids(self) -> dict[str, set[str]]:
        """Chunk ids held by each visibility's collection."""
        return {visibility: store.ids() for visibility, store in self.collections.items()}

    def published_version(self) -> str | None:
        return self._records.version()

    @functools.cached_property
    def sentences(self) -> SentenceStore:
        """The index's sentence-vector collection (`store.sentences`), opened (and created) on first use."""
        from store.sentences import open_sentence_store

        return open_sentence_store(self.settings)

    # --- chunk writes -------------------------------------------------------------------------------

    def add(self, visibility: str, ids: Sequence[str], embeddings: np.ndarray, texts: Sequence[str],
            metadatas: Sequence[dict]) -> None:
        self.collections[visibility].upsert(ids, embeddings, texts, metadatas)

    def update_metadata(self, visibility: str, ids: Sequence[str], metadatas: Sequence[dict]) -> None:
        self.collections[visibility].update_metadata(ids, metadatas)

    def move(self, ids: Sequence[str], *, source: str, target: str, metadatas: dict[str, dict]) -> list[str]:
        """Copy chunks with their stored vectors from one visibility's collection to another.

        The copies in `source` are left for the caller to delete once the record names `target`
        (a run killed in between leaves a duplicate that the sweep removes, never a gap).

        Returns:
            The ids moved (those found in `source`).
        """
        found, vectors, texts = self.collections[source].full(ids)
        if found:
            self.collections[target].upsert(found, vectors, texts, [metadatas[cid] for cid in found])
        return found

    def delete(self, visibility: str, ids: Sequence[str]) -> None:
        if ids:
            self.collections[visibility].delete(sorted(ids))

    # --- records and publishing ---------------------------------------------------------------------

    def put_record(self, record: DocumentRecord) -> None:
        self._records.put(record)

    def remove_records(self, doc_ids: Sequence[str]) -> None:
        self._records.remove(doc_ids)

    def progress(self) -> None:
        """Tell other hosts this ingest is alive (refreshes a server lock's heartbeat)."""
        if isinstance(self._lock, ServerLock):
            self._lock.refresh()

    def publish(self) -> str:
        """Cache the lexical index of the current records and stamp their version into Chroma.

        Returns:
            The published index version.
        """
        records = self.records()
        version = index_version(records.values())
        root = lexical_dir(self.settings, self.name)
        if version not in LexicalIndex.cached_versions(root):
            LexicalIndex.build(current_chunks(self.collections, records), version=version).save(root)
        LexicalIndex.prune_cache(root, keep=version, grace_s=self.settings.lexical_cache_grace_s)
        if self._records.version() != version:
            self._records.publish(version)
            log.info("index version published", extra={"version": version, "documents": len(records)})
        return version

    def close(self) -> None:
        self._lock.release()

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_writer(settings: Settings, *, model_name: str, dimension: int, purpose: str | None = None) -> IndexWriter:
    """Open the index for writing, creating its collections when missing.

    Args:
        settings: where the store lives.
        model_name, dimension: the embedding model (they name the collections).
        purpose: shown to a process that finds the lock taken. Defaults to this process's command line.

    Raises:
        store.locks.StoreLockedError: another process holds the store (who, since when, what to do).
    """
    return IndexWriter(settings, model_name=model_name, dimension=dimension, purpose=purpose)


__all__ = ["ALL_VISIBILITIES", "IndexWriter", "VectorStore", "open_writer"]
