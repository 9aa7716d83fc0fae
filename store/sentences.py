"""Sentence vectors, computed once at ingest and read at answer time, so answering embeds only the query.

Layout: one Chroma collection `<base>__sentences` beside the chunk collections, one record per chunk
(id = the chunk id, whatever the chunk's visibility). A record holds no text: its metadata has
`sentences_hash` (a hash of the chunk's sentences as `gcot.sentences` splits them, so a changed chunk
or a changed segmenter never matches), `n`, and `vectors`, the n sentence vectors as int8 with one
scale per vector, base64-encoded (cosine error about 1e-3). Its embedding is the normalised mean of
those vectors (Chroma needs one). Why not one record per sentence: every record is an HNSW node, so
that would build a graph ten times the chunk index's; why not Chroma documents: they are full-text
indexed (measured 8x slower to write than metadata). A reader only ever fetches the ids of chunks
its audience already retrieved, so this collection widens no one's access.

`sync_sentences` is the ingest hook: after the chunk writes it deletes records of chunks no document
names any more and fills in the missing ones (new chunks, or an index built before this existed),
so the collection always matches the published chunks. `SentenceVectors` is the reader.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gcot.settings import Settings
from store.chroma import doc_id_of

if TYPE_CHECKING:
    from store.records import DocumentRecord
    from store.writer import IndexWriter

log = logging.getLogger(__name__)

_PAGE = 5000
"""Records read or written per Chroma call (Chroma accepts at most 5,461 per write)."""
_GROUP = 256
"""Chunks whose sentences are embedded together when filling in."""
_REOPEN_S = 30.0


def sentence_collection_name(base: str) -> str:
    return f"{base}__sentences"


def sentences_hash(sentences: Sequence[str]) -> str:
    """What a record is valid for: exactly these sentence texts, in this order."""
    return hashlib.sha256("\x1f".join(sentences).encode()).hexdigest()[:24]


def split_texts(text: str) -> list[str]:
    """The chunk's sentences as the answer layer sees them (`gcot.sentences.split_sentences`)."""
    from gcot.sentences import split_sentences

    return [sentence.text for sentence in split_sentences(text)]


def encode_vectors(vectors: np.ndarray) -> str:
    """(n, dim) unit vectors -> base64 of int8 values followed by n float32 scales."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.maximum(np.abs(vectors).max(axis=1), 1e-12) / 127.0
    quantised = np.round(vectors / scales[:, None]).astype(np.int8)
    return base64.b64encode(quantised.tobytes() + scales.astype(np.float32).tobytes()).decode("ascii")


def decode_vectors(blob: str, n: int, dimension: int) -> np.ndarray:
    """The inverse of `encode_vectors`, renormalised."""
    raw = base64.b64decode(blob)
    quantised = np.frombuffer(raw[: n * dimension], dtype=np.int8).reshape(n, dimension)
    scales = np.frombuffer(raw[n * dimension : n * dimension + 4 * n], dtype=np.float32)
    vectors = quantised.astype(np.float32) * scales[:, None]
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _record(chunk_id: str, sentences: Sequence[str], vectors: np.ndarray, dimension: int) -> tuple[np.ndarray, dict[str, Any]]:
    if len(sentences):
        mean = vectors.mean(axis=0)
        embedding = mean / max(float(np.linalg.norm(mean)), 1e-12)
    else:  # a chunk with no prose sentence (a table header, code): any unit vector will do
        embedding = np.eye(1, dimension, dtype=np.float32)[0]
    meta = {"chunk_id": chunk_id, "sentences_hash": sentences_hash(sentences), "n": len(sentences),
            "vectors": encode_vectors(vectors) if len(sentences) else ""}
    return embedding.astype(np.float32), meta


class SentenceStore:
    """The sentence-vector collection of one index.

    Args:
        collection: the Chroma collection (`<base>__sentences`).
        dimension: the embedding size.
    """

    def __init__(self, collection: Any, *, dimension: int) -> None:
        self.collection = collection
        self.dimension = dimension

    def ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=_PAGE, offset=offset)
            ids.update(page["ids"])
            if len(page["ids"]) < _PAGE:
                return ids
            offset += _PAGE

    def put(self, chunk_ids: Sequence[str], sentences: Sequence[Sequence[str]], vectors: Sequence[np.ndarray]) -> None:
        """Store each chunk's sentence vectors (`vectors[i]` is (len(sentences[i]), dim))."""
        for start in range(0, len(chunk_ids), _PAGE):
            end = start + _PAGE
            built = [_record(c, s, v, self.dimension) for c, s, v in zip(chunk_ids[start:end], sentences[start:end], vectors[start:end], strict=True)]
            self.collection.upsert(ids=list(chunk_ids[start:end]), embeddings=np.stack([e for e, _ in built]),
                                   metadatas=[m for _, m in built])

    def embed_and_put(self, chunks: Sequence[tuple[str, str]], embed: Callable[[list[str]], np.ndarray]) -> int:
        """Split each (chunk id, text) into sentences, embed them all in one call, store. Returns sentences embedded.

        A sentence that two chunks of one document share (the overlap between neighbouring PDF chunks: a
        quarter of the sentences of the public PDFs in ../shared/datasets/pdf-qa) is embedded once.
        """
        split = [split_texts(text) for _, text in chunks]
        keys = [[(doc_id_of(chunk_id), sentence) for sentence in sentences] for (chunk_id, _), sentences in zip(chunks, split, strict=True)]
        row = {key: i for i, key in enumerate(dict.fromkeys(key for chunk_keys in keys for key in chunk_keys))}
        unique = [sentence for _, sentence in row]
        matrix = embed(unique) if unique else np.zeros((0, self.dimension), dtype=np.float32)
        vectors = [np.asarray(matrix[np.array([row[key] for key in chunk_keys], dtype=np.intp)], dtype=np.float32) for chunk_keys in keys]
        self.put([chunk_id for chunk_id, _ in chunks], split, vectors)
        return len(unique)

    def delete(self, ids: Iterable[str]) -> None:
        ids = sorted(ids)
        for start in range(0, len(ids), _PAGE):
            self.collection.delete(ids=ids[start : start + _PAGE])

    def lookup(self, items: Sequence[tuple[str, Sequence[str]]]) -> dict[str, np.ndarray]:
        """(chunk id, its sentences) -> the stored (n, dim) vectors, for the chunks whose record matches."""
        wanted = {chunk_id: sentences_hash(sentences) for chunk_id, sentences in items}
        if not wanted:
            return {}
        page = self.collection.get(ids=list(wanted), include=["metadatas"])
        found: dict[str, np.ndarray] = {}
        for chunk_id, meta in zip(page["ids"], page["metadatas"], strict=True):
            meta = meta or {}
            if meta.get("sentences_hash") != wanted.get(chunk_id):
                continue  # the chunk or the segmenter changed since ingest: the caller embeds instead
            n = int(meta.get("n", 0))
            found[chunk_id] = (
                decode_vectors(str(meta["vectors"]), n, self.dimension) if n else np.zeros((0, self.dimension), dtype=np.float32)
            )
        return found


