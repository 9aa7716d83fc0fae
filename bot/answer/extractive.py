"""The extractive generator: an offline, deterministic answer made of quoted source sentences.

It picks the sentences that best answer the question from the top retrieved chunks, keeps a
caveat that directly follows a chosen sentence, and marks each sentence with its source number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.answer.evidence import EvidenceScorer, Sentence
from bot.types import RetrievedChunk
from bot.untrusted import looks_like_instruction

# Sentences about the document itself ("This document explains ...") never answer anything.
_META = re.compile(r"^(this|the present) (document|summary|page|briefing|note|section|overview)\b", re.I)
# The corpus says plainly where it has no information; such a sentence means "no answer".
COVERAGE_NOTE = re.compile(
    r"\b(documents?|corpus|sources?|fact sheet|assistant)\b[^.]{0,60}\b(do(es)? not|don't|cannot|can't|did not)\s+"
    r"(give|cover|confirm|include|state|record|say|name|list|show|hold|contain|verify|provide)|"
    r"\b(they|it) (also )?do(es)? not (give|cover|confirm|include|state|record|say|name|list|track)\b|"
    r"\bnot (been )?verified\b|\b(is|are) not covered\b|\bask the (coalition's )?outreach team\b",
    re.I,
)
# The corpus ends each document with a "Source" section naming the official text; it is cited, not quoted.
_SOURCE_HEADING = re.compile(r"(^|> )(official )?sources?( and licen[cs]e)?$", re.I)
_CAVEAT = re.compile(
    r"\b(not (?:been )?(?:confirmed|verified|checked)|unconfirmed|secondary source|according to (?:that|a|one|the) "
    r"secondary|treat (?:this|it|these) with caution|should be (?:checked|treated))\b",
    re.I,
)


@dataclass
class Draft:
    """Sentences chosen for an answer, each with the retrieved chunk it came from."""

    sentences: list[tuple[str, RetrievedChunk]] = field(default_factory=list)
    confidence: float = 0.0
    coverage: float = 0.0
    """Share of the question's idf-weighted terms found in the chosen sentences and their headings."""
    not_covered: bool = False
    """The best sentence says the documents do not hold this information."""


class ExtractiveGenerator:
    """Quotes the best-supported sentences.

    Args:
        scorer: the shared evidence scorer.
        max_sentences: sentences in an answer. Defaults to 3.
        top_chunks: retrieved chunks read for sentences. Defaults to 5.
        keep_ratio: a further sentence must score at least this share of the best one. Defaults to 0.8.
    """

    def __init__(self, scorer: EvidenceScorer, *, max_sentences: int = 3, top_chunks: int = 5, keep_ratio: float = 0.8) -> None:
        self.scorer = scorer
        self.max_sentences = max_sentences
        self.top_chunks = top_chunks
        self.keep_ratio = keep_ratio

    def draft(self, question: str, hits: Sequence[RetrievedChunk], *, context: str = "") -> Draft:
        hits = list(hits[: self.top_chunks])
        sentences = [
            s for s in self.scorer.sentences_of(hits)
            if not _META.match(s.text) and "http" not in s.text and not looks_like_instruction(s.text) and not _SOURCE_HEADING.search(str(hits[s.hit_rank].metadata.get("heading", "")))
        ]
        if not sentences:
            return Draft()
        scores = self.scorer.score_sentences(question, [s.text for s in sentences], context=context)
        # Earlier-ranked chunks get a small prior: retrieval already weighed the whole chunk.
        scores = scores + np.array([0.04 / (1 + s.hit_rank) for s in sentences])
        order = np.argsort(-scores, kind="stable")
        best = float(scores[order[0]])
        chosen: list[Sentence] = []
        for index in order:
            sentence = sentences[index]
            if len(chosen) >= self.max_sentences or scores[index] < self.keep_ratio * best:
                break
            if any(_near_duplicate(sentence.text, other.text) for other in chosen):
                continue
            chosen.append(sentence)
        chosen = self._with_list_items(self._with_caveats(chosen, sentences), sentences)
        draft_sentences = [(s.text, hits[s.hit_rank]) for s in chosen]
        coverage = self.scorer.coverage(
            self.scorer.weighted_terms(question, context),
            " ".join(f"{hits[s.hit_rank].metadata.get('title', '')} {hits[s.hit_rank].metadata.get('heading', '')} {s.text}" for s in chosen),
        )
        return Draft(
            sentences=draft_sentences,
            confidence=min(best, 1.0),
            coverage=coverage,
            not_covered=bool(COVERAGE_NOTE.search(chosen[0].text)),
        )

    def _with_list_items(self, chosen: list[Sentence], sentences: list[Sentence], *, limit: int = 8) -> list[Sentence]:
        """A sentence that introduces a list ("... has four aims:") brings the items that follow it."""
        result: list[Sentence] = []
        for sentence in chosen:
            result.append(sentence)
            if not sentence.text.rstrip().endswith(":"):
                continue
            following = sorted(
                (s for s in sentences if s.hit_rank == sentence.hit_rank and s.position > sentence.position),
                key=lambda s: s.position,
            )
            for item in following[:limit]:
                if not item.list_item:
                    break
                if item not in result and item not in chosen:
                    result.append(item)
        return result

    def _with_caveats(self, chosen: list[Sentence], sentences: list[Sentence]) -> list[Sentence]:
        """A caveat right after a chosen sentence travels with it (the corpus marks uncertain facts so)."""
        result: list[Sentence] = []
        for sentence in chosen:
            result.append(sentence)
            following = next(
                (s for s in sentences if s.hit_rank == sentence.hit_rank and s.position == sentence.position + 1), None
            )
            if following and _CAVEAT.search(following.text) and following not in chosen and following not in result:
                result.append(following)
        return result


def _near_duplicate(a: str, b: str) -> bool:
    ta, tb = set(a.lower().split()), set(b.lower().split())
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.7
