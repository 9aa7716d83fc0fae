"""The store: Chroma (the single truth: chunks per visibility, per-document records, the version stamp),
the lexical index derived from it, and the write lock.

Readers use `open_reader(settings)` -> `IndexReader` (`.version()`, `.snapshot()`); the ingest job
uses `open_writer(settings, model_name=..., dimension=...)`; `check_index(settings)` compares all
three. Only this package imports chromadb and bm25s.
"""

from store.check import check_index
from store.chroma import StoredChunk
from store.index import IndexReader, IndexSnapshot, open_reader
from store.locks import EmbeddedLock, StoreLockedError
from store.records import ALL_VISIBILITIES, DocumentRecord
from store.writer import IndexWriter, open_writer

__all__ = [
    "ALL_VISIBILITIES", "DocumentRecord", "EmbeddedLock", "IndexReader", "IndexSnapshot", "IndexWriter",
    "StoreLockedError", "StoredChunk", "check_index", "claim_embedded_store", "open_reader", "open_writer",
]


def claim_embedded_store(settings, *, purpose: str | None = None) -> EmbeddedLock | None:
    """Hold the embedded store's write lock for this process's lifetime (a serving process calls it).

    Then a separate `gcot ingest` on the same data dir fails with a clear error instead of writing
    beside the running bot. Returns None with a Chroma server (any number of processes may read it).
    Release with `.release()`. Raises StoreLockedError when another process holds it.
    """
    if settings.uses_chroma_server:
        return None
    return EmbeddedLock(settings, purpose=purpose).acquire()
