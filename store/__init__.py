"""The store: Chroma (the single truth: chunks per visibility, per-document records, the version stamp),
the lexical index derived from it, and the write lock.

Readers use `open_reader(settings)` -> `IndexReader` (`.version()`, `.snapshot()`); the ingest job
uses `open_writer(settings, model_name=..., dimension=...)`; `check_index(settings)` compares all
three. Only this package imports chromadb and bm25s. Names are imported on first use, so
`import store` (and `gcot --help`) stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gcot.settings import Settings
    from store.check import check_index
    from store.chroma import StoredChunk
    from store.index import IndexReader, IndexSnapshot, open_reader
    from store.locks import EmbeddedLock, StoreLockedError
    from store.records import ALL_VISIBILITIES, DocumentRecord
    from store.writer import IndexWriter, open_writer

_EXPORTS = {
    "check_index": "store.check", "StoredChunk": "store.chroma", "IndexReader": "store.index",
    "IndexSnapshot": "store.index", "open_reader": "store.index", "EmbeddedLock": "store.locks",
    "StoreLockedError": "store.locks", "ALL_VISIBILITIES": "store.records", "DocumentRecord": "store.records",
    "IndexWriter": "store.writer", "open_writer": "store.writer",
}
__all__ = [*sorted(_EXPORTS), "claim_embedded_store"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    msg = f"module 'store' has no attribute {name!r}"
    raise AttributeError(msg)


def claim_embedded_store(settings: Settings, *, purpose: str | None = None) -> EmbeddedLock | None:
    """Hold the embedded store's write lock for this process's lifetime (a serving process calls it).

    Then a separate `gcot ingest` on the same data dir fails with a clear error instead of writing
    beside the running bot. Returns None with a Chroma server (any number of processes may read it).
    Release with `.release()`. Raises StoreLockedError when another process holds it.
    """
    from store.locks import EmbeddedLock

    if settings.uses_chroma_server:
        return None
    return EmbeddedLock(settings, purpose=purpose).acquire()
