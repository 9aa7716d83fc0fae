"""The ingest manifest: which file produced which document, its hash, and its chunk ids.

A small SQLite database beside the index. Every change is one transaction, written only after the
vector store already holds the new chunks, so a run killed at any point leaves the manifest
describing chunks that exist; anything in the store the manifest does not name is an orphan and the
next run deletes it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from gcot.settings import Settings
from store.chroma import store_key


@dataclass(frozen=True)
class ManifestEntry:
    doc_id: str
    path: str
    file_hash: str
    chunk_ids: tuple[str, ...]


class Manifest:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a killed process (only a power cut can drop the last rows, which the
        # next run repairs: the store is written first); FULL would fsync once per document.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS documents ("
            " doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, file_hash TEXT NOT NULL,"
            " chunk_ids TEXT NOT NULL, updated REAL NOT NULL)"
        )

    def entries(self) -> dict[str, ManifestEntry]:
        rows = self._db.execute("SELECT doc_id, path, file_hash, chunk_ids FROM documents")
        return {
            doc_id: ManifestEntry(doc_id, path, file_hash, tuple(json.loads(chunk_ids)))
            for doc_id, path, file_hash, chunk_ids in rows
        }

    def put(self, entry: ManifestEntry) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
            (entry.doc_id, entry.path, entry.file_hash, json.dumps(list(entry.chunk_ids)), time.time()),
        )

    def remove(self, doc_id: str) -> None:
        self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    def close(self) -> None:
        self._db.close()


def manifest_path(settings: Settings, collection: str) -> Path:
    """The manifest file of one (Chroma location, collection) pair."""
    return settings.data_dir / "manifest" / f"{store_key(settings, collection)}.sqlite"
