"""Sentence vectors are computed at ingest, follow the chunks, and are what the answer path reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from testkit import make_settings
from ingest.pipeline import ingest
from store import open_reader
from store.sentences import SentenceVectors, decode_vectors, encode_vectors, split_texts


def test_every_chunk_has_its_sentence_vectors_after_ingest(corpus_index) -> None:
    snapshot = open_reader(corpus_index).snapshot()
    chunks = list(snapshot.iter_chunks())
    reader = SentenceVectors(corpus_index)

    found = reader.lookup([(c.chunk_id, split_texts(c.text)) for c in chunks])

    assert set(found) == {c.chunk_id for c in chunks}
    sample = next(c for c in chunks if len(split_texts(c.text)) >= 3)
    assert found[sample.chunk_id].shape == (len(split_texts(sample.text)), 384)
    # A chunk whose sentences differ from what was stored (edited text, new segmenter) is not matched.
    assert reader.lookup([(sample.chunk_id, split_texts(sample.text)[1:])]) == {}


_TOPICS = "---\ndoc_id: topics\nvisibility: public\n---\n# Port operations\n\n## Equipment\n\n" + (
    "Lighthouse relays carry *radio signals* along the coast.\nHarbour cranes lift\nshipping containers "
    "onto the quay. The [canteen](https://example.org) serves soup at noon.\n"
)
_ASKS = ["What do the lighthouse relays carry?", "What do harbour cranes lift?", "What does the canteen serve at noon?"]


def _stored_sentences(settings) -> tuple[list[str], np.ndarray]:
    (chunk,) = open_reader(settings).snapshot().iter_chunks()
    sentences = split_texts(chunk.text)
    return sentences, SentenceVectors(settings).lookup([(chunk.chunk_id, sentences)])[chunk.chunk_id]


def test_sentence_vectors_are_pooled_from_their_chunks_own_forward_pass(tmp_path: Path, embedder) -> None:
    from gcot.sentences import locate_sentences
    from ingest.chunking import Chunker, TokenCounter
    from ingest.loaders import load_document

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "topics.md").write_text(_TOPICS)
    settings = make_settings(tmp_path / "data", sentence_vectors="in_context")

    result = ingest([tmp_path / "corpus"], settings=settings, embedder=embedder)

    assert (result["chunks_embedded"], result["sentence_chunks_in_context"], result["sentences_embedded_alone"]) == (1, 1, 0)
    sentences, stored = _stored_sentences(settings)
    assert len(sentences) == 3
    # The same vectors the chunk's own pass gives: the embed text carries a title prefix, so a span
    # placed without that offset would pool the wrong tokens.
    document = load_document(tmp_path / "corpus" / "topics.md", tmp_path / "corpus")
    (chunk,) = Chunker(TokenCounter(settings.model_path()), max_tokens=200, overlap_tokens=0).split(document, content_hash="0" * 64)
    assert chunk.embed_text != chunk.text
    body_at = len(chunk.embed_text) - len(chunk.text)
    spans = [(body_at + start, body_at + end) for start, end in locate_sentences(chunk.text, sentences)]
    _, (expected,) = embedder.embed_documents_and_spans([chunk.embed_text], [spans])
    assert (stored * expected).sum(axis=1).min() > 0.995
    # And each is its own sentence's: every question is closest to the sentence that answers it.
    questions = np.stack([embedder.embed_query(ask) for ask in _ASKS])
    assert list((questions @ stored.T).argmax(axis=1)) == [0, 1, 2]


def test_switching_the_kind_of_sentence_vector_re_embeds_the_index(tmp_path: Path, embedder) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "topics.md").write_text(_TOPICS)
    first = ingest([tmp_path / "corpus"], settings=make_settings(tmp_path / "data"), embedder=embedder)
    assert (first["sentence_chunks_in_context"], first["sentences_embedded_alone"]) == (0, 3)  # standalone by default
    _, alone = _stored_sentences(make_settings(tmp_path / "data"))
    settings = make_settings(tmp_path / "data", sentence_vectors="in_context")

    result = ingest([tmp_path / "corpus"], settings=settings, embedder=embedder)

    # Never a mix: the unchanged document is re-embedded under the other setting.
    assert (result["chunks_embedded"], result["sentence_chunks_in_context"], result["sentences_embedded_alone"]) == (1, 1, 0)
    sentences, pooled = _stored_sentences(settings)
    assert (alone * embedder.embed_documents(sentences)).sum(axis=1).min() > 0.995
    assert (pooled * alone).sum(axis=1).max() < 0.99  # the stored vectors were replaced, not kept


def test_a_chunk_whose_sentences_the_model_window_cuts_off_is_embedded_sentence_by_sentence(tmp_path: Path) -> None:
    from encoder import Embedder

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "topics.md").write_text(_TOPICS)
    settings = make_settings(tmp_path / "data", sentence_vectors="in_context")
    narrow = Embedder(settings.model_path())
    narrow.model.max_seq_length = 16  # the title prefix and the first sentence fill the window

    result = ingest([tmp_path / "corpus"], settings=settings, embedder=narrow)

    assert (result["sentence_chunks_in_context"], result["sentences_embedded_alone"]) == (0, 3)
    sentences, stored = _stored_sentences(settings)
    assert (stored * narrow.embed_documents(sentences)).sum(axis=1).min() > 0.995


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
