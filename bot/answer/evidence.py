"""Sentences as evidence: split retrieved chunks into sentences and score each against the question.

The extractive generator quotes the best-scoring sentences, the LLM path checks its own sentences
against the sources with the same measures, and the refusal decision reads the best score. One
scorer serves all three so "supported" means the same thing everywhere.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.types import RetrievedChunk
from encoder import Embedder
from store.lexical import LexicalIndex

_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_CITATION_MARK = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


@dataclass(frozen=True)
class Sentence:
    text: str
    hit_rank: int
    position: int
    list_item: bool = False


class _Segmenter:
    """pysbd is slow to construct; build it once per process."""

    _instance = None

    @classmethod
    def get(cls):
        if cls._instance is None:
            import pysbd

            cls._instance = pysbd.Segmenter(language="en", clean=False)
        return cls._instance


def plain_lines(text: str) -> list[tuple[str, bool]]:
    """Markdown chunk -> (plain line, is a list item or table row): headings dropped, marks removed."""
    lines: list[tuple[str, bool]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or _TABLE_SEPARATOR.match(line):
            continue
        item = line.startswith("|") or bool(_LIST_MARK.match(line))
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|") if cell.strip()]
            line = " — ".join(cells)
        line = _MD_LINK.sub(r"\1", _EMPHASIS.sub("", _LIST_MARK.sub("", line)))
        if line.startswith(">"):
            line = line.lstrip("> ")
        lines.append((line, item))
    return lines


def split_sentences(text: str) -> list[tuple[str, bool]]:
    """(sentence, from a list item) for a Markdown chunk; a list item or table row is at least one sentence."""
    segmenter = _Segmenter.get()
    sentences: list[tuple[str, bool]] = []
    for line, item in plain_lines(text):
        sentences.extend((piece.strip(), item) for piece in segmenter.segment(line) if len(piece.strip()) > 3)
    return sentences


def strip_citations(text: str) -> str:
    return _CITATION_MARK.sub("", text).strip()


# Chat filler that says nothing about the subject; never counts as an unknown term.
_CHAT_WORDS = (
    "pls plz please thx thanks ta cheers hey hi hello whats what's theyd im i'm u ur r w govt gov recs rec quick "
    "question q info bot assistant ok okay folks team btw tbh idk rn asap lol anyone someone tell know need "
    "wondering actually roughly basically anyway guys thing things stuff"
).split()


class EvidenceScorer:
    """Scores text against a question by idf-weighted term coverage and embedding similarity.

    Args:
        lexical: the BM25 index, for its tokenizer and document frequencies.
        embedder: the embedding model, for sentence similarity.
        dense_weight: share of the embedding similarity in a sentence's score. Defaults to 0.5.
    """

    def __init__(self, lexical: LexicalIndex, embedder: Embedder, *, dense_weight: float = 0.5) -> None:
        self.lexical = lexical
        self.embedder = embedder
        self.dense_weight = dense_weight
        indptr = np.asarray(lexical.bm25.scores["indptr"]) if lexical.chunk_ids else np.zeros(1)
        self._df = np.diff(indptr)
        self._n = max(len(lexical.chunk_ids), 1)
        self._chat_words = set(lexical.raw_tokens(" ".join(_CHAT_WORDS))) | set(_CHAT_WORDS)
        self._vocab_buckets: dict[tuple[str, ...], dict[tuple[str, int], list[str]]] = {}

    def unknown_share(self, question: str, visibilities: Sequence[str] | None) -> float:
        """Share of the question's weight in terms that no readable document contains (typos excepted).

        "What is the amber heron protocol?" asks about something the corpus does not hold, however
        close "protocol" is to some document; this catches that.
        """
        vocabulary = self.lexical.vocabulary(visibilities)
        key = tuple(sorted(visibilities or ()))
        if key not in self._vocab_buckets:
            # Typos keep their first letter and roughly their length: compare within such buckets only.
            buckets: dict[tuple[str, int], list[str]] = {}
            for word in sorted(vocabulary):
                if word:
                    buckets.setdefault((word[0], len(word)), []).append(word)
            self._vocab_buckets[key] = buckets
        buckets = self._vocab_buckets[key]
        tokens = [t for t in dict.fromkeys(self.lexical.raw_tokens(question)) if len(t) > 2 and t not in self._chat_words]
        if not tokens:
            return 0.0
        ceiling = math.log(1.0 + (self._n + 0.5) / 0.5)
        weights, unknown = 0.0, 0.0
        for token in tokens:
            if token in vocabulary:
                weights += self.idf(token)
            elif difflib.get_close_matches(
                token, [w for n in range(len(token) - 2, len(token) + 3) for w in buckets.get((token[0], n), ())], n=1, cutoff=0.8
            ):
                weights += ceiling / 2  # a likely typo of a known word: neither known nor unknown evidence
            else:
                weights += ceiling
                unknown += ceiling
        return unknown / weights if weights else 0.0

    def idf(self, token: str) -> float:
        index = self.lexical.bm25.vocab_dict.get(token) if self.lexical.chunk_ids else None
        df = float(self._df[index]) if index is not None and index < len(self._df) else 0.0
        return math.log(1.0 + (self._n - df + 0.5) / (df + 0.5))

    def weighted_terms(self, question: str, context: str = "", *, context_weight: float = 0.4) -> dict[str, float]:
        """Query terms with idf weights; terms only in the earlier context count for less."""
        weights = {token: self.idf(token) for token in self.lexical.query_tokens(question)}
        for token in self.lexical.query_tokens(context):
            weights.setdefault(token, context_weight * self.idf(token))
        return weights

    def coverage(self, terms: dict[str, float], text: str) -> float:
        """Share of the query's idf mass that `text` contains."""
        total = sum(terms.values())
        if not total:
            return 0.0
        present = set(self.lexical.query_tokens(text))
        return sum(weight for token, weight in terms.items() if token in present) / total

    def score_sentences(
        self,
        question: str,
        sentences: Sequence[str],
        *,
        context: str = "",
        query_vector: np.ndarray | None = None,
        max_embedded: int = 12,
    ) -> np.ndarray:
        """Score in [0, 1] per sentence: (1 - w) * term coverage + w * cosine similarity.

        Only the `max_embedded` sentences with the best term coverage are embedded (the rest keep
        their coverage alone): embedding every sentence of every chunk would dominate latency.
        """
        if not sentences:
            return np.zeros(0)
        terms = self.weighted_terms(question, context)
        lexical = np.array([self.coverage(terms, sentence) for sentence in sentences])
        shortlist = np.argsort(-lexical, kind="stable")[:max_embedded]
        if query_vector is None:
            query_vector = self.embedder.embed_query(f"{question} {context}".strip())
        vectors = self.embedder.embed_documents([sentences[i] for i in shortlist])
        dense = np.zeros(len(sentences))
        dense[shortlist] = np.clip(vectors @ query_vector, 0.0, 1.0)
        return (1 - self.dense_weight) * lexical + self.dense_weight * dense

    def sentences_of(self, hits: Sequence[RetrievedChunk]) -> list[Sentence]:
        return [
            Sentence(text=text, hit_rank=rank, position=position, list_item=item)
            for rank, hit in enumerate(hits)
            for position, (text, item) in enumerate(split_sentences(hit.text))
        ]
