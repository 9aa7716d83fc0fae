"""Reranking by each chunk's best sentence (bot/retrieve/rerank.py).

The ordering rule on small vectors, then the wiring on the real corpus index: the sentence vectors
stored at ingest are read back for every retrieved chunk, and the service's ranking is the rerank of
the fused one.
"""

from __future__ import annotations

import numpy as np
import pytest
from answer_helpers import build_service

from bot.retrieve.rerank import rerank_by_best_sentence
from bot.types import RetrievedChunk


def _hit(chunk_id: str, score: float) -> RetrievedChunk:
    return RetrievedChunk(chunk_id=chunk_id, doc_id=chunk_id, visibility="public", score=score, text=chunk_id, metadata={})


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=float)
    return vector / np.linalg.norm(vector)


QUERY = _unit(1.0, 0.0, 0.0)
# "diffuse" is loosely about the query in every sentence; "pointed" has one sentence that answers it.
DIFFUSE = np.stack([_unit(0.6, 0.8, 0.0), _unit(0.6, 0.0, 0.8)])
POINTED = np.stack([_unit(0.0, 1.0, 0.0), _unit(0.99, 0.1, 0.0)])


def test_a_chunk_with_one_answering_sentence_overtakes_a_diffuse_one():
    hits = [_hit("diffuse", 0.90), _hit("pointed", 0.80), _hit("other", 0.10)]
    vectors = [DIFFUSE, POINTED, np.stack([_unit(0.0, 0.0, 1.0)])]

    ranked = rerank_by_best_sentence(hits, vectors, QUERY, weight=0.4)

    assert [hit.chunk_id for hit in ranked] == ["pointed", "diffuse", "other"]
    assert [hit.score for hit in ranked] == [0.80, 0.90, 0.10]  # scores stay the retrieval's


def test_weight_zero_and_a_large_fused_lead_keep_the_order():
    hits = [_hit("diffuse", 0.90), _hit("pointed", 0.20)]
    vectors = [DIFFUSE, POINTED]

    assert [h.chunk_id for h in rerank_by_best_sentence(hits, vectors, QUERY, weight=0.0)] == ["diffuse", "pointed"]
    assert [h.chunk_id for h in rerank_by_best_sentence(hits, vectors, QUERY, weight=0.4)] == ["diffuse", "pointed"]


def test_one_vector_array_per_hit_is_required():
    with pytest.raises(ValueError, match="1 sentence-vector arrays for 2 hits"):
        rerank_by_best_sentence([_hit("a", 0.5), _hit("b", 0.4)], [DIFFUSE], QUERY)


def test_only_movable_hits_move_and_only_into_places_movable_hits_held():
    hits = [_hit("diffuse", 0.90), _hit("fixed", 0.85), _hit("pointed", 0.80)]
    vectors = [DIFFUSE, np.stack([_unit(1.0, 0.0, 0.0)]), POINTED]

    ranked = rerank_by_best_sentence(hits, vectors, QUERY, weight=0.4, movable=[True, False, True])

    assert [hit.chunk_id for hit in ranked] == ["pointed", "fixed", "diffuse"]
    with pytest.raises(ValueError, match="2 movable flags for 3 hits"):
        rerank_by_best_sentence(hits, vectors, QUERY, movable=[True, False])


def _fused_and_served(service, question: str):
    view = service.retriever.live.current()
    query = view.glossary.expand(question)
    # The service fetches 2k candidates when passages are on, then keeps k (Markdown chunks are not widened).
    fused = service.retriever.search(query, k=16, visibilities=service.settings.visibilities_for("staff"), snapshot=view.snapshot)
    return view, query, fused, service.retrieve(question, audience="staff", k=8)


QUESTION = "What does the Telecommunications Security Act require of providers?"


def test_markdown_chunks_keep_the_fused_order_by_default(corpus_index, query_embedder):
    assert corpus_index.rerank_sentence_weight > 0 and corpus_index.rerank_paged_only
    _, _, fused, served = _fused_and_served(build_service(corpus_index, query_embedder), QUESTION)

    assert [h.chunk_id for h in served] == [h.chunk_id for h in fused[:8]]


def test_service_ranking_is_the_rerank_of_the_fused_one(corpus_index, query_embedder):
    settings = corpus_index.model_copy(update={"rerank_paged_only": False})
    service = build_service(settings, query_embedder)
    view, query, fused, served = _fused_and_served(service, QUESTION)

    vectors = view.extras["evidence"].stored_sentence_vectors(fused)

    assert vectors is not None, "ingest stores sentence vectors for every chunk"
    assert all(v.ndim == 2 and v.shape[1] == 384 and len(v) >= 1 for v in vectors)
    expected = rerank_by_best_sentence(fused, vectors, service.retriever.embedder.embed_query(query), weight=settings.rerank_sentence_weight)
    assert [h.chunk_id for h in served] == [h.chunk_id for h in expected[:8]]
    assert [h.chunk_id for h in served] != [h.chunk_id for h in fused[:8]], "the rerank changes this question's order"
