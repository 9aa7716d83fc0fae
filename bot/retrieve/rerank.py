"""Rerank retrieved chunks by their best sentence: a chunk holding one sentence that answers the
question beats a chunk that is loosely about it throughout.

A chunk's embedding is the mean of everything in it, so a long PDF chunk whose one relevant sentence
sits among boilerplate ranks below a chunk that mentions the topic in every line. The sentence vectors
stored at ingest (`store.sentences`) give each candidate its best sentence's cosine to the query;
that, min-max normalised over the candidates, is added to the fused score with a weight.

The answer service reranks only the chunks it reads anyway (the fused top k): a chunk the fused ranking
put below them stays below. Letting the rerank promote from the whole candidate list pulled in the first
chunks of other documents for short questions ("Who is in GCOT?" lost the chunk naming the partners
and was declined) and a dated sentence from another Act for "When was the TSA passed ...?". On the
pdf-qa tuning set (350 questions) weight 0.4 within the top 8 took passage hit@1 0.614 -> 0.657 and hit@5
0.846 -> 0.877 (see evals/RESULTS.md). The hybrid retriever itself (and so SciFact) is unchanged: this runs in the
answer service, on the candidates it fetched.
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
) -> list[RetrievedChunk]:
    """`hits` reordered by fused score + `weight` x (normalised best-sentence cosine).

    Args:
        hits: retrieved chunks, best first, with their fused scores.
        sentence_vectors: per hit, in the same order, its sentences' unit vectors as an (n, dim) array.
        query_vector: the query's unit vector.
        weight: the best sentence's share beside the fused score. Defaults to 0.4; 0 keeps the order.

    The scores are not changed: they stay the retrieval's, which the refusal model reads.

    Raises:
        ValueError: when `sentence_vectors` does not give one array per hit.
    """
    if len(sentence_vectors) != len(hits):
        msg = f"{len(sentence_vectors)} sentence-vector arrays for {len(hits)} hits"
        raise ValueError(msg)
    if weight <= 0 or len(hits) < 2:
        return list(hits)
    similarity = np.array([float(np.max(vectors @ query_vector)) if len(vectors) else 0.0 for vectors in sentence_vectors])
    spread = float(similarity.max() - similarity.min())
    normalised = (similarity - similarity.min()) / spread if spread > 0 else np.zeros_like(similarity)
    combined = np.array([hit.score for hit in hits]) + weight * normalised
    order = np.argsort(-combined, kind="stable")
    return [hits[i] for i in order]
