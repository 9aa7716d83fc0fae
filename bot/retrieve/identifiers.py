"""Numbered parts a question names: "What is the purpose of Recital 14?" is about the chunk that is Recital 14.

Regulations, strategies and guidelines are cut into numbered parts (articles, recitals, amendments,
sections, annexes, tables). Neither ranking weighs the label: BM25 sees "recital" and "14" as two
common tokens, and the embedding barely sees the number. When a question names such a part and only
a few chunks contain that label, those chunks are read first; a label many chunks contain ("Article
9" cited throughout an act) is only mentioned in passing there, and ranking is left as it is.

On the pdf-qa tuning set (27 of 350 questions name a part, all but two in the EU AI Act) this took
passage hit@1 0.680 -> 0.694, hit@5 0.906 -> 0.914 and MRR@10 0.770 -> 0.782 (evals/RESULTS.md).
The in-domain questions name none, so their figures are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.retrieve.hybrid import as_retrieved
from bot.types import RetrievedChunk

if TYPE_CHECKING:
    from store import IndexSnapshot as Snapshot

_PART = re.compile(
    r"\b(amendment|article|recital|section|annex|appendix|chapter|clause|paragraph|table|figure|schedule|part)"
    r"\s+(\d+[a-z]?(?:\.\d+)*|[ivxlc]+)\b",
    re.I,
)


def named_parts(question: str) -> list[str]:
    """The numbered parts `question` names, as documents write them ("recital 9a" -> "Recital 9a").

    >>> named_parts("what does amendment 22 change, and is Annex III affected?")
    ['Amendment 22', 'Annex III']
    """
    parts = []
    for match in _PART.finditer(question):
        number = match.group(2)
        number = number.upper() if re.fullmatch(r"[ivxlc]+", number, re.I) else number.lower()
        parts.append(f"{match.group(1).capitalize()} {number}")
    return list(dict.fromkeys(parts))


def labelled_by(label: str, text: str) -> bool:
    """Does `text` contain `label` as a whole label ("Recital 1" is not in "Recital 12" nor "Section 2.1")?"""
    return re.search(rf"(?<!\w){re.escape(label)}(?!\w|\.\d)", text, re.I) is not None


def pin_named_parts(
    question: str, hits: Sequence[RetrievedChunk], snapshot: Snapshot, visibilities: Sequence[str], *, max_chunks: int = 3
) -> list[RetrievedChunk]:
    """`hits` with the chunks that carry a part the question names moved (or brought) to the front.

    Args:
        question: the question as asked.
        hits: the ranking, best first.
        snapshot: the index version being served.
        visibilities: what the asker may read.
        max_chunks: a label found in more chunks than this is cited in passing, not a label: skipped.
            Defaults to 3; 0 turns this off.

    A chunk brought in from outside the ranking takes the best score of the ranking (the refusal
    model reads scores): the question named it exactly.
    """
    result = list(hits)
    if max_chunks <= 0:
        return result
    for label in reversed(named_parts(question)):  # the first named part ends up first
        carriers = _carriers(label, snapshot, visibilities, limit=max_chunks + 1)
        if not carriers or len(carriers) > max_chunks:
            continue
        ranked = {hit.chunk_id: hit for hit in result}
        top = max((hit.score for hit in result), default=0.0)
        pinned = [ranked.get(chunk.chunk_id) or as_retrieved(chunk, top) for chunk in carriers]
        pinned_ids = {hit.chunk_id for hit in pinned}
        result = pinned + [hit for hit in result if hit.chunk_id not in pinned_ids]
    return result


def _carriers(label: str, snapshot: Snapshot, visibilities: Sequence[str], *, limit: int):
    # Chroma's `$contains` is case-sensitive: ask for the forms documents use, then check the label whole.
    found = {}
    for form in dict.fromkeys([label, label.upper(), label.lower()]):
        for chunk in snapshot.containing(form, visibilities=visibilities, limit=limit):
            if labelled_by(label, chunk.text):
                found.setdefault(chunk.chunk_id, chunk)
    return sorted(found.values(), key=lambda chunk: (str(chunk.metadata.get("doc_id", "")), int(chunk.metadata.get("chunk_index", 0))))

