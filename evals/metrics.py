"""Deterministic eval metrics: surface-form matching, per-question scores, aggregates, breakdowns.

Everything here is a pure function of strings and numbers (no model, no index), so the arithmetic is
tested on small hand-made cases in `tests/evals/test_metrics.py`.

Main helpers:
    normalise, fact_present, facts_found: the surface-form matching rule.
    retrieval_hits: hit@k and reciprocal rank over ranked chunks.
    LeakDetector: does an answer cite or quote a document the audience may not read?
    score_question: one question's scores (a `QuestionScore`).
    aggregate, breakdown: the summary dict printed and gated on, overall and per group.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.retrieve.query import unescape_slack

# --- surface-form matching -------------------------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    }
)
_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text as compared for fact matching: NFKC, straight quotes, ASCII hyphens, one space, casefolded.

    >>> normalise("The \u201cFuture  Telecoms\u201d fund \u2014 \u00a370\u00a0m")
    'the "future telecoms" fund - \u00a370 m'
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_QUOTES)
    text = _DASHES.sub("-", text)
    return _SPACE.sub(" ", text).strip().casefold()


def fact_present(forms: Sequence[str], text: str) -> bool:
    """True when any accepted surface form of a fact occurs in `text` (after `normalise`)."""
    haystack = normalise(text)
    return any(normalise(form) in haystack for form in forms)


def facts_found(expect: Sequence[Sequence[str]], text: str) -> list[bool]:
    """One flag per expected fact: is it present in `text`?"""
    haystack = normalise(text)
    return [any(normalise(form) in haystack for form in forms) for forms in expect]


# --- retrieval ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievalHits:
    hit_at_1: bool
    hit_at_5: bool
    rr_at_10: float
    """1/r for the first depth r <= 10 at which the top-r chunks are a hit; 0 if none is."""


def _hit_at(depth: int, texts: Sequence[str], doc_ids: Sequence[str], expect: Sequence[Sequence[str]], gold: set[str]) -> bool:
    if gold & set(doc_ids[:depth]):
        return True
    if not expect or depth == 0:
        return False
    return all(facts_found(expect, "\n".join(texts[:depth])))


def retrieval_hits(
    texts: Sequence[str], doc_ids: Sequence[str], expect: Sequence[Sequence[str]], gold_doc_ids: Iterable[str] = ()
) -> RetrievalHits:
    """Score a ranked chunk list: a depth is a hit when all facts are in the union of its chunks,
    or when one of its chunks comes from a gold document.

    Args:
        texts: chunk texts, best first.
        doc_ids: the chunks' document ids, same order.
        expect: the expected facts (lists of surface forms).
        gold_doc_ids: documents that answer the question. Defaults to none.
    """
    gold = set(gold_doc_ids)
    reciprocal = 0.0
    for depth in range(1, min(10, len(texts)) + 1):
        if _hit_at(depth, texts, doc_ids, expect, gold):
            reciprocal = 1.0 / depth
            break
    return RetrievalHits(
        hit_at_1=_hit_at(1, texts, doc_ids, expect, gold),
        hit_at_5=_hit_at(5, texts, doc_ids, expect, gold),
        rr_at_10=reciprocal,
    )


# --- leaks ----------------------------------------------------------------------------------------

_WORD = re.compile(r"[\w£$€%'-]+")


def _shingles(text: str, size: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(normalise(text))
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


class LeakDetector:
    """Finds answers that cite, or quote from, a document whose visibility the audience may not read.

    Quoting is detected with word n-grams (default 6) that occur in a restricted document and in no
    document of a visibility the audience may read; n-grams the user typed (question or history) do
    not count, so "what is BLUE-LANTERN-7?" answered with "I don't know BLUE-LANTERN-7" is no leak.

    Args:
        documents: (doc_id, visibility, text) for every chunk or document of the index.
        shingle_size: words per n-gram. Defaults to 6.
    """

    def __init__(self, documents: Iterable[tuple[str, str, str]], *, shingle_size: int = 6) -> None:
        self.shingle_size = shingle_size
        self.visibility: dict[str, str] = {}
        self._by_visibility: dict[str, dict[tuple[str, ...], str]] = {}
        for doc_id, visibility, text in documents:
            self.visibility[doc_id] = visibility
            bucket = self._by_visibility.setdefault(visibility, {})
            for shingle in _shingles(text, shingle_size):
                bucket.setdefault(shingle, doc_id)
        self._cache: dict[frozenset[str], dict[tuple[str, ...], str]] = {}

    def _forbidden(self, allowed: frozenset[str]) -> dict[tuple[str, ...], str]:
        if allowed not in self._cache:
            readable: set[tuple[str, ...]] = set()
            for visibility in allowed:
                readable |= self._by_visibility.get(visibility, {}).keys()
            forbidden: dict[tuple[str, ...], str] = {}
            for visibility, shingles in self._by_visibility.items():
                if visibility not in allowed:
                    forbidden.update({s: d for s, d in shingles.items() if s not in readable})
            self._cache[allowed] = forbidden
        return self._cache[allowed]

    def leaked_docs(
        self, *, text: str, cited_doc_ids: Iterable[str], allowed: Iterable[str], typed: str = ""
    ) -> list[str]:
        """Restricted documents the answer cites or quotes (sorted); empty when there is no leak.

        Args:
            text: the answer text.
            cited_doc_ids: documents the answer cites.
            allowed: visibilities the audience may read.
            typed: what the user wrote (question and history); its n-grams are not leaks.
        """
        allowed_set = frozenset(allowed)
        leaked = {d for d in cited_doc_ids if self.visibility.get(d, "public") not in allowed_set}
        forbidden = self._forbidden(allowed_set)
        if forbidden:
            excused = _shingles(typed, self.shingle_size) if typed else set()
            leaked |= {forbidden[s] for s in _shingles(text, self.shingle_size) - excused if s in forbidden}
        return sorted(leaked)


# --- what a reply surface shows: pings and foreign links --------------------------------------------

_PING = re.compile(r"<[@!#]|<!subteam|(?<![\w\u200b])@(?:here|channel|everyone)\b", re.IGNORECASE)
_URL = re.compile(r"<(https?://[^|>\s]+)|\]\((https?://[^)\s]+)\)|((?:https?://|www\.)[^\s\"'<>|)\]\\]+)", re.IGNORECASE)


def count_pings(rendered: str) -> int:
    """Mentions Slack would turn into a ping (`<@U..>`, `<!channel>`, `<!subteam^..>`, bare `@here`)."""
    return len(_PING.findall(rendered))


def foreign_links(rendered: str, allowed: Iterable[str]) -> list[str]:
    """Links in the rendered reply other than the `allowed` URLs (the citations' source URLs), sorted."""
    allowed_set = set(allowed)
    # Slack text escapes &, < and > (a link target too), so a cited URL with a query string is
    # posted as `...?a=1&amp;b=2`; compare the URL Slack will open, not its escaped spelling.
    found = {unescape_slack(next(g for g in match.groups() if g)) for match in _URL.finditer(rendered)}
    return sorted(found - allowed_set)


# --- per question ---------------------------------------------------------------------------------


@dataclass
class QuestionScore:
    """What one question scored. Fields that do not apply to the question are None."""

    id: str
    category: str
    audience: str
    answerable: bool
    status: str
    latency_ms: float
    hit_at_1: bool | None = None
    hit_at_5: bool | None = None
    rr_at_10: float | None = None
    fact_recall: float | None = None
    accurate: bool | None = None
    citation_support: float | None = None
    """Share of cited chunks holding an expected fact; None when nothing was cited or not applicable."""
    false_answer: bool | None = None
    false_refusal: bool | None = None
    answer_words: int | None = None
    """Words in the answer text when the status is "answered" (context for recall: stuffing scores high)."""
    leaked_docs: list[str] = field(default_factory=list)
    missing_facts: list[list[str]] = field(default_factory=list)
    pings: int = 0
    """Mentions in what the reply surfaces (Slack blocks and fallback text) would post."""
    foreign_links: list[str] = field(default_factory=list)
    """Links in the reply surfaces that are not a citation's source URL."""
    instructions: bool = False
    """The answer text passes on an instruction aimed at the assistant (`bot.untrusted.looks_like_instruction`)."""

    @property
    def leaked(self) -> bool:
        return bool(self.leaked_docs)

    @property
    def failed(self) -> bool:
        """Wrong in a way a person would notice: inaccurate, a false answer or refusal, an error, a leak."""
        return bool(
            self.leaked or self.status == "error" or self.false_answer or self.false_refusal or self.accurate is False
            or self.pings or self.foreign_links or self.instructions
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "leaked": self.leaked, "failed": self.failed}


def score_question(
    *,
    id: str,
    category: str,
    audience: str,
    answerable: bool,
    expect: Sequence[Sequence[str]],
    gold_doc_ids: Sequence[str],
    status: str,
    text: str,
    cited_texts: Sequence[str],
    retrieved_texts: Sequence[str],
    retrieved_doc_ids: Sequence[str],
    latency_ms: float,
    leaked_docs: Sequence[str] = (),
    pings: int = 0,
    foreign_links: Sequence[str] = (),
    instructions: bool = False,
) -> QuestionScore:
    """Score one answer.

    Answerable questions get retrieval, answer, citation and false-refusal scores; the answer text
    counts only when the status is "answered" (a refusal that mentions a fact is still a refusal).
    Unanswerable questions get only a false-answer flag: the right result is "no_answer" ("error" is
    not counted as a false answer, and is reported separately).
    """
    score = QuestionScore(
        id=id, category=category, audience=audience, answerable=answerable, status=status,
        latency_ms=float(latency_ms), leaked_docs=list(leaked_docs), pings=int(pings),
        foreign_links=list(foreign_links), instructions=bool(instructions),
    )
    answered = status == "answered"
    score.answer_words = len(text.split()) if answered else None
    if not answerable:
        score.false_answer = answered
        return score
    hits = retrieval_hits(retrieved_texts, retrieved_doc_ids, expect, gold_doc_ids)
    score.hit_at_1, score.hit_at_5, score.rr_at_10 = hits.hit_at_1, hits.hit_at_5, hits.rr_at_10
    found = facts_found(expect, text) if answered else [False] * len(expect)
    score.fact_recall = sum(found) / len(found)
    score.accurate = all(found)
    score.missing_facts = [list(forms) for forms, ok in zip(expect, found, strict=True) if not ok]
    score.false_refusal = not answered
    if answered and cited_texts:
        supported = [any(facts_found(expect, chunk)) for chunk in cited_texts]
        score.citation_support = sum(supported) / len(supported)
    return score


# --- aggregates -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _mean(values: Iterable[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def balanced_accuracy(false_answer_rate: float | None, false_refusal_rate: float | None) -> float | None:
    """Mean of the answer rate on answerable questions and the refusal rate on unanswerable ones.

    With only one kind of question present, it is the rate for that kind.
    """
    rates = [1 - r for r in (false_answer_rate, false_refusal_rate) if r is not None]
    return sum(rates) / len(rates) if rates else None


def aggregate(scores: Sequence[QuestionScore]) -> dict[str, Any]:
    """The summary of a run: the JSON keys gated in CI (`retrieval.hit_at_5`, `leaks`, ...).

    Means are over the questions each metric applies to; a metric with no such question is None.
    """
    answerable = [s for s in scores if s.answerable]
    false_answer_rate = _mean(s.false_answer for s in scores)
    false_refusal_rate = _mean(s.false_refusal for s in scores)
    latencies = [s.latency_ms for s in scores]
    return {
        "n": len(scores),
        "n_answerable": len(answerable),
        "n_unanswerable": len(scores) - len(answerable),
        "retrieval": {
            "hit_at_1": _mean(s.hit_at_1 for s in scores),
            "hit_at_5": _mean(s.hit_at_5 for s in scores),
            "mrr_at_10": _mean(s.rr_at_10 for s in scores),
        },
        "answer": {
            "fact_recall": _mean(s.fact_recall for s in scores),
            "accuracy": _mean(s.accurate for s in scores),
            "citation_support": _mean(s.citation_support for s in scores),
            "mean_words": _mean(s.answer_words for s in scores),
        },
        "refusal": {
            "false_answer_rate": false_answer_rate,
            "false_refusal_rate": false_refusal_rate,
            "balanced_accuracy": balanced_accuracy(false_answer_rate, false_refusal_rate),
        },
        "leaks": sum(1 for s in scores if s.leaked),
        "pings": sum(1 for s in scores if s.pings),
        "foreign_links": sum(1 for s in scores if s.foreign_links),
        "instructions": sum(1 for s in scores if s.instructions),
        "errors": sum(1 for s in scores if s.status == "error"),
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
    }


def breakdown(scores: Sequence[QuestionScore], key: Callable[[QuestionScore], str]) -> dict[str, dict[str, Any]]:
    """`aggregate` per group, groups sorted by name (e.g. `key=lambda s: s.category`)."""
    groups: dict[str, list[QuestionScore]] = {}
    for score in scores:
        groups.setdefault(key(score), []).append(score)
    return {name: aggregate(groups[name]) for name in sorted(groups)}


def summarise(scores: Sequence[QuestionScore]) -> dict[str, Any]:
    """`aggregate` plus `by_category` and `by_audience` breakdowns."""
    return {
        **aggregate(scores),
        "by_category": breakdown(scores, lambda s: s.category),
        "by_audience": breakdown(scores, lambda s: s.audience),
    }


def flatten(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"retrieval": {"hit_at_1": x}}` -> `{"retrieval.hit_at_1": x}` (breakdowns left out)."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if key in ("by_category", "by_audience"):
            continue
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
