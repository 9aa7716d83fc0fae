"""Markdown chunk text -> whole sentences, following the document's structure.

Shared by the answer layer (evidence is scored and quoted sentence by sentence) and by ingest
(sentence vectors are computed once per chunk). Pure and model-free: markdown-it-py gives the block
structure (a paragraph's wrapped lines are one paragraph, a list item or table row is one unit,
headings and code are not prose), and pysbd finds the sentence boundaries inside a paragraph.

Main helpers:
    split_sentences: chunk text -> tuple of `Sentence` (cached; the same chunk is split once).
    plain_text: one Markdown inline string -> plain text (emphasis, links, code marks removed).
    locate_sentences: where each split sentence lies in the raw chunk text (for in-context vectors).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["paragraph", "item", "row"]

_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*(\n|\Z)", re.S)
# Cross-references to other documents by id are index metadata, not prose a reader should see.
_DOC_ID_REF = re.compile(r"\s*\((?:see\s+)?doc_id[:\s][^)]*\)", re.I)
_DOC_ID_INLINE = re.compile(r"\bdoc_id[:\s]+[\w-]+")
_SPACES = re.compile(r"\s+")
_TERMINAL = re.compile(r"[.!?:;…][\"'”’)\]]*$")


@dataclass(frozen=True)
class Sentence:
    """One sentence (or list item, or table row) of a chunk.

    Attributes:
        text: plain text, no Markdown marks.
        block: index of the block (paragraph, list item, table row) it comes from, in chunk order.
        kind: "paragraph", "item" (a list item) or "row" (a table row, cells joined with " — ").
        heading: the nearest heading above it within the chunk ("" when the chunk has none).
        position: index of the sentence in the chunk.
    """

    text: str
    block: int
    kind: Kind
    heading: str
    position: int

    @property
    def introduces_list(self) -> bool:
        """A sentence ending in ":" announces the list that follows it."""
        return self.text.rstrip().endswith(":")


class _Segmenter:
    """pysbd is slow to construct; build it once per process."""

    _instance = None

    @classmethod
    def get(cls):
        if cls._instance is None:
            import pysbd

            cls._instance = pysbd.Segmenter(language="en", clean=False)
        return cls._instance


@functools.lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def plain_text(children) -> str:
    """Inline tokens -> plain text: text and code kept, marks and raw HTML dropped, line breaks to spaces."""
    parts: list[str] = []
    for token in children or ():
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":
            parts.append(token.content)
    return _clean("".join(parts))


def _clean(text: str) -> str:
    text = _DOC_ID_INLINE.sub("a separate document", _DOC_ID_REF.sub("", text))
    return _SPACES.sub(" ", text).strip()


def _blocks(text: str) -> list[tuple[str, Kind, str]]:
    """(plain text, kind, heading) for each prose block of a Markdown text."""
    tokens = _parser().parse(_FRONT_MATTER.sub("", text))
    blocks: list[tuple[str, Kind, str]] = []
    heading, item_depth, in_head, row = "", 0, False, None
    for index, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            heading = plain_text(tokens[index + 1].children)
        elif kind == "list_item_open":
            item_depth += 1
        elif kind == "list_item_close":
            item_depth -= 1
        elif kind == "thead_open":
            in_head = True
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            cells = [cell for cell in row or () if cell]
            if cells and not in_head:
                blocks.append((" — ".join(cells), "row", heading))
            row = None
        elif kind == "inline" and row is not None:
            row.append(plain_text(token.children))
        elif kind == "inline" and tokens[index - 1].type == "paragraph_open":
            body = plain_text(token.children)
            if body:
                blocks.append((body, "item" if item_depth else "paragraph", heading))
    return blocks


_ABBREVIATION_END = re.compile(r"(?:^|\s)\(?(?:[A-Za-z]{1,4}|[A-Z][a-z]{1,3}|(?:[A-Za-z]\.){1,3}[A-Za-z]?)\.$")


def _rejoin(pieces: list[str]) -> list[str]:
    """Undo pysbd splits inside a sentence: after an abbreviation ("c. 31", "No. 93") or before a lower-case word."""
    joined: list[str] = []
    for piece in pieces:
        if joined and (piece[:1].islower() or piece[:1] in ",;)" or (piece[:1].isdigit() and _ABBREVIATION_END.search(joined[-1]))):
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return joined


def _whole(text: str) -> bool:
    """Does a paragraph piece look like a complete sentence (so not cut by a chunk boundary)?"""
    return bool(_TERMINAL.search(text))


def _starts_mid_sentence(text: str) -> bool:
    first = text.split(" ", 1)[0]
    # "e-CF", "iPhone" and "5G" start sentences too: only a plain lower-case word means a cut.
    return first[:1].islower() and first.isalpha() and first.islower()


@functools.lru_cache(maxsize=8192)
def split_sentences(text: str) -> tuple[Sentence, ...]:
    """A Markdown chunk's sentences, in order.

    Paragraphs (wrapped lines joined) are split into sentences with pysbd; a list item or table row
    is kept whole as one unit (it is what the author wrote as one point). Headings, code and HTML
    are left out (a heading is kept as each sentence's `heading`). A chunk cut out of a longer
    document can begin or end inside a sentence: such a leading or trailing fragment is dropped,
    so every paragraph sentence returned starts and ends where the author's sentence does.

    Example:
        >>> [s.text for s in split_sentences("# T\\n\\nThe Act\\nwas passed. It is law.\\n\\n- one item")]
        ['The Act was passed.', 'It is law.', 'one item']
    """
    segmenter = _Segmenter.get()
    sentences: list[Sentence] = []
    blocks = _blocks(text)
    for block_index, (body, kind, heading) in enumerate(blocks):
        pieces = [body] if kind != "paragraph" else _rejoin([p for p in (_clean(p) for p in segmenter.segment(body)) if p])
        if kind == "paragraph":
            if block_index == 0 and pieces and _starts_mid_sentence(pieces[0]):
                pieces = pieces[1:]
            if block_index == len(blocks) - 1 and pieces and not _whole(pieces[-1]):
                pieces = pieces[:-1]
        for piece in pieces:
            if len(piece) > 3:
                sentences.append(Sentence(piece, block_index, kind, heading, len(sentences)))
    return tuple(sentences)


_WORD = re.compile(r"\w+")


def locate_sentences(text: str, sentences: Sequence[str], *, min_matched: float = 0.6) -> list[tuple[int, int] | None]:
    """Where each of `sentences` (as `split_sentences` gave them) lies in the raw `text`, as (start, end).

    The sentences are plain text and the chunk is Markdown (marks, link targets, wrapped lines), so
    they are aligned word by word (difflib over lower-cased words) rather than searched for. A
    sentence is located when at least `min_matched` of its words align; its span runs from its first
    aligned word to its last. None for a sentence that does not align (the caller embeds it alone).
    """
    words = [(match.group().lower(), match.start(), match.end()) for match in _WORD.finditer(text)]
    wanted: list[str] = []
    owner: list[int] = []
    sizes: list[int] = []
    for index, sentence in enumerate(sentences):
        sentence_words = [word.lower() for word in _WORD.findall(sentence)]
        wanted.extend(sentence_words)
        owner.extend([index] * len(sentence_words))
        sizes.append(len(sentence_words))
    starts: list[int | None] = [None] * len(sentences)
    ends = [0] * len(sentences)
    matched = [0] * len(sentences)
    aligner = difflib.SequenceMatcher(None, wanted, [word for word, _, _ in words], autojunk=False)
    for wanted_at, text_at, size in aligner.get_matching_blocks():
        for offset in range(size):
            index = owner[wanted_at + offset]
            _, start, end = words[text_at + offset]
            starts[index] = start if starts[index] is None else min(starts[index], start)
            ends[index] = max(ends[index], end)
            matched[index] += 1
    return [
        (start, ends[i]) if start is not None and matched[i] >= min_matched * sizes[i] else None
        for i, start in enumerate(starts)
    ]
