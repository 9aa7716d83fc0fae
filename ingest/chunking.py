"""Structure-following chunking that never overflows the embedding model's window.

Sections (headings, PDF pages) are split first; inside a section, LangChain's recursive splitter
breaks at paragraphs, then lines, then sentence ends, measuring length with the embedding model's
own tokenizer. Each chunk is embedded with a short "title > heading" prefix, so the budget for the
body leaves room for it inside the model's 256-token window.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders import LoadedDocument, Section

CHUNKER_VERSION = "5"
"""Part of every file hash: bump it when chunk text or metadata change, so old chunks are re-made."""
_WINDOW_MARGIN = 8
"""Tokens of the model's window a chunk body never takes (the [CLS]/[SEP] markers, and room for a short prefix)."""
_SENTENCE_SEPARATORS = ["\n\n", "\n", r"(?<=[.!?])\s+", r"(?<=[;:])\s+", r",\s+", r"\s+", ""]


@dataclass(frozen=True)
class Chunk:
    """One retrievable piece of a document, with everything needed to cite it."""

    chunk_id: str
    text: str
    embed_text: str
    metadata: dict[str, str | int]


class TokenCounter:
    """Counts tokens with the embedding model's fast tokenizer (no transformers import needed)."""

    def __init__(self, model_path: Path, *, window: int | None = None) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.window = window or _max_seq_length(model_path)

    def count(self, text: str) -> int:
        """Tokens the model sees for `text`, including its [CLS]/[SEP] markers."""
        return len(self._tokenizer.encode(text).ids)

    def truncate(self, text: str, max_tokens: int) -> str:
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        if len(encoding.ids) <= max_tokens:
            return text
        end = encoding.offsets[max_tokens - 1][1]
        return text[:end]


def _max_seq_length(model_path: Path) -> int:
    import json

    config = model_path / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def pack_sections(sections: list[Section], counter: TokenCounter, budget: int) -> list[Section]:
    """Adjacent PDF sections on one page merged, under their common heading path, while they fit one chunk.

    Headings found from fonts are fine-grained (a bold line may head two sentences); a chunk of a
    few words carries too little for either search. Only sections with a page map (PDF) are packed,
    and only within a page, so every chunk's page stays the page of its text;
    the merged text is the sections joined with a blank line, as in `LoadedDocument.text`.
    """
    packed: list[Section] = []
    sizes: list[int] = []
    for section in sections:
        if not section.page_starts:  # not a PDF section: kept as it is, and not tokenized twice
            packed.append(section)
            sizes.append(0)
            continue
        size = counter.count(section.text) - 2
        prev = packed[-1] if packed else None
        same_page = prev is not None and bool(prev.page_starts) and prev.page_starts[-1][1] == section.page
        if same_page and section.page_starts and sizes[-1] + size + 1 <= budget:
            shift = len(prev.text) + 2
            packed[-1] = Section(
                f"{prev.text}\n\n{section.text}", _common_prefix(prev.heading_path, section.heading_path), prev.page,
                prev.page_starts + tuple((start + shift, page) for start, page in section.page_starts),
            )
            sizes[-1] += size + 1
        else:
            packed.append(section)
            sizes.append(size)
    return packed


def piece_starts(text: str, pieces: list[str]) -> list[int]:
    """Where each of the splitter's pieces begins in `text`.

    Pieces come in order and may overlap the one before, so each is searched for from just after
    the previous start. LangChain's `add_start_index` searches from the previous end minus
    `chunk_overlap`; here that overlap is counted in tokens, not characters, so the search began
    past the piece, found nothing and gave -1. Passages then dropped the chunk they were built
    around, and pages were cited from the section's first page.

    >>> piece_starts("one two. two three.", ["one two.", "two. two three."])
    [0, 4]
    """
    starts: list[int] = []
    cursor = 0
    for piece in pieces:
        found = text.find(piece, cursor)
        start = found if found >= 0 else cursor  # not verbatim (never seen): keep the order
        starts.append(start)
        cursor = start + 1
    return starts


