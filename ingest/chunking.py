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

from ingest.loaders import LoadedDocument

CHUNKER_VERSION = "2"
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
        self.max_tokens = min(max_tokens, counter.window - 8)
        self._splitter = RecursiveCharacterTextSplitter(
            separators=_SENTENCE_SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=self.max_tokens,
            chunk_overlap=overlap_tokens,
            length_function=lambda text: counter.count(text) - 2,
            add_start_index=True,
            strip_whitespace=True,
        )

    def split(self, document: LoadedDocument, *, content_hash: str) -> list[Chunk]:
        """Chunks of `document`; ids are `doc_id:hash:index`, so a changed document gets new ids."""
        meta = document.meta
        base = meta.chunk_metadata()
        chunks: list[Chunk] = []
        offset = 0
        for section in document.sections:
            for piece in self._splitter.create_documents([section.text]):
                start = offset + int(piece.metadata.get("start_index", 0))
                body = piece.page_content
                heading = " > ".join(section.heading_path)
                prefix = " > ".join([meta.title, *(h for h in section.heading_path if h != meta.title)])
                index = len(chunks)
                metadata = {
                    **base,
                    "heading": heading,
                    "page": section.page or 0,
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
