"""The read side of the store: `open_reader(settings) -> IndexReader`, and immutable snapshots.

A serving process polls `IndexReader.version()` (one small Chroma read) and, when it moves, builds
a new `IndexSnapshot` in the background: the records, the lexical index for that version (from the
local cache, or rebuilt from Chroma's stored chunks and cached), an id -> visibility map and, for
collections small enough (`dense_exact_max_chunks`), their vectors for exact search (`store.dense`).
Dense search covers only the collections of the allowed visibilities, so a forbidden chunk is never a
candidate: exactly over held vectors, or through Chroma's HNSW for larger collections.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from gcot.settings import Settings
from store.chroma import (
    StoredChunk, VectorStore, chroma_client, collection_name, doc_id_of, location, lock_collection_name,
    open_chunk_collections, records_collection_name,
)
from store.dense import ExactVectors, vectors_dir
from store.lexical import LexicalIndex, lexical_dir
from store.records import ALL_VISIBILITIES, DocumentRecord, RecordStore, normalise_visibility

log = logging.getLogger(__name__)
_SNAPSHOT_ATTEMPTS = 3


def _allowed(visibilities: Sequence[str] | None) -> list[str]:
    return list(ALL_VISIBILITIES) if visibilities is None else [v for v in ALL_VISIBILITIES if v in set(visibilities)]


class IndexSnapshot:
    """Everything one index version needs to serve. Build with `IndexReader.snapshot()`."""

    def __init__(self, *, version: str, collections: dict[str, VectorStore], records: dict[str, DocumentRecord],
                 lexical: LexicalIndex, pool: ThreadPoolExecutor, name: str, heartbeat: Any,
                 exact: dict[str, ExactVectors] | None = None) -> None:
        self.version = version
        self.collections = collections
        self.records = records
        self.lexical = lexical
        self.name = name
        self.location = next(iter(collections.values())).location
        self._pool = pool
        self._heartbeat = heartbeat
        self.exact = dict(exact or {})
        """Visibility -> its vectors, for the collections searched exactly (the rest use HNSW)."""
        self._visibility_of = dict(zip(lexical.chunk_ids, lexical.visibilities.tolist(), strict=True))

    # --- search ------------------------------------------------------------------------------------

    def query_ids(self, vector: np.ndarray, *, k: int, visibilities: Sequence[str] | None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the top k among the collections the visibilities allow (None: all).

        Ids only: hybrid search fuses candidates first and reads the texts of the few it keeps.
        """
        allowed = _allowed(visibilities)
        if len(allowed) == 1:
            results = [self._query_one(allowed[0], vector, k)]
        else:  # one query per visibility collection, in parallel, fused by score
            results = list(self._pool.map(lambda visibility: self._query_one(visibility, vector, k), allowed))
        # Only this version's chunks (one an unpublished or killed ingest stored is not a candidate yet),
        # and only where the chunk's own recorded visibility is allowed too (fail closed).
        hits = [(chunk_id, score) for found in results for chunk_id, score in found
                if self._visibility_of.get(chunk_id) in allowed]
        hits.sort(key=lambda hit: -hit[1])
        return hits[:k]

    def query(self, vector: np.ndarray, *, k: int, visibilities: Sequence[str] | None) -> list[tuple[StoredChunk, float]]:
        """Top-k chunks (with texts and metadata) by cosine similarity; see `query_ids`."""
        top = self.query_ids(vector, k=k, visibilities=visibilities)
        chunks = {c.chunk_id: c for c in self.get([chunk_id for chunk_id, _ in top])}
        return [(chunks[chunk_id], score) for chunk_id, score in top
                if chunk_id in chunks and chunks[chunk_id].metadata["visibility"] in _allowed(visibilities)]

    def _query_one(self, visibility: str, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k ids of one visibility's collection: exact over its held vectors when it has them, else HNSW."""
        exact = self.exact.get(visibility)
        if exact is None:
            return self.collections[visibility].query_ids(vector, k=k)
        return exact.search(vector, k=k)

    def _by_collection(self, ids: Sequence[str]) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for chunk_id in ids:
            visibility = self._visibility_of.get(chunk_id)
            for v in [visibility] if visibility in self.collections else ALL_VISIBILITIES:
                groups.setdefault(v, []).append(chunk_id)
        return groups

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """The stored chunks of `ids`, in the order given (ids not in the store are left out)."""
        found: dict[str, StoredChunk] = {}
        for visibility, group in self._by_collection(ids).items():
            found.update({c.chunk_id: c for c in self.collections[visibility].get(group)})
        return [found[chunk_id] for chunk_id in ids if chunk_id in found]

    def containing(self, phrase: str, *, visibilities: Sequence[str] | None, limit: int = 10) -> list[StoredChunk]:
        """Chunks of this version that the visibilities allow and whose text contains `phrase` verbatim.

        Up to `limit` per visibility collection; a caller that needs to know whether there are more
        asks for one more than it will use.
        """
        allowed = _allowed(visibilities)
        found = []
        for visibility in allowed:
            if visibility in self.collections:
                found += [c for c in self.collections[visibility].containing(phrase, limit=limit)
                          if self._visibility_of.get(c.chunk_id) in allowed]
        return found

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of `vector` to the stored vectors of `ids`."""
        scores: dict[str, float] = {}
        for visibility, group in self._by_collection(ids).items():
            exact = self.exact.get(visibility)
            held = exact.similarities(vector, group) if exact is not None else {}
            scores.update(held)
            rest = [chunk_id for chunk_id in group if chunk_id not in held]
            if rest:
                scores.update(self.collections[visibility].similarities(vector, rest))
        return scores

    # --- documents ---------------------------------------------------------------------------------

    def documents(self, visibilities: Sequence[str] | None = None) -> list[DocumentRecord]:
        """Records of the documents the visibilities allow (None: all), sorted by doc_id."""
        allowed = set(_allowed(visibilities))
        return [r for _, r in sorted(self.records.items()) if normalise_visibility(r.visibility) in allowed]

    def chunks_of(self, doc_id: str) -> list[StoredChunk]:
        """Every chunk of one document, in document order (empty for an unknown doc_id)."""
        record = self.records.get(doc_id)
        if record is None:
            return []
        chunks = self.collections[normalise_visibility(record.visibility)].get(list(record.chunk_ids))
        return sorted(chunks, key=lambda c: int(c.metadata.get("chunk_index", 0)))

    def neighbour_ids(self, chunk_id: str, *, before: int = 1, after: int = 1) -> list[str]:
        """Ids of `chunk_id` and up to `before` / `after` chunks around it in its document, in order.

        Only this version's chunks of the same document (so of the same visibility); [] for a chunk
        this version does not hold.
        """
        record = self.records.get(doc_id_of(chunk_id))
        if record is None or chunk_id not in record.chunk_ids:
            return []
        position = record.chunk_ids.index(chunk_id)
        return list(record.chunk_ids[max(0, position - before) : position + after + 1])

    def heartbeat(self) -> bool:
        """True when Chroma answers."""
        return bool(self._heartbeat())

    # --- whole-index reads (benchmarks, evals, checks) ------------------------------------------------

    def count(self) -> int:
        return sum(store.count() for store in self.collections.values())

    def iter_chunks(self) -> Iterator[StoredChunk]:
        for store in self.collections.values():
            yield from store.iter_chunks()

    def metadatas(self) -> Iterator[dict[str, Any]]:
        for store in self.collections.values():
            yield from store.metadatas()


class IndexReader:
    """Read access to one index (one embedding model) in the configured Chroma."""

    def __init__(self, settings: Settings, *, model_name: str, dimension: int) -> None:
        self.settings = settings
        self.name = collection_name(settings.collection_prefix, model_name, dimension)
        self.location = location(settings)
        client = self._client = chroma_client(settings)
        try:
            self._records = RecordStore(client, records_collection_name(self.name), create=False)
            self._collections = open_chunk_collections(client, settings, self.name, create=False)
        except Exception as exc:  # Chroma raises its own NotFoundError types; the advice is the same
            msg = f"no index for model {model_name!r} in {self.location} (run `gcot ingest` first)"
            raise FileNotFoundError(msg) from exc
        if self._records.version() is None:
            msg = f"no complete index for model {model_name!r} in {self.location} yet (run `gcot ingest` first)"
            raise FileNotFoundError(msg)
        self._pool = ThreadPoolExecutor(max_workers=len(ALL_VISIBILITIES), thread_name_prefix="chroma-query")

    def version(self) -> str:
        """The index version the last successful ingest published (one small read from Chroma)."""
        return self._records.version() or ""

    def snapshot(self) -> IndexSnapshot:
        """Everything the current version needs to serve, fully built before it is returned.

        Raises:
            RuntimeError: when the version kept moving while the snapshot was being built.
        """
        for _attempt in range(_SNAPSHOT_ATTEMPTS):
            version = self.version()
            records = self._records.all()
            lexical = self._lexical(version, records)
            exact = self._exact(version, records)
            if self.version() == version:
                return IndexSnapshot(version=version, collections=self._collections, records=records, lexical=lexical,
                                     pool=self._pool, name=self.name, heartbeat=self._records.heartbeat, exact=exact)
            log.info("index version moved during snapshot; retrying", extra={"version": version})
        msg = "the index version kept changing while a snapshot was built; is an ingest publishing in a loop?"
        raise RuntimeError(msg)

    def _lexical(self, version: str, records: dict[str, DocumentRecord]) -> LexicalIndex:
        root = lexical_dir(self.settings, self.name)
        try:
            return LexicalIndex.load(root, version)
        except FileNotFoundError:
            pass
        lexical = LexicalIndex.build(current_chunks(self._collections, records), version=version)
        # Cache only what is known to match the published version: not while the version moved, nor
        # while an ingest on a server is part-way (its records and chunks may be mid-change, and a
        # content-derived version can come back later).
        if self.version() == version and not self._ingest_running():
            lexical.save(root)
            LexicalIndex.prune_cache(root, keep=version, grace_s=self.settings.lexical_cache_grace_s)
        log.info("lexical index rebuilt from chroma", extra={"version": version, "chunks": len(lexical.chunk_ids)})
        return lexical

    def _exact(self, version: str, records: dict[str, DocumentRecord]) -> dict[str, ExactVectors]:
        """The held vectors of each visibility collection small enough for exact search (cached by version)."""
        expected: dict[str, list[str]] = {}
        for record in records.values():
            expected.setdefault(normalise_visibility(record.visibility), []).extend(record.chunk_ids)
        folder = vectors_dir(self.settings, self.name) / version
        exact: dict[str, ExactVectors] = {}
        for visibility, ids in expected.items():
            if not ids or len(ids) > self.settings.dense_exact_max_chunks:
                continue
            try:
                vectors = ExactVectors.load(folder, visibility)
                if not set(vectors.ids) <= set(ids):
                    raise FileNotFoundError(folder)
            except FileNotFoundError:
                vectors = ExactVectors.read(self._collections[visibility], ids)
                # Cached under the same conditions as the lexical index (see `_lexical`).
                if self.version() == version and not self._ingest_running():
                    vectors.save(folder, visibility)
            exact[visibility] = vectors
        if exact:
            LexicalIndex.prune_cache(folder.parent, keep=version, grace_s=self.settings.lexical_cache_grace_s)
        return exact

    def _ingest_running(self) -> bool:
        if not self.settings.uses_chroma_server:
            return False  # the embedded store's writer is this process or none (see store.locks)
        try:
            self._client.get_collection(lock_collection_name(self.name), embedding_function=None)
        except Exception:  # not found: no ingest holds the lock
            return False
        return True

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def current_chunks(collections: dict[str, VectorStore], records: dict[str, DocumentRecord]) -> Iterator[StoredChunk]:
    """The stored chunks the records name, each from its document's collection (leftovers are skipped)."""
    expected = {cid: normalise_visibility(r.visibility) for r in records.values() for cid in r.chunk_ids}
    for visibility, store in collections.items():
        yield from (c for c in store.iter_chunks() if expected.get(c.chunk_id) == visibility)


def open_reader(settings: Settings) -> IndexReader:
    """Open the index of the configured embedding model for reading.

    Raises:
        FileNotFoundError: "run `gcot ingest` first" when nothing is indexed there.
    """
    from encoder import model_info

    model_name, dimension = model_info(settings.model_path())
    return IndexReader(settings, model_name=model_name, dimension=dimension)