def _open(settings: Settings, *, create: bool) -> SentenceStore:
    from encoder import model_info
    from store.chroma import chroma_client, collection_name

    model_name, dimension = model_info(settings.model_path())
    name = sentence_collection_name(collection_name(settings.collection_prefix, model_name, dimension))
    client = chroma_client(settings)
    if create:
        collection = client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": model_name, "dimension": dimension, "kind": "sentence vectors"},
        )
    else:
        collection = client.get_collection(name, embedding_function=None)
    return SentenceStore(collection, dimension=dimension)


def open_sentence_store(settings: Settings) -> SentenceStore:
    """The sentence collection of the index `settings` name, created if missing (the ingest writes to it)."""
    return _open(settings, create=True)


def sync_sentences(
    writer: IndexWriter, records: dict[str, DocumentRecord], *, load_embedder: Callable[[], Any]
) -> dict[str, int]:
    """The ingest hook: make the sentence collection match the chunks `records` name.

    Deletes records of chunks no document names, then embeds the sentences of every named chunk that
    has none (reading its text back from its visibility's collection). Call it with the write lock
    held, before publishing, so a serving process never loads a version whose vectors are missing.

    Args:
        writer: the open index writer (its chunk collections hold the texts).
        records: the document records after this run's writes.
        load_embedder: returns the document embedder; called only when something needs embedding.

    Returns:
        {"chunks": chunks filled in, "sentences": sentences embedded, "removed": records deleted}.
    """
    started = time.perf_counter()
    store = writer.sentences
    expected: dict[str, str] = {cid: record.visibility for record in records.values() for cid in record.chunk_ids}
    held = store.ids()
    stale = held - set(expected)
    if stale:
        store.delete(stale)
    missing = sorted(set(expected) - held)
    sentences = 0
    if missing:
        embedder = load_embedder()
        for start in range(0, len(missing), _GROUP):
            group = missing[start : start + _GROUP]
            by_visibility: dict[str, list[str]] = {}
            for chunk_id in group:
                by_visibility.setdefault(expected[chunk_id], []).append(chunk_id)
            chunks = [(c.chunk_id, c.text) for v, ids in by_visibility.items() for c in writer.collections[v].get(ids)]
            sentences += store.embed_and_put(chunks, embedder.embed_documents)
            writer.progress()
    result = {"chunks": len(missing), "sentences": sentences, "removed": len(stale)}
    if missing or stale:
        log.info("sentence vectors synced", extra={**result, "seconds": round(time.perf_counter() - started, 2)})
    return result


class SentenceVectors:
    """The answer-time reader: stored sentence vectors for retrieved chunks, or nothing (then embed).

    Opens the collection lazily and, while it does not exist (an index ingested before sentence
    vectors were added), tries again at most every 30 s; any Chroma failure reads as "not stored".

    Args:
        settings: where the store lives.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: SentenceStore | None = None
        self._next_try = 0.0

    def lookup(self, items: Sequence[tuple[str, Sequence[str]]]) -> dict[str, np.ndarray]:
        """(chunk id, its sentences as `gcot.sentences` splits them) -> stored (n, dim) unit vectors."""
        if self._store is None and time.monotonic() >= self._next_try:
            try:
                self._store = _open(self.settings, create=False)
            except Exception:  # not created yet: Chroma's NotFoundError types vary by client
                self._next_try = time.monotonic() + _REOPEN_S
        if self._store is None:
            return {}
        try:
            return self._store.lookup(items)
        except Exception as exc:  # a transport hiccup must not fail the answer: the scorer embeds instead
            log.warning("sentence vectors unavailable", extra={"error": type(exc).__name__})
            return {}
