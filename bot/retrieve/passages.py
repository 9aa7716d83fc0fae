"""Small-to-big retrieval: a matched chunk is returned as a passage that includes its neighbours.

Chunks are small (about 700 characters) so that a match is precise, but a PDF chunk is a fragment
of running text: the sentence that answers a question often sits just before or after the one that
matched. A passage joins the matched chunk with up to `before` / `after` chunks of the same
document, de-overlapped by their character offsets. Ranking is unchanged: the passage takes the
matched chunk's id, score and metadata, and lists its chunks in `parts` so that the answer layer
can quote (and cite the page of) each one. A chunk already inside a better-ranked passage does not
open a passage of its own.

On the pdf-qa tuning set (350 questions, five PDFs; evals/RESULTS.md) two chunks either side took
hit@1 from 0.431 to 0.614 and hit@5 from 0.691 to 0.846, at about 3,000 characters per passage.
Only paged documents (PDFs) are widened by default: Markdown, DOCX and HTML chunks follow the
author's sections, so a neighbour there is another topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.types import RetrievedChunk

if TYPE_CHECKING:
    from store import IndexSnapshot as Snapshot


@dataclass(frozen=True)
class PassageWindow:
    """How far a passage reaches around its matched chunk.

    Attributes:
        before: chunks taken before the match. Defaults to 2.
        after: chunks taken after the match. Defaults to 2.
        paged_only: expand only chunks of paged documents (a PDF page number set). Defaults to True.
    """

    before: int = 2
    after: int = 2
    paged_only: bool = True

    @property
    def empty(self) -> bool:
        return self.before <= 0 and self.after <= 0


def expand_to_passages(hits: Sequence[RetrievedChunk], snapshot: Snapshot, window: PassageWindow, *, k: int | None = None) -> list[RetrievedChunk]:
    """The first `k` (default: all) passages of `hits`, in rank order, none repeating another's chunks."""
    if window.empty:
        return list(hits[:k] if k is not None else hits)
    wanted: dict[str, list[str]] = {}
    for hit in hits:
        if _expandable(hit, window):
            wanted[hit.chunk_id] = snapshot.neighbour_ids(hit.chunk_id, before=window.before, after=window.after)
    stored = {c.chunk_id: c for c in snapshot.get(list(dict.fromkeys(i for ids in wanted.values() for i in ids)))}
    passages: list[RetrievedChunk] = []
    covered: set[str] = set()
    for hit in hits:
        if hit.chunk_id in covered:
            continue  # its text is already in a better-ranked passage
        ids = [i for i in wanted.get(hit.chunk_id, []) if i in stored and i not in covered] or [hit.chunk_id]
        parts = [_part(stored[i], hit) if i != hit.chunk_id else hit for i in ids]
        covered.update(ids)
        passages.append(_passage(hit, parts) if len(parts) > 1 else hit)
        if k is not None and len(passages) == k:
            break
    return passages


def draft_units(passages: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
    """The chunks an answer quotes from: each passage's parts in order (a plain hit stands for itself)."""
    seen: set[str] = set()
    units: list[RetrievedChunk] = []
    for passage in passages:
        for part in passage.parts or [passage]:
            if part.chunk_id not in seen:
                seen.add(part.chunk_id)
                units.append(part)
    return units


def _expandable(hit: RetrievedChunk, window: PassageWindow) -> bool:
    return not window.paged_only or bool(hit.metadata.get("page"))


def _part(chunk, hit: RetrievedChunk) -> RetrievedChunk:
    # A neighbour ranks with the passage that brought it in; its metadata (page, heading) is its own.
    return RetrievedChunk(chunk_id=chunk.chunk_id, doc_id=hit.doc_id, visibility=hit.visibility, score=hit.score,
                          text=chunk.text, metadata=chunk.metadata)


def _passage(hit: RetrievedChunk, parts: list[RetrievedChunk]) -> RetrievedChunk:
    return hit.model_copy(update={"text": _joined(parts), "parts": parts})


def _joined(parts: Sequence[RetrievedChunk]) -> str:
    """The parts' text without the overlap chunking leaves between neighbours (by character offsets)."""
    pieces: list[str] = []
    end = None
    for part in parts:
        start = int(part.metadata.get("char_start", 0))
        text = part.text
        if end is not None and start < end:
            text = text[end - start :].lstrip()
        end = max(end or 0, start + len(part.text))
        if text:
            pieces.append(text)
    return " ".join(pieces)
