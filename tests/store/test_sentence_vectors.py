"""Sentence vectors are computed at ingest, follow the chunks, and are what the answer path reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from testkit import make_settings
from ingest.pipeline import ingest
from store import open_reader
from store.sentences import SentenceVectors, decode_vectors, encode_vectors, split_texts


def test_every_chunk_has_its_sentence_vectors_after_ingest(corpus_index, query_embedder) -> None:
    snapshot = open_reader(corpus_index).snapshot()
    chunks = list(snapshot.iter_chunks())
    reader = SentenceVectors(corpus_index)

    found = reader.lookup([(c.chunk_id, split_texts(c.text)) for c in chunks])

    assert set(found) == {c.chunk_id for c in chunks}
    sample = next(c for c in chunks if len(split_texts(c.text)) >= 3)
    expected = query_embedder.embed_documents(split_texts(sample.text))  # the model the corpus index embeds sentences with
    similarity = found[sample.chunk_id] @ expected.T
    # Each stored vector is its own sentence's embedding: int8 storage and the int8 model's per-batch
    # activation scales (ingest batches other sentences with it) keep the cosine near, not at, 1.
    assert list(similarity.argmax(axis=1)) == list(range(len(expected)))
    assert similarity.diagonal().min() > 0.985
    # A chunk whose sentences differ from what was stored (edited text, new segmenter) is not matched.
    assert reader.lookup([(sample.chunk_id, split_texts(sample.text)[1:])]) == {}


def test_vectors_round_trip_through_the_int8_encoding() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    decoded = decode_vectors(encode_vectors(vectors), 5, 384)

    assert (decoded * vectors).sum(axis=1).min() > 0.999


def test_removed_documents_lose_their_sentence_vectors(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ndoc_id: alpha\nvisibility: public\n---\n# A\n\nLighthouse relays carry signals. They run on solar power.\n")
    (corpus / "b.md").write_text("---\ndoc_id: beta\nvisibility: internal\n---\n# B\n\nHarbour cranes lift containers. Each crane has a licence.\n")
    settings = make_settings(tmp_path / "data")
    ingest([corpus], settings=settings, embedder=embedder)
    chunks = {c.chunk_id: c for c in open_reader(settings).snapshot().iter_chunks()}
    items = [(cid, split_texts(c.text)) for cid, c in chunks.items()]
    assert len(SentenceVectors(settings).lookup(items)) == 2

    (corpus / "b.md").unlink()
    ingest([corpus], settings=settings, embedder=embedder)

    left = SentenceVectors(settings).lookup(items)
    assert [chunks[cid].metadata["doc_id"] for cid in left] == ["alpha"]


def test_a_sentence_two_chunks_of_one_document_share_is_embedded_once(tmp_path: Path, embedder) -> None:
    from store.chroma import chroma_client
    from store.sentences import SentenceStore

    settings = make_settings(tmp_path / "data")
    collection = chroma_client(settings).get_or_create_collection("sentences", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    store = SentenceStore(collection, dimension=embedder.dimension)
    shared = "Relays must be inspected every quarter."
    chunks = [
        ("alpha:0123456789ab:0000", f"Lighthouse relays carry signals. {shared}"),
        ("alpha:0123456789ab:0001", f"{shared} Each inspection is logged."),  # the overlap with chunk 0
        ("beta:0123456789ab:0000", f"{shared} Harbour cranes are inspected too."),  # another document
    ]
    embedded: list[str] = []

    def embed(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return embedder.embed_documents(texts)

    count = store.embed_and_put(chunks, embed)

    assert embedded.count(shared) == 2  # once per document, not once per chunk
    assert count == len(embedded) == 5
    stored = store.lookup([(chunk_id, split_texts(text)) for chunk_id, text in chunks])
    for chunk_id, text in chunks:
        expected = embedder.embed_documents(split_texts(text))
        assert stored[chunk_id].shape == expected.shape
        assert (stored[chunk_id] * expected).sum(axis=1).min() > 0.995, chunk_id  # each chunk's own sentences, in order
