"""AnswerService: question (+ audience, + history) -> Answer. The one path every front end uses.

    clean & scope-check -> standalone question -> glossary expansion -> hybrid retrieval filtered to
    the audience -> evidence check (refuse when weak) -> generator (extractive, or LLM with
    validation and extractive fallback) -> numbered citations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from bot.answer.evidence import EvidenceScorer
from bot.answer.extractive import Draft, ExtractiveGenerator
from bot.answer.scope import DECLINE_MESSAGES, out_of_scope
from bot.types import Answer, Citation, RetrievedChunk, Turn
from bot.retrieve.hybrid import HybridRetriever
from bot.retrieve.query import Glossary, StandaloneQuestion, make_standalone, strip_slack_markup
from gcot.settings import Settings

log = logging.getLogger(__name__)

COVERAGE = (
    "I can answer questions about the Global Coalition on Telecommunications (GCOT), its partners' "
    "telecoms security and supply-chain policies, 6G and standards work, and telecoms skills frameworks."
)
NO_ANSWER = (
    "I don't have that in the coalition's documents. " + COVERAGE +
    " For anything else, use the button to ask the coalition's outreach team."
)


class AnswerService:
    """Answers questions from the index for one audience at a time.

    Args:
        retriever: hybrid retriever over the ingested index.
        settings: configuration (audience visibilities, generator, refusal threshold).
        generator: "extractive" or "llm". Defaults to `settings.generator`.
        llm: a LangChain chat model for the "llm" generator; built from settings when None.
        k: chunks retrieved per question. Defaults to 8.
    """

    def __init__(
        self,
        retriever: HybridRetriever,
        *,
        settings: Settings,
        generator: str | None = None,
        llm: Any = None,
        k: int = 8,
    ) -> None:
        self.retriever = retriever
        self.settings = settings
        self.k = k
        self.scorer = EvidenceScorer(retriever.lexical, retriever.embedder)
        self.extractive = ExtractiveGenerator(self.scorer)
        self.generator = generator or settings.generator
        self.refusal_threshold = settings.refusal_threshold
        self.glossary = self._load_glossary()
        self._llm_generator = None
        if self.generator == "llm":
            from bot.answer.llm import LLMGenerator

            self._llm_generator = LLMGenerator(llm or LLMGenerator.model_from_settings(settings), scorer=self.scorer)
        self._topics: list[dict[str, Any]] | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> AnswerService:
        """Load the model and indexes once; raises FileNotFoundError if nothing was ingested."""
        settings = settings or Settings()
        return cls(HybridRetriever.from_settings(settings), settings=settings, **kwargs)

    # --- PUBLIC API ----------------------------------------------------------------------------

    def ask(self, question: str, *, audience: str = "staff", history: Sequence[Turn | dict] = ()) -> Answer:
        """Answer `question` for `audience` from the documents that audience may read."""
        started = time.perf_counter()
        history = [turn if isinstance(turn, Turn) else Turn.model_validate(turn) for turn in history]
        cleaned = strip_slack_markup(question)
        answer = Answer(status="no_answer", text=NO_ANSWER, audience=audience, question=cleaned, generator=self.generator)
        if not cleaned:
            answer.reason = "empty_question"
            answer.text = "Ask me a question about the coalition's telecoms documents. " + COVERAGE
            return self._finish(answer, started)
        restricted_ok = set(self.settings.visibilities_for(audience)) - {"public"}
        if (category := out_of_scope(cleaned, may_read_restricted=bool(restricted_ok))) is not None:
            answer.reason = f"out_of_scope:{category}"
            answer.text = DECLINE_MESSAGES[category] + " " + COVERAGE
            return self._finish(answer, started)

        standalone = make_standalone(cleaned, history)
        if self._llm_generator is not None and standalone.context:
            if rewritten := self._llm_generator.condense(cleaned, history):
                standalone = StandaloneQuestion(text=rewritten, question=rewritten)
        answer.standalone_question = standalone.text
        query = self.glossary.expand(standalone.text)
        t0 = time.perf_counter()
        hits = self.retriever.search(query, k=self.k, visibilities=self.settings.visibilities_for(audience))
        answer.timings["retrieve_ms"] = _ms(t0)
        answer.retrieved = hits
        if not hits:
            answer.reason = "no_documents"
            return self._finish(answer, started)

        t0 = time.perf_counter()
        draft = self.extractive.draft(standalone.question, hits, context=standalone.context)
        unknown = self.scorer.unknown_share(standalone.question, self.settings.visibilities_for(audience))
        answer.confidence = round(confidence(draft) * (1.0 - unknown), 4)
        if not draft.sentences or answer.confidence < self.refusal_threshold:
            answer.timings["generate_ms"] = _ms(t0)
            answer.reason = "weak_evidence"
            return self._finish(answer, started)
        if draft.not_covered:
            # The documents say outright that they do not hold this; say so, with the source.
            answer.timings["generate_ms"] = _ms(t0)
            answer.reason = "not_in_documents"
            note, answer.citations = _render(Draft(sentences=draft.sentences[:1]))
            answer.text = f"I don't have that in the coalition's documents. {note} " + COVERAGE
            return self._finish(answer, started)

        if self._llm_generator is not None:
            outcome = self._llm_generator.generate(standalone, hits)
            if outcome.draft is not None:
                draft, answer.generator = outcome.draft, "llm"
            else:
                answer.generator = "extractive-fallback"
                answer.timings["fallback"] = outcome.reason
                log.warning("llm answer replaced by extractive", extra={"answer_id": answer.answer_id, "reason": outcome.reason})
        answer.timings["generate_ms"] = _ms(t0)
        answer.status = "answered"
        answer.reason = ""
        answer.text, answer.citations = _render(draft)
        return self._finish(answer, started)

    def retrieve(self, query: str, *, audience: str = "staff", k: int = 8) -> list[RetrievedChunk]:
        """Hybrid retrieval alone, with the same cleaning, expansion and audience filter as `ask`."""
        cleaned = self.glossary.expand(strip_slack_markup(query))
        return self.retriever.search(cleaned, k=k, visibilities=self.settings.visibilities_for(audience))

    def ready(self) -> dict[str, bool]:
        return {"index_loaded": bool(self.retriever.lexical.chunk_ids), "chroma": self.retriever.store.heartbeat()}

    def topics(self, audience: str) -> list[dict[str, Any]]:
        """Documents `audience` may read: doc_id, title and topics (for suggested prompts)."""
        if self._topics is None:
            seen: dict[str, dict[str, Any]] = {}
            for meta in self.retriever.store.metadatas():
                doc_id = str(meta.get("doc_id", ""))
                if doc_id and doc_id not in seen:
                    seen[doc_id] = {
                        "doc_id": doc_id,
                        "title": str(meta.get("title", "")),
                        "topics": [t for t in str(meta.get("topics", "")).split(",") if t],
                        "visibility": str(meta.get("visibility", "public")),
                    }
            self._topics = sorted(seen.values(), key=lambda d: d["doc_id"])
        allowed = set(self.settings.visibilities_for(audience))
        return [{k: v for k, v in doc.items() if k != "visibility"} for doc in self._topics if doc["visibility"] in allowed]

    # --- internals -----------------------------------------------------------------------------

    def _load_glossary(self) -> Glossary:
        try:
            chunks = self.retriever.store.collection.get(where={"doc_id": "glossary"}, include=["documents"])
        except Exception:  # a store without a glossary still answers, just without acronym expansion
            return Glossary({})
        return Glossary.from_texts(chunks.get("documents") or [])

    def _finish(self, answer: Answer, started: float) -> Answer:
        answer.timings["total_ms"] = _ms(started)
        log.info(
            "answer",
            extra={
                "answer_id": answer.answer_id, "status": answer.status, "reason": answer.reason,
                "audience": answer.audience, "generator": answer.generator, "confidence": answer.confidence,
                "cited": [c.doc_id for c in answer.citations], **{k: v for k, v in answer.timings.items()},
            },
        )
        return answer


def confidence(draft: Draft) -> float:
    """Evidence strength: how well the best sentence matches, and how much of the question the answer covers."""
    return 0.5 * draft.confidence + 0.5 * draft.coverage


def _render(draft: Draft) -> tuple[str, list[Citation]]:
    """Number sources by first use (one number per document) and mark each sentence with its number."""
    citations: dict[str, Citation] = {}
    parts: list[str] = []
    for sentence, hit in draft.sentences:
        citation = citations.get(hit.doc_id)
        if citation is None:
            meta = hit.metadata
            citation = Citation(
                n=len(citations) + 1, doc_id=hit.doc_id, title=str(meta.get("title", hit.doc_id)),
                source_url=str(meta.get("source_url", "")), published=str(meta.get("published", "")),
                snippet=sentence, heading=str(meta.get("heading", "")), page=int(meta.get("page") or 0) or None,
                chunk_id=hit.chunk_id, chunk_ids=[hit.chunk_id],
            )
            citations[hit.doc_id] = citation
        elif hit.chunk_id not in citation.chunk_ids:
            citation.chunk_ids.append(hit.chunk_id)
        parts.append(f"{sentence.rstrip()} [{citation.n}]")
    return " ".join(parts), list(citations.values())


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
