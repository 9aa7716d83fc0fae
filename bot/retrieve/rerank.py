"""Rerank retrieved chunks by their best sentence: a chunk holding one sentence that answers the
question beats a chunk that is loosely about it throughout.

A chunk's embedding is the mean of everything in it, so a long PDF chunk whose one relevant sentence
sits among boilerplate ranks below a chunk that mentions the topic in every line. The sentence vectors
stored at ingest (`store.sentences`) give each candidate its best sentence's cosine to the query;
that, min-max normalised over the candidates, is added to the fused score with a weight.

The answer service reranks PDF chunks only (`GCOT_RERANK_PAGED_ONLY`), each into a place a PDF chunk
held: on the Markdown dev split the rerank bought nothing (hit@5 1.000 -> 0.990, recall unchanged) and
it put a summary above the primary source, or the first chunks of other documents into short questions
("Who is in GCOT?" was declined). On the pdf-qa tuning set (350 questions, 16 candidates) weight 0.4
took passage hit@1 0.614 -> 0.657 and hit@5 0.846 -> 0.877 (see evals/RESULTS.md). The hybrid
retriever itself (and so SciFact) is unchanged: this runs in the answer service, on the candidates it
fetched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.types import RetrievedChunk


def rerank_by_best_sentence(
    hits: Sequence[RetrievedChunk],
    sentence_vectors: Sequence[np.ndarray],
    query_vector: np.ndarray,
    *,
    weight: float = 0.4,
    movable: Sequence[bool] | None = None,
) -> list[RetrievedChunk]:
    """`hits` reordered by fused score + `weight` x (normalised best-sentence cosine).

    Args:
        hits: retrieved chunks, best first, with their fused scores.
        sentence_vectors: per hit, in the same order, its sentences' unit vectors as an (n, dim) array.
        query_vector: the query's unit vector.
        weight: the best sentence's share beside the fused score. Defaults to 0.4; 0 keeps the order.
        movable: per hit, whether it may move. The movable hits are reordered among the places they
            hold (and normalised among themselves); the others keep their places. Defaults to all.

    The scores are not changed: they stay the retrieval's, which the refusal model reads.

    Raises:
        ValueError: when `sentence_vectors` (or `movable`) does not give one entry per hit.
    """
    movable = [True] * len(hits) if movable is None else list(movable)
    for name, given in (("sentence-vector arrays", sentence_vectors), ("movable flags", movable)):
        if len(given) != len(hits):
            msg = f"{len(given)} {name} for {len(hits)} hits"
            raise ValueError(msg)
    places = [i for i, may_move in enumerate(movable) if may_move]
    if weight <= 0 or len(places) < 2:
        return list(hits)
    similarity = np.array([_best_cosine(sentence_vectors[i], query_vector) for i in places])
    spread = float(similarity.max() - similarity.min())
    normalised = (similarity - similarity.min()) / spread if spread > 0 else np.zeros_like(similarity)
    combined = np.array([hits[i].score for i in places]) + weight * normalised
    result = list(hits)
    for place, chosen in zip(places, np.argsort(-combined, kind="stable"), strict=True):
        result[place] = hits[places[chosen]]
    return result


def _best_cosine(vectors: np.ndarray, query_vector: np.ndarray) -> float:
    return float(np.max(vectors @ query_vector)) if len(vectors) else 0.0
