"""Hybrid retrieval: dense (Chroma) and lexical (BM25) results fused into one ranking.

Both searches apply the audience's visibilities inside the query (only its collections, a BM25 mask), so a
chunk the audience may not read is never a candidate. Fusion is either reciprocal-rank fusion or a
convex combination of min-max-normalised scores over the union of both candidate lists, where every
candidate gets both of its scores (BM25 from the full score vector, cosine from its stored
embedding). Default: convex, alpha 0.5, the best of a grid over convex alpha 0.1-0.9 and RRF k 10-100
on SciFact's train queries (nDCG@10 0.7356; test 0.7358 vs BM25 0.673 and dense 0.667; evals/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bot.retrieve.live import LiveIndex
from bot.types import RetrievedChunk
from encoder import Embedder, load_embedder
from gcot.settings import Settings

if TYPE_CHECKING:
    from store import IndexSnapshot as Snapshot

Mode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class FusionConfig:
    """How dense and lexical rankings are combined.

    Attributes:
        method: "convex" (weighted sum of normalised scores) or "rrf". Defaults to "convex".
        alpha: weight of the dense score in convex fusion. Defaults to 0.5.
        rrf_k: the constant in 1 / (rrf_k + rank). Defaults to 60.
        candidates: results taken from each list before fusing. Defaults to 100.
    """

    method: Literal["convex", "rrf"] = "convex"
    alpha: float = 0.5
    rrf_k: int = 60
    candidates: int = 100


class HybridRetriever:
    """Query -> ranked chunks of one index snapshot, filtered by visibility.

    Retrieval is a function of a snapshot: `search(..., snapshot=view.snapshot)` answers from that
    version alone; without `snapshot` it uses the live index's current one. The live index is
    replaced in the background when a new version is published (`bot/retrieve/live.py`).

    Args:
        live: the live index (its current snapshot is searched unless one is passed).
        embedder: the query embedding model.
        fusion: the fusion method. Defaults to `FusionConfig()`.

    Example:
        >>> retriever = HybridRetriever.from_settings(Settings())
        >>> [hit.doc_id for hit in retriever.search("When did GCOT launch?", k=3, visibilities=["public"])]
    """

    def __init__(self, live: LiveIndex, embedder: Embedder, *, fusion: FusionConfig | None = None) -> None:
        self.live = live
        self.embedder = embedder
        self.fusion = fusion or FusionConfig()

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None, fusion: FusionConfig | None = None) -> HybridRetriever:
        """Open the index `settings` names (not yet polling: call `live.start()`); FileNotFoundError if none."""
        live = LiveIndex.open(settings)
        embedder = embedder or load_embedder(settings)  # ONNX for queries where it can be used (no torch)
        return cls(live, embedder, fusion=fusion)

    @property
    def snapshot(self) -> Snapshot:
        """The live index's current snapshot."""
        return self.live.current().snapshot

    @property
    def lexical(self) -> Any:
        """The current snapshot's lexical index."""
        return self.snapshot.lexical

    @property
    def store(self) -> Snapshot:
        """Deprecated alias of `snapshot` (the current one), for callers written before hot reload."""
        return self.snapshot

    def search(
        self,
        query: str,
        *,
        k: int = 8,
        visibilities: Sequence[str] | None = None,
        mode: Mode = "hybrid",
        fusion: FusionConfig | None = None,
        snapshot: Snapshot | None = None,
    ) -> list[RetrievedChunk]:
        """The k best chunks for `query` among those the visibilities allow (None: no filter).

        Args:
            snapshot: the index version to search. Defaults to the live index's current one.
        """
        snap = snapshot if snapshot is not None else self.snapshot
        fusion = fusion or self.fusion
        n = max(k, fusion.candidates)
        dense: dict[str, float] = {}
        query_vector = None
        if mode in ("hybrid", "dense"):
            query_vector = self.embedder.embed_query(query)
            dense = dict(snap.query_ids(query_vector, k=n, visibilities=visibilities))
        if mode == "dense":
            top = sorted(dense.items(), key=lambda item: -item[1])[:k]
        elif mode == "bm25":
            top = snap.lexical.search(query, k=n, visibilities=visibilities)[:k]
        else:
            lexical_ranked = snap.lexical.search(query, k=n, visibilities=visibilities)
            if fusion.method == "rrf":
                fused = _rrf([list(dense)] + [[cid for cid, _ in lexical_ranked]], fusion.rrf_k)
            else:
                fused = _convex(snap, query, query_vector, dense, lexical_ranked, visibilities, fusion.alpha)
            top = sorted(fused.items(), key=lambda item: -item[1])[:k]
        # Texts are read for the k kept only. A chunk the snapshot names but the store no longer holds
        # (deleted by an ingest that has not published yet) is dropped here.
        chunks = {c.chunk_id: c for c in snap.get([cid for cid, _ in top])}
        return [as_retrieved(chunks[cid], score) for cid, score in top if cid in chunks]


def _convex(
    snap: Snapshot,
    query: str,
    query_vector: np.ndarray,
    dense: dict[str, float],
    lexical_ranked: list[tuple[str, float]],
    visibilities: Sequence[str] | None,
    alpha: float,
) -> dict[str, float]:
    lexical_scores = dict(lexical_ranked)
    union = list(dict.fromkeys([*dense, *lexical_scores]))
    if not union:
        return {}
    # Every candidate gets both scores: BM25 is exact for all, cosine comes from stored embeddings.
    missing_dense = [cid for cid in union if cid not in dense]
    cosine = dict(dense)
    if missing_dense:
        cosine.update(snap.similarities(query_vector, missing_dense))
    missing_lexical = [cid for cid in union if cid not in lexical_scores]
    if missing_lexical:
        lexical_scores.update(snap.lexical.scores_for(query, missing_lexical, visibilities=visibilities))
    d = _minmax(np.array([cosine.get(cid, 0.0) for cid in union]))
    b = _minmax(np.array([lexical_scores.get(cid, 0.0) for cid in union]))
    return dict(zip(union, (alpha * d + (1 - alpha) * b).tolist(), strict=True))


def _minmax(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _rrf(rankings: list[list[str]], k: int) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, 1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return fused


def as_retrieved(chunk: Any, score: float) -> RetrievedChunk:
    """A stored chunk as a search result with `score`."""
    return RetrievedChunk(
        chunk_id=chunk.chunk_id,
        doc_id=str(chunk.metadata.get("doc_id", "")),
        visibility=str(chunk.metadata.get("visibility", "public")),
        score=float(score),
        text=chunk.text,
        metadata=chunk.metadata,
    )
