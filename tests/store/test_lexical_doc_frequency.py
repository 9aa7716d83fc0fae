"""LexicalIndex.document_frequency: in how many chunks a word occurs, as the index tokenises it."""

from __future__ import annotations

from store.chroma import StoredChunk
from store.lexical import LexicalIndex


def _index(*texts: str) -> LexicalIndex:
    chunks = [StoredChunk(f"doc:{i}", text, {"doc_id": "doc", "visibility": "public"}) for i, text in enumerate(texts)]
    return LexicalIndex.build(chunks, version="v1")


def test_counts_chunks_not_occurrences_and_stems_the_word():
    index = _index("NOFO 2 made $420m available. NOFO 2 drew 227 applications.", "NOFO 1 offered $140.5m.", "See nofo2 notes.")
    assert index.document_frequency("NOFO") == 2  # twice in the first chunk: still one chunk
    assert index.document_frequency("nofo2") == 1
    assert index.document_frequency("applications") == index.document_frequency("application") == 1


def test_a_word_the_index_lacks_or_drops_occurs_nowhere():
    index = _index("NOFO 2 made $420m available.")
    assert index.document_frequency("release21") == 0
    assert index.document_frequency("the") == 0  # a stop word is never indexed
    assert _index().document_frequency("nofo") == 0  # an empty index