def attach_lead_ins(
    text: str, pieces: list[str], starts: list[int], counter: TokenCounter, limit: int
) -> tuple[list[str], list[int]]:
    """Pieces of `text` with any piece that ends on a colon joined to the piece after it.

    "The assistant covers five areas:" announces the list that follows; cut off from it, it is a chunk
    that answers nothing and an answer that quotes a list's lead-in without the list. The splitter cuts
    there when the lead-in and the list's first lines do not fit one chunk; the join may go past the
    chunk size (by the lead-in) but never past `limit` tokens, so the model still reads it whole. The
    joined piece is the verbatim span of `text` from the lead-in to the end of the next piece.
    """
    joined: list[str] = []
    joined_starts: list[int] = []
    index = 0
    while index < len(pieces):
        piece, start = pieces[index], starts[index]
        if piece.rstrip().endswith(":") and index + 1 < len(pieces):
            after, after_start = pieces[index + 1], starts[index + 1]
            span = text[start : after_start + len(after)]
            if after_start >= start and span.endswith(after) and counter.count(span) - 2 <= limit:
                joined.append(span)
                joined_starts.append(start)
                index += 2
                continue
        joined.append(piece)
        joined_starts.append(start)
        index += 1
    return joined, joined_starts


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    common: list[str] = []
    for left, right in zip(a, b):
        if left != right:
            break
        common.append(left)
    return tuple(common)


class Chunker:
    """Splits LoadedDocuments into Chunks that fit the embedding window.

    Args:
        counter: the model's token counter.
        max_tokens: body tokens per chunk. Defaults to 200.
        overlap_tokens: tokens repeated between neighbouring chunks of a section. Defaults to 24.
    """

    def __init__(self, counter: TokenCounter, *, max_tokens: int = 200, overlap_tokens: int = 24) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.counter = counter
        self.max_tokens = min(max_tokens, counter.window - _WINDOW_MARGIN)
        self._splitter = RecursiveCharacterTextSplitter(
            separators=_SENTENCE_SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=self.max_tokens,
            chunk_overlap=overlap_tokens,
            length_function=lambda text: counter.count(text) - 2,
            strip_whitespace=True,
        )

    def split(self, document: LoadedDocument, *, content_hash: str) -> list[Chunk]:
        """Chunks of `document`; ids are `doc_id:hash:index`, so a changed document gets new ids."""
        meta = document.meta
        base = meta.chunk_metadata()
        chunks: list[Chunk] = []
        offset = 0
        for section in pack_sections(document.sections, self.counter, self.max_tokens):
            bodies = self._splitter.split_text(section.text)
            starts = piece_starts(section.text, bodies)
            bodies, starts = attach_lead_ins(section.text, bodies, starts, self.counter, self.counter.window - _WINDOW_MARGIN)
            for body, piece_start in zip(bodies, starts, strict=True):
                start = offset + piece_start
                heading = " > ".join(section.heading_path)
                prefix = " > ".join([meta.title, *(h for h in section.heading_path if h != meta.title)])
                index = len(chunks)
                metadata = {
                    **base,
                    "heading": heading,
                    "page": section.page_at(piece_start) or 0,
                    "chunk_index": index,
                    "char_start": start,
                    "char_end": start + len(body),
                    "content_hash": hashlib.sha256(body.encode("utf-8")).hexdigest()[:16],
                }
                chunks.append(
                    Chunk(
                        chunk_id=f"{meta.doc_id}:{content_hash[:12]}:{index:04d}",
                        text=body,
                        embed_text=self._embed_text(prefix, body),
                        metadata=metadata,
                    )
                )
            offset += len(section.text) + 2  # sections are joined with a blank line
        return chunks

    def _embed_text(self, prefix: str, body: str) -> str:
        # The prefix tells the model what the body is about; it is cut, never the body.
        budget = self.counter.window - 2 - (self.counter.count(body) - 2) - 1
        if budget <= 4:
            return body
        prefix = self.counter.truncate(prefix, budget - 1)
        return f"{prefix}\n{body}" if prefix else body
