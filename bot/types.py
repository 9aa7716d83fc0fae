"""The answer object every front end receives (CLI, Slack, evals)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["answered", "no_answer", "error"]


class Turn(BaseModel):
    """One earlier message of a conversation."""

    role: Literal["user", "assistant"]
    content: str


class Citation(BaseModel):
    """A numbered source of an answer; `n` is the number used in the answer text as [n]."""

    n: int
    doc_id: str
    title: str
    source_url: str = ""
    published: str = ""
    snippet: str = ""
    heading: str = ""
    page: int | None = None
    chunk_id: str = ""
    chunk_ids: list[str] = Field(default_factory=list)

    @property
    def link(self) -> str:
        """The URL a reader follows: `source_url#page=N` for a page of a PDF, else `source_url` ("" if none)."""
        url = self.source_url.strip()
        if not url or not self.page:
            return url
        # The PDF open-parameters fragment; a fragment already on the URL is replaced, not doubled.
        return f"{url.split('#', 1)[0]}#page={self.page}"

    @property
    def location(self) -> str:
        """Where in the document the quote is: `p. 12` (PDF page), else its heading path ("" if neither)."""
        if self.page:
            return f"p. {self.page}"
        return self.heading


class RetrievedChunk(BaseModel):
    """A chunk the retriever returned, in rank order (for evals and debugging)."""

    chunk_id: str
    doc_id: str
    visibility: str
    score: float
    text: str = Field(default="", repr=False)
    metadata: dict[str, Any] = Field(default_factory=dict, repr=False)
    parts: list[RetrievedChunk] = Field(default_factory=list, repr=False)
    """For a passage (`bot/retrieve/passages.py`): the chunks its text joins, in document order; else empty."""


class Answer(BaseModel):
    answer_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: Status
    text: str
    citations: list[Citation] = Field(default_factory=list)
    audience: str
    question: str = ""
    standalone_question: str = ""
    generator: str = "extractive"
    """Which generator produced the text: `extractive`, `llm`, or `extractive-fallback` (LLM failed)."""
    confidence: float = 0.0
    """Evidence strength in [0, 1]; below the calibrated refusal threshold the status is `no_answer`."""
    reason: str = ""
    """Why the status is what it is: e.g. `weak_evidence`, `out_of_scope`, `llm_timeout` fallback."""
    timings: dict[str, float | str] = Field(default_factory=dict)
    """Milliseconds per stage (`retrieve_ms`, `generate_ms`, `total_ms`) and a `fallback` note if any."""
    retrieved: list[RetrievedChunk] = Field(default_factory=list, exclude=True)
