"""Answer or decline: a small logistic-regression classifier over evidence features, shipped as JSON.

The model is trained on the dev split only (`evals/train_refusal.py`, scikit-learn) and stored in
`refusal_model.json` next to this file: feature names, standardisation, coefficients and the
operating point chosen on dev. At run time it is plain numpy: p = sigmoid(w . (x - mean) / scale + b).
`answer.confidence` is p; the service declines when p is below the threshold (the file's, unless
`GCOT_REFUSAL_THRESHOLD` overrides it).

Why these features: a question the documents answer retrieves chunks that both rankings agree on
and that contain its rare terms; its best sentence is close in meaning and covers its words; every
part of a comparison or multi-part question finds a sentence; and none of its words are unknown to
the corpus; and a year, version or release it names ("SFIA 10", "in 2025") is named by what is
quoted, by the very sentences that give an asked-for figure or date where there are such
(`number_coverage`); and the answer gives the kind of thing asked for, a figure for "how much",
a name for "who", that the question did not already state (`type_coverage`); and it is about the
country the question names ("US mobile traffic" is not answered by the UK's Open RAN target), in the
quoted sentences, their titles or headings (`country_coverage`). Near misses ("when did Germany join
GCOT?") fail one of these.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.types import RetrievedChunk

MODEL_FILE = Path(__file__).resolve().parent / "refusal_model.json"
"""The model for sentence vectors encoded alone (`GCOT_SENTENCE_VECTORS=standalone`, the default)."""
IN_CONTEXT_MODEL_FILE = MODEL_FILE.with_name("refusal_model_in_context.json")
"""The model for sentence vectors pooled in their chunk (`GCOT_SENTENCE_VECTORS=in_context`)."""
FORMAT_VERSION = 1
FEATURES = (
    "best_score", "score_margin", "best_dense", "top3_dense", "best_lexical", "answer_coverage", "part_coverage",
    "dense_lexical_agree", "best_negated", "unknown_share", "fused_top", "fused_margin", "bm25_top", "rare_coverage",
    "n_terms", "affirmative_gap", "answer_rare_coverage", "number_coverage", "type_coverage",
    "country_coverage",
)


def model_file(sentence_vectors: str) -> Path:
    """The shipped model for a kind of sentence vector: its features (best-sentence similarity) are
    read off those vectors, so each kind has its own fit and operating point."""
    return IN_CONTEXT_MODEL_FILE if sentence_vectors == "in_context" else MODEL_FILE


@dataclass(frozen=True)
class RefusalModel:
    """A trained classifier: P(answerable | features). Load with `RefusalModel.load()`."""

    version: str
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> RefusalModel:
        """Read a model file; a missing, malformed or outdated file is a clear error, not a silent default."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            msg = f"refusal model {path} is missing (train it with `python -m evals.train_refusal`)"
            raise FileNotFoundError(msg) from None
        if data.get("format") != FORMAT_VERSION or tuple(data.get("features", ())) != FEATURES:
            msg = f"refusal model {path} does not match this code (format {data.get('format')}, features differ); retrain it"
            raise ValueError(msg)
        return cls(
            version=str(data["version"]), features=tuple(data["features"]),
            mean=np.asarray(data["mean"], dtype=float), scale=np.asarray(data["scale"], dtype=float),
            coef=np.asarray(data["coef"], dtype=float), intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )

    def probability(self, features: Mapping[str, float]) -> float:
        """P(the documents answer the question) for one feature dict."""
        x = np.array([float(features.get(name, 0.0)) for name in self.features])
        z = float(((x - self.mean) / self.scale) @ self.coef + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def retrieval_features(scorer, query: str, question: str, hits: Sequence[RetrievedChunk], visibilities: Sequence[str]) -> dict[str, float]:
    """Features of the ranking itself: best fused score and margin, BM25 strength, rare-term coverage, length.

    Args:
        scorer: the `EvidenceScorer` of the serving index version.
        query: what was searched (glossary-expanded).
        question: the question as asked.
        hits: the ranking, best first.
        visibilities: what the audience may read.
    """
    # By fused score, not list order: a rerank (bot/retrieve/rerank.py) may put a lower-fused chunk first.
    by_fused = sorted(hits, key=lambda hit: -hit.score)
    fused = [hit.score for hit in by_fused] + [0.0, 0.0]
    terms = scorer.weighted_terms(question)
    idf_mass = sum(scorer.idf(t) for t in scorer.lexical.query_tokens(query)) or 1.0
    top_id = by_fused[0].chunk_id if hits else ""
    bm25 = scorer.lexical.scores_for(query, [top_id], visibilities=visibilities).get(top_id, 0.0) if hits else 0.0
    rare = sorted(terms, key=lambda t: -terms[t])[:2]
    top_text = " ".join(f"{h.metadata.get('title', '')} {h.metadata.get('heading', '')} {h.text}" for h in hits[:3])
    rare_coverage = scorer.coverage({t: terms[t] for t in rare}, top_text) if rare else 0.0
    return {
        "fused_top": fused[0],
        "fused_margin": fused[0] - fused[1],
        "bm25_top": float(bm25) / idf_mass,
        "rare_coverage": rare_coverage,
        "n_terms": math.log1p(len(terms)),
    }
