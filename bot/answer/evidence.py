"""Sentences as evidence: split retrieved chunks into whole sentences and score each against the question.

The extractive generator quotes the best-scoring sentences, the LLM path checks its own sentences
against the sources with the same measures, and the refusal decision reads the same scores. One
scorer serves all three so "supported" means the same thing everywhere.

Sentence boundaries come from `gcot.sentences` (Markdown structure + pysbd), the same segmentation
ingest uses, so a quoted sentence is always a whole sentence of the source.
"""

from __future__ import annotations

import difflib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bot.jurisdictions import country_spellings, named_countries
from bot.types import RetrievedChunk
from encoder import Embedder
from gcot.sentences import split_sentences as _segment
from store.lexical import LexicalIndex
from store.sentences import SentenceVectors

_CITATION_MARK = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved chunk: where it sits and what kind of block it came from."""

    text: str
    hit_rank: int
    position: int
    list_item: bool = False
    block: int = 0
    heading: str = ""


def split_sentences(text: str) -> list[tuple[str, bool]]:
    """(sentence, from a list item or table row) for a Markdown text (answers and sources alike)."""
    return [(s.text, s.kind != "paragraph") for s in _segment(text)]


def strip_citations(text: str) -> str:
    return _CITATION_MARK.sub("", text).strip()


# Chat filler that says nothing about the subject; never counts as an unknown term.
_CHAT_WORDS = (
    "pls plz please thx thanks ta cheers hey hi hello whats what's theyd im i'm u ur r w govt gov recs rec quick "
    "question q info bot assistant ok okay folks team btw tbh idk rn asap lol anyone someone tell know need "
    "wondering actually roughly basically anyway guys thing things stuff big much many long often"
).split()
# Words that say what kind of answer is wanted, which the answer gives without using them: "canada huawei ban
# date" is answered by "in May 2022", "sfia level 5 name" by "is called Ensure/advise".
_KIND_WORDS = "date dates name names count".split()
# One word of the field in the spellings people and documents use, which no stemmer joins: a question about
# "telecoms security" is covered by "the Telecommunications (Security) Act".
SAME_TERM = (("telecoms", "telecom", "telecommunications", "telecommunication", "telco", "telcos"),)


class EvidenceScorer:
    """Scores text against a question by idf-weighted term coverage and embedding similarity.

    Args:
        lexical: the BM25 index, for its tokenizer and document frequencies.
        embedder: the embedding model, for sentence similarity.
        dense_weight: share of the embedding similarity in a sentence's score. Defaults to 0.5.
        cache_sentences: sentence vectors kept in memory. Defaults to 50,000 (about 75 MB).
    """

    def __init__(self, lexical: LexicalIndex, embedder: Embedder, *, dense_weight: float = 0.5, cache_sentences: int = 50_000,
                 sentences: SentenceVectors | None = None) -> None:
        self.lexical = lexical
        self.embedder = embedder
        self.sentences = sentences
        """Sentence vectors stored at ingest (`store.sentences`); chunks without them are embedded here."""
        self.dense_weight = dense_weight
        self._n = max(len(lexical.chunk_ids), 1)
        no_terms = _CHAT_WORDS + _KIND_WORDS
        self._chat_words = set(lexical.raw_tokens(" ".join(no_terms))) | set(no_terms)
        self._vocab_buckets: dict[tuple[str, ...], dict[tuple[str, int], list[str]]] = {}
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()
        self._cache_sentences = cache_sentences

    # --- sentence vectors (the one place that embeds source sentences) ----------------------------

    def sentence_vectors(
        self, hits: Sequence[RetrievedChunk], *, only: set[tuple[int, int]] | None = None
    ) -> list[list[tuple[str, np.ndarray | None]]]:
        """Per chunk, in `hits` order: (sentence text, unit vector) for each sentence of `split_sentences`.

        The only method that embeds source sentences: a store of sentence vectors computed at ingest
        can replace it (and fill every vector). Until then, `only` names the (chunk rank, sentence
        position) pairs worth embedding now; others get a vector only if one is cached (None if not).
        Vectors are cached by sentence text, so a sentence is embedded once per process.
        """
        segmented = [[s.text for s in _segment(hit.text)] for hit in hits]
        stored = self.sentences.lookup([(hit.chunk_id, texts) for hit, texts in zip(hits, segmented, strict=True)]) if self.sentences else {}
        if stored:
            return [
                list(zip(texts, stored[hit.chunk_id], strict=True)) if hit.chunk_id in stored else self._embedded([texts], only, rank)[0]
                for rank, (hit, texts) in enumerate(zip(hits, segmented, strict=True))
            ]
        return self._embedded(segmented, only, 0)

    def stored_sentence_vectors(self, hits: Sequence[RetrievedChunk]) -> list[np.ndarray] | None:
        """Per chunk, the (n, dim) sentence vectors stored at ingest; None unless every chunk has them.

        Never embeds and never reads the in-process cache, so whoever uses it gets the same result
        whatever was asked before.
        """
        if self.sentences is None or not hits:
            return None
        stored = self.sentences.lookup([(hit.chunk_id, [s.text for s in _segment(hit.text)]) for hit in hits])
        if any(hit.chunk_id not in stored for hit in hits):
            return None
        return [stored[hit.chunk_id] for hit in hits]

    def _embedded(self, segmented: list[list[str]], only: set[tuple[int, int]] | None, first_rank: int) -> list[list[tuple[str, np.ndarray | None]]]:
        """Sentence vectors embedded now (and cached by text), for chunks with none stored.

        The cache is shared by every thread answering at once: its reads and writes hold the lock, the
        embedding itself does not (two threads may embed one sentence; both get the same vector).
        """
        with self._vectors_lock:
            wanted = {
                text for rank, texts in enumerate(segmented, first_rank) for position, text in enumerate(texts)
                if text not in self._vectors and (only is None or (rank, position) in only)
            }
        ordered = sorted(wanted)
        embedded = dict(zip(ordered, self.embedder.embed_documents(ordered), strict=True)) if ordered else {}
        with self._vectors_lock:
            self._vectors.update(embedded)
            result = []
            for texts in segmented:
                row = []
                for text in texts:
                    vector = embedded.get(text, self._vectors.get(text))
                    if text in self._vectors:
                        self._vectors.move_to_end(text)
                    row.append((text, vector))
                result.append(row)
            while len(self._vectors) > self._cache_sentences:
                self._vectors.popitem(last=False)
        return result

    def sentences_of(self, hits: Sequence[RetrievedChunk]) -> list[Sentence]:
        return [
            Sentence(text=s.text, hit_rank=rank, position=s.position, list_item=s.kind != "paragraph", block=s.block, heading=s.heading)
            for rank, hit in enumerate(hits)
            for s in _segment(hit.text)
        ]

    # --- term statistics -----------------------------------------------------------------------------

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
        df = self.lexical.token_frequency(token)
        return math.log(1.0 + (self._n - df + 0.5) / (df + 0.5))

    def weighted_terms(self, question: str, context: str = "", *, context_weight: float = 0.4) -> dict[str, float]:
        """Query terms with idf weights; terms only in the earlier context count for less."""
        weights = {token: self.idf(token) for token in self.lexical.query_tokens(question) if token not in self._chat_words}
        for token in self.lexical.query_tokens(context):
            weights.setdefault(token, context_weight * self.idf(token))
        return weights

    def coverage(self, terms: Mapping[str, float], text: str, *, aliases: Mapping[str, set[str]] | None = None) -> float:
        """Share of the query's idf mass that `text` contains.

        Args:
            terms: token -> weight (from `weighted_terms`).
            text: the text to check.
            aliases: token -> tokens of its expansion (an acronym's full name); the token counts as
                present when most of its expansion is. Defaults to none.

        A token also counts as present when the text holds another spelling of it (`SAME_TERM`) or, for a
        country's name or demonym, names that country in any spelling (`bot.jurisdictions`).
        """
        total = sum(terms.values())
        if not total:
            return 0.0
        present = set(self.lexical.query_tokens(text))
        missing = [token for token in terms if not _present(token, present, aliases)]
        missing = [token for token in missing if not self._same_term.get(token, set()) & present]
        # A country is named by its demonym too: "Japan" is covered by "the Japanese partner", which no
        # stemmer joins ("japan" / "japanes").
        if countries := [token for token in missing if token in self._country_tokens]:
            named = named_countries(text)
            missing = [token for token in missing if token not in countries or not self._country_tokens[token] & named]
        return 1.0 - sum(terms[token] for token in missing) / total

    @cached_property
    def _same_term(self) -> dict[str, set[str]]:
        """Index token -> the tokens of its other spellings (`SAME_TERM`): "telecoms" is covered by "Telecommunications"."""
        same: dict[str, set[str]] = {}
        for spellings in SAME_TERM:
            tokens = {token for spelling in spellings for token in self.lexical.query_tokens(spelling)}
            for token in tokens:
                same.setdefault(token, set()).update(tokens - {token})
        return same

    @cached_property
    def _country_tokens(self) -> dict[str, frozenset[str]]:
        """Index token of a one-word country spelling ("japan", "japanes", "canadian", "uk") -> the countries it names."""
        tokens: dict[str, frozenset[str]] = {}
        for spelling, countries in country_spellings().items():
            stems = self.lexical.query_tokens(spelling) if spelling.isalpha() else []
            if len(stems) == 1:
                tokens[stems[0]] = tokens.get(stems[0], frozenset()) | countries
        return tokens


def _present(token: str, present: set[str], aliases: Mapping[str, set[str]] | None) -> bool:
    if token in present:
        return True
    expansion = (aliases or {}).get(token)
    return bool(expansion) and len(expansion & present) * 2 > len(expansion)
