"""Exact dense search (`store.dense`): the served top k is the true top k, per visibility, from a cache
keyed by index version; `GCOT_DENSE_EXACT_MAX_CHUNKS=0` falls back to HNSW."""

from __future__ import annotations

import numpy as np
import pytest

from gcot.settings import Settings
from store import open_reader
from store.dense import ExactVectors, vectors_dir

QUESTIONS = (
    "Which countries are members of the Global Coalition on Telecommunications?",
    "When did the UK Telecommunications (Security) Act receive Royal Assent?",
    "open RAN principles",
    "internal steering briefing",
    "partners workstream",
)


def _brute_force(snapshot, vector: np.ndarray, visibilities: list[str], k: int) -> list[str]:
    """The true top k over every stored vector of the allowed collections, computed here independently."""
    ids, rows = [], []
    for visibility in visibilities:
        wanted = [cid for r in snapshot.records.values() if r.visibility == visibility for cid in r.chunk_ids]
        found, vectors = snapshot.collections[visibility].vectors(wanted)
        ids.extend(found)
        rows.extend(vectors)
    scores = np.asarray(rows) @ vector
    return [ids[i] for i in np.argsort(-scores, kind="stable")[:k]]


@pytest.mark.parametrize("audience", ["industry", "academic", "staff"])
def test_exact_search_returns_the_true_top_k_of_the_allowed_collections(corpus_index: Settings, embedder, audience: str) -> None:
    snapshot = open_reader(corpus_index).snapshot()
    allowed = corpus_index.visibilities_for(audience)
    assert set(snapshot.exact) == {r.visibility for r in snapshot.records.values()}

    for question in QUESTIONS:
        vector = embedder.embed_query(question)
        hits = snapshot.query(vector, k=10, visibilities=allowed)

        assert [chunk.chunk_id for chunk, _ in hits] == _brute_force(snapshot, vector, allowed, 10)
        assert {chunk.metadata["visibility"] for chunk, _ in hits} <= set(allowed)
        scores = [score for _, score in hits]
        assert scores == sorted(scores, reverse=True)


def test_industry_never_gets_an_internal_chunk_even_for_its_own_vector(corpus_index: Settings) -> None:
    snapshot = open_reader(corpus_index).snapshot()
    internal = [cid for r in snapshot.records.values() if r.visibility == "internal" for cid in r.chunk_ids]
    assert internal, "the restricted fixtures should index internal chunks"
    _ids, vectors = snapshot.collections["internal"].vectors(internal[:3])

    for vector in vectors:
        staff = snapshot.query(vector, k=5, visibilities=None)
        industry = snapshot.query(vector, k=5, visibilities=corpus_index.visibilities_for("industry"))

        assert staff[0][0].chunk_id in internal  # the chunk itself, found exactly
        assert all(chunk.metadata["visibility"] == "public" for chunk, _ in industry)


def test_the_vectors_are_cached_by_version_and_a_restart_reads_the_cache(corpus_index: Settings, monkeypatch) -> None:
    reader = open_reader(corpus_index)
    first = reader.snapshot()
    folder = vectors_dir(corpus_index, first.name) / first.version
    assert (folder / "public.npy").is_file()

    def no_chroma_reads(*_args, **_kwargs):
        raise AssertionError("the cached version should be loaded, not read from Chroma")

    monkeypatch.setattr(ExactVectors, "read", no_chroma_reads)
    again = open_reader(corpus_index).snapshot()

    assert again.exact["public"].ids == first.exact["public"].ids
    assert np.array_equal(again.exact["public"].matrix, first.exact["public"].matrix)


def test_a_cache_naming_chunks_outside_the_version_is_ignored(corpus_index: Settings, embedder) -> None:
    snapshot = open_reader(corpus_index).snapshot()
    folder = vectors_dir(corpus_index, snapshot.name) / snapshot.version
    real = snapshot.exact["partners"]
    # A forged cache that would put a foreign chunk into the partners collection's search.
    forged = ExactVectors([*real.ids, "not-in-this-version:000000000000:0000"], np.vstack([real.matrix, real.matrix[:1]]))
    forged.save(folder, "partners")

    reopened = open_reader(corpus_index).snapshot()

    assert "not-in-this-version:000000000000:0000" not in reopened.exact["partners"].ids
    assert sorted(reopened.exact["partners"].ids) == sorted(real.ids)


def test_zero_turns_exact_search_off_and_hnsw_answers(corpus_index: Settings, embedder) -> None:
    exact = open_reader(corpus_index).snapshot()
    hnsw = open_reader(corpus_index.model_copy(update={"dense_exact_max_chunks": 0})).snapshot()
    assert hnsw.exact == {}

    vector = embedder.embed_query(QUESTIONS[0])
    allowed = corpus_index.visibilities_for("industry")
    from_hnsw = [c.chunk_id for c, _ in hnsw.query(vector, k=5, visibilities=allowed)]
    from_exact = [c.chunk_id for c, _ in exact.query(vector, k=5, visibilities=allowed)]
    # On a few hundred chunks HNSW is exact too: the two paths agree.
    assert from_hnsw == from_exact


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCOT_DENSE_EXACT_MAX_CHUNKS", "1234")

    assert Settings(_env_file=None).dense_exact_max_chunks == 1234
