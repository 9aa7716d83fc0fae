"""AnswerService: question (+ audience, + history) -> Answer. The one path every front end uses.

    clean & scope-check -> standalone question -> glossary expansion -> hybrid retrieval filtered to
    the audience -> evidence check (refuse when weak) -> generator (extractive, or LLM with
    validation and extractive fallback) -> numbered citations.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.answer.evidence import EvidenceScorer
from bot.answer.extractive import Draft, ExtractiveGenerator
from bot.answer.facets import COUNTRY_NAMES, Part, membership_query, shape, words
from bot.answer.refusal import RefusalModel, model_file, retrieval_features
from bot.answer.scope import DECLINE_MESSAGES, out_of_scope
from bot.jurisdictions import named_countries
from bot.types import Answer, Citation, RetrievedChunk, Turn
from bot.retrieve.hybrid import HybridRetriever
from bot.retrieve.live import ServingView
from bot.retrieve.identifiers import pin_named_parts
from bot.retrieve.passages import PassageWindow, draft_units, expand_to_passages
from bot.retrieve.query import (
    Glossary, StandaloneQuestion, expand_shorthand, make_standalone, name_the_assistant, split_glued_numbers, strip_slack_markup, topic_first,
)
from bot.retrieve.rerank import rerank_by_best_sentence
from bot.retrieve.spelling import SpellingCorrector
from gcot.settings import Settings
from store.sentences import SentenceVectors

log = logging.getLogger(__name__)

_NEAR_DUPLICATE_COSINE = {"standalone": 0.85, "in_context": 0.95}
"""`ExtractiveGenerator.near_duplicate_cosine` for each kind of stored sentence vector."""

COVERAGE = (
    "I can answer questions about the Global Coalition on Telecommunications (GCOT), its partners' "
    "telecoms security and supply-chain policies, 6G and standards work, and telecoms skills frameworks."
)
# How to reach a person depends on where the question was asked: only Slack has the button.
OUTREACH = {
    "cli": " For anything else, contact the coalition's outreach team; in Slack, the assistant can pass your question on to them.",
    "slack": " For anything else, press \"Ask the outreach team\" below and I'll pass your question on.",
}
SURFACES = tuple(OUTREACH)
NO_ANSWER = "I don't have that in the coalition's documents. " + COVERAGE + OUTREACH["cli"]


class AnswerService:
    """Answers questions from the index for one audience at a time.

    Args:
        retriever: hybrid retriever over the ingested index.
        settings: configuration (audience visibilities, generator, refusal threshold).
        generator: "extractive" or "llm". Defaults to `settings.generator`.
        llm: a LangChain chat model for the "llm" generator; built from settings when None.
        k: chunks retrieved per question. Defaults to 8.
        refusal_model: the answer-or-decline classifier. Defaults to the shipped file for the
            index's kind of sentence vector (`refusal.model_file`).
    """

    def __init__(
        self,
        retriever: HybridRetriever,
        *,
        settings: Settings,
        generator: str | None = None,
        llm: Any = None,
        k: int = 8,
        refusal_model: RefusalModel | None = None,
    ) -> None:
        self.retriever = retriever
        self.settings = settings
        self.k = k
        self.passage_window = PassageWindow(before=settings.passage_before, after=settings.passage_after,
                                            paged_only=settings.passage_paged_only)
        self.generator = generator or settings.generator
        self.refusal_model = refusal_model or RefusalModel.load(model_file(settings.sentence_vectors))
        # GCOT_REFUSAL_THRESHOLD overrides the operating point chosen on dev and stored with the model.
        self.refusal_threshold = settings.refusal_threshold if settings.refusal_threshold is not None else self.refusal_model.threshold
        self._llm_model = None
        if self.generator == "llm":
            from bot.answer.llm import LLMGenerator

            self._llm_model = llm or LLMGenerator.model_from_settings(settings)
        # The scorer holds one index version's term statistics: built with each version, in the background.
        embedder = retriever.embedder
        sentences = SentenceVectors(settings)  # stored at ingest, validated per chunk: version-independent
        retriever.live.prepare("evidence", lambda snapshot: EvidenceScorer(snapshot.lexical, embedder, sentences=sentences))
        self._tools_cache: _Tools | None = None
        self.speller = SpellingCorrector()

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, refresh: bool = False, embedder: Any = None, **kwargs: Any
    ) -> AnswerService:
        """Load the model and the index; raises FileNotFoundError if nothing was ingested.

        Args:
            refresh: poll for new index versions every `index_refresh_s` and swap them in (serving
                processes). Defaults to False (one-shot commands, evals).
            embedder: an already-loaded embedding model. Defaults to loading one.
        """
        settings = settings or Settings()
        service = cls(HybridRetriever.from_settings(settings, embedder=embedder), settings=settings, **kwargs)
        if refresh:
            service.retriever.live.start()
        return service

    # --- PUBLIC API ----------------------------------------------------------------------------

    def ask(
        self, question: str, *, audience: str = "staff", history: Sequence[Turn | dict] = (), surface: str = "cli"
    ) -> Answer:
        """Answer `question` for `audience` from the documents that audience may read.

        Args:
            question: what the user typed (Slack markup is stripped).
            audience: whose documents may be read. Defaults to "staff".
            history: earlier turns of the thread, oldest first.
            surface: "cli" or "slack": where the no-answer text says to turn next. Defaults to "cli".
        """
        if surface not in OUTREACH:
            msg = f"unknown surface {surface!r}; choose from {', '.join(SURFACES)}"
            raise ValueError(msg)
        started = time.perf_counter()
        view = self.retriever.live.current()  # this answer uses one index version throughout
        tools = self._tools(view)
        history = [turn if isinstance(turn, Turn) else Turn.model_validate(turn) for turn in history]
        cleaned = strip_slack_markup(question)
        answer = Answer(status="no_answer", text=_no_answer(surface), audience=audience, question=cleaned, generator=self.generator)
        answer.timings["index_version"] = view.version
        if not cleaned:
            answer.reason = "empty_question"
            answer.text = "Ask me a question about the coalition's telecoms documents. " + COVERAGE
            return self._finish(answer, started)
        restricted_ok = set(self.settings.visibilities_for(audience)) - {"public"}
        if (category := out_of_scope(cleaned, may_read_restricted=bool(restricted_ok))) is not None:
            answer.reason = f"out_of_scope:{category}"
            answer.text = DECLINE_MESSAGES[category] + " " + COVERAGE
            return self._finish(answer, started)

        standalone = self._standalone(cleaned, history, view)
        if tools.llm is not None and standalone.context:
            if rewritten := tools.llm.condense(cleaned, history):
                standalone = StandaloneQuestion(text=rewritten, question=rewritten)
        answer.standalone_question = standalone.text
        query = _search_query(standalone, view.glossary)
        t0 = time.perf_counter()
        hits = self._retrieve(standalone.question, query, view, self.settings.visibilities_for(audience), k=self.k)
        answer.timings["retrieve_ms"] = _ms(t0)
        answer.retrieved = hits
        if not hits:
            answer.reason = "no_documents"
            return self._finish(answer, started)

        t0 = time.perf_counter()
        visibilities = self.settings.visibilities_for(audience)
        units = draft_units(hits)  # a passage is quoted chunk by chunk, each with its own page
        draft = tools.extractive.draft(standalone.question, units, context=standalone.context, aliases=_aliases(view.glossary, standalone.question, tools.scorer))
        features = evidence_features(tools.scorer, draft, query, standalone.question, hits, visibilities)
        answer.confidence = round(self.refusal_model.probability(features), 4) if draft.sentences else 0.0
        if not draft.sentences or answer.confidence < self.refusal_threshold:
            answer.timings["generate_ms"] = _ms(t0)
            answer.reason = "weak_evidence"
            return self._finish(answer, started)
        if draft.not_covered:
            # Nothing affirmative answers it, and the documents say outright they do not hold it: say so, cited.
            answer.timings["generate_ms"] = _ms(t0)
            answer.reason = "not_in_documents"
            note, answer.citations = _render(Draft(sentences=draft.sentences[:1]))
            answer.text = f"I don't have that in the coalition's documents. {note} " + COVERAGE + OUTREACH[surface]
            return self._finish(answer, started)

        if tools.llm is not None:
            outcome = tools.llm.generate(standalone, units)
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

    def refusal_features(self, question: str, *, audience: str = "staff", history: Sequence[Turn | dict] = ()) -> dict[str, float] | None:
        """The refusal classifier's inputs for `question`, as `ask` computes them (for training and audits).

        Returns None when `ask` would decline before scoring evidence (empty, out of scope, nothing retrieved).
        """
        view = self.retriever.live.current()
        tools = self._tools(view)
        cleaned = strip_slack_markup(question)
        restricted_ok = set(self.settings.visibilities_for(audience)) - {"public"}
        if not cleaned or out_of_scope(cleaned, may_read_restricted=bool(restricted_ok)) is not None:
            return None
        history = [turn if isinstance(turn, Turn) else Turn.model_validate(turn) for turn in history]
        standalone = self._standalone(cleaned, history, view)
        query = _search_query(standalone, view.glossary)
        visibilities = self.settings.visibilities_for(audience)
        hits = self._retrieve(standalone.question, query, view, visibilities, k=self.k)
        if not hits:
            return None
        draft = tools.extractive.draft(standalone.question, draft_units(hits), context=standalone.context, aliases=_aliases(view.glossary, standalone.question, tools.scorer))
        return evidence_features(tools.scorer, draft, query, standalone.question, hits, visibilities) if draft.sentences else None

    def retrieve(self, query: str, *, audience: str = "staff", k: int = 8) -> list[RetrievedChunk]:
        """Retrieval alone (passages, as `ask` reads them), with the same cleaning, expansion and audience filter."""
        view = self.retriever.live.current()
        cleaned = strip_slack_markup(query)
        query = _search_query(StandaloneQuestion(text=cleaned, question=cleaned), view.glossary)
        return self._retrieve(cleaned, query, view, self.settings.visibilities_for(audience), k=k)

    def ready(self) -> dict[str, Any]:
        """Readiness: the serving version has chunks, Chroma answers; `index_version` names that version."""
        view = self.retriever.live.current()
        return {"index_loaded": bool(view.snapshot.lexical.chunk_ids), "chroma": view.snapshot.heartbeat(),
                "index_version": view.version}

    def topics(self, audience: str) -> list[dict[str, Any]]:
        """Documents `audience` may read: doc_id, title and topics (for suggested prompts)."""
        allowed = set(self.settings.visibilities_for(audience))
        return [{k: v for k, v in doc.items() if k != "visibility"} for doc in self.retriever.live.current().topics
                if doc["visibility"] in allowed]

    def recent_documents(self, audience: str, limit: int = 5) -> list[dict[str, Any]]:
        """Documents `audience` may read, most recently added or changed first (Slack's App Home)."""
        records = self.retriever.live.current().snapshot.documents(visibilities=self.settings.visibilities_for(audience))
        newest = sorted(records, key=lambda r: (r.updated_at or r.published or "", r.doc_id), reverse=True)[:limit]
        return [{"doc_id": r.doc_id, "title": r.title, "source_url": r.source_url, "published": r.published,
                 "updated_at": r.updated_at} for r in newest]

    @property
    def glossary(self) -> Glossary:
        """The serving version's glossary."""
        return self.retriever.live.current().glossary

    @property
    def scorer(self) -> EvidenceScorer:
        """The serving version's evidence scorer."""
        return self.retriever.live.current().extras["evidence"]

    # --- internals -----------------------------------------------------------------------------

    def _retrieve(self, question: str, query: str, view: ServingView, visibilities: Sequence[str], *, k: int) -> list[RetrievedChunk]:
        """The k passages `ask` reads: hybrid hits, the parts the question names, both sides of a comparison, widened to passages."""
        # A chunk inside a better-ranked passage opens none of its own: fetch more to still fill k.
        fetch = k if self.passage_window.empty else 2 * k
        hits = self.retriever.search(query, k=fetch, visibilities=visibilities, snapshot=view.snapshot)
        hits = self._rerank(query, hits, view)
        hits = pin_named_parts(question, hits, view.snapshot, visibilities, max_chunks=self.settings.identifier_max_chunks)
        hits = self._cover_parts(question, hits, view, visibilities, k=fetch)
        return expand_to_passages(hits, view.snapshot, self.passage_window, k=k)

    def _rerank(self, query: str, hits: list[RetrievedChunk], view: ServingView) -> list[RetrievedChunk]:
        """Reorder by each chunk's best sentence too (bot/retrieve/rerank.py); only when every hit has stored sentence vectors.

        With `rerank_paged_only` (the default) only PDF chunks move, among the places PDF chunks hold.
        """
        weight = self.settings.rerank_sentence_weight
        movable = [bool(hit.metadata.get("page")) or not self.settings.rerank_paged_only for hit in hits]
        if weight <= 0 or sum(movable) < 2:
            return hits
        vectors = view.extras["evidence"].stored_sentence_vectors(hits)
        if vectors is None:
            return hits
        query_vector = self.retriever.embedder.embed_query(query)
        return rerank_by_best_sentence(hits, vectors, query_vector, weight=weight, movable=movable)

    def _cover_parts(self, question: str, hits: list[RetrievedChunk], view: ServingView, visibilities: Sequence[str], *, k: int) -> list[RetrievedChunk]:
        """For a comparison or a multi-part question, search each side or part on its own too, so every part's documents are read.

        "How do UK and US approaches differ?" ranks UK documents first; the answer needs the best
        chunks for each side. Each side's top chunks are interleaved after the whole question's best chunk and
        ahead of the rest (k kept).
        """
        question_shape = shape(question)
        if question_shape.kind not in ("comparison", "multi") or not hits:
            return hits
        per_side = []
        for part in question_shape.parts:
            side_query = part.text if question_shape.kind == "multi" else _side_query(question, part, question_shape.parts)
            # "US" is a stop word to BM25 and a weak signal to the embedding: add the country's name.
            side_query += "".join(f" ({long_name})" for w in part.key_words if (long_name := COUNTRY_NAMES.get(w)))
            # Searched deep, since hits about the other side are dropped: "high-risk vendors" is the UK's
            # term, and the US law on them ranked 15th for the US side of "UK and US approaches to ...".
            found = self.retriever.search(view.glossary.expand(side_query), k=16, visibilities=visibilities, snapshot=view.snapshot)
            on_side = [hit for hit in found if _about_side(part.text, hit)]
            on_side.sort(key=lambda hit: not _names_side(part.text, hit))  # one naming this side's country first
            per_side.append(on_side[:2] or found[:2])
        merged: dict[str, RetrievedChunk] = {}
        # The whole question's best chunk stays first: it is usually the one passage that speaks to every part.
        for group in [hits[:1], *zip(*per_side), hits]:
            for hit in group:
                merged.setdefault(hit.chunk_id, hit)
        return list(merged.values())[:k]

    def _standalone(self, cleaned: str, history: Sequence[Turn], view: ServingView) -> StandaloneQuestion:
        """What is searched for: "nofo2" as "nofo 2", "lvl" as "level", "wireles" as "wireless", the assistant called by its name, a follow-up joined to its thread.
        `ask` and `refusal_features` share it, so the classifier is trained on what answering sees."""
        frequency = view.extras["evidence"].lexical.document_frequency
        cleaned = expand_shorthand(split_glued_numbers(cleaned, frequency=frequency), frequency=frequency)
        cleaned = self.speller.correct(cleaned, frequency=frequency)
        return make_standalone(topic_first(name_the_assistant(cleaned, self.settings.assistant_name)), history)

    def _tools(self, view: ServingView) -> _Tools:
        """The generators over `view`'s scorer, made once per version (cheap: they only hold references)."""
        cached = self._tools_cache
        if cached is not None and cached.version == view.version:
            return cached
        scorer = view.extras["evidence"]
        llm = None
        if self._llm_model is not None:
            from bot.answer.llm import LLMGenerator

            llm = LLMGenerator(self._llm_model, scorer=scorer)
        self._tools_cache = tools = _Tools(view.version, scorer, ExtractiveGenerator(scorer, near_duplicate_cosine=_NEAR_DUPLICATE_COSINE[self.settings.sentence_vectors]), llm)
        return tools

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


@dataclass(frozen=True)
class _Tools:
    version: str
    scorer: EvidenceScorer
    extractive: ExtractiveGenerator
    llm: Any


def evidence_features(
    scorer: EvidenceScorer, draft: Draft, query: str, question: str, hits: Sequence[RetrievedChunk], visibilities: Sequence[str]
) -> dict[str, float]:
    """Everything the refusal classifier reads for one question (names: `bot.answer.refusal.FEATURES`)."""
    return {
        **draft.features,
        "unknown_share": scorer.unknown_share(question, visibilities),
        **retrieval_features(scorer, query, question, hits, visibilities),
    }


def _side_query(question: str, side: Part, sides: Sequence[Part]) -> str:
    """A comparison's side, searched alone: the question without the other sides' words ("how do UK and US
    approaches differ" -> "how do UK approaches differ")."""
    others = {w for other in sides if other is not side for w in other.key_words}
    return " ".join(w for w in question.split() if not set(words(re.sub(r"'s\b", "", w))) & others)


def _about_side(side: str, hit: RetrievedChunk) -> bool:
    """The hit may answer this side of a comparison: its title and heading name none of the countries or
    all-other countries. For "UK and US approaches", the UK's high-risk vendor page is no US side."""
    asked, named = named_countries(side), _title_countries(hit)
    return not asked or not named or bool(asked & named)


def _names_side(side: str, hit: RetrievedChunk) -> bool:
    """The hit's title or heading names a country this side names."""
    return bool(named_countries(side) & _title_countries(hit))


def _title_countries(hit: RetrievedChunk) -> frozenset[str]:
    return named_countries(f"{hit.metadata.get('title', '')} {hit.metadata.get('heading', '')}")


def _search_query(standalone: StandaloneQuestion, glossary: Glossary) -> str:
    """What is searched: the standalone question with acronyms spelled out and, for "who are X's members",
    the words documents use for belonging."""
    return membership_query(standalone.question, glossary.expand(standalone.text))


def _no_answer(surface: str) -> str:
    return "I don't have that in the coalition's documents. " + COVERAGE + OUTREACH[surface]


def _aliases(glossary: Glossary, question: str, scorer: EvidenceScorer) -> dict[str, set[str]]:
    """Acronym token -> tokens of its expansion, for the acronyms the question uses ("TSA" -> the Act's name)."""
    expanded = glossary.expand(question)
    if expanded == question:
        return {}
    aliases: dict[str, set[str]] = {}
    for acronym, expansion in glossary.entries.items():
        if expansion in expanded and expansion not in question:
            tokens = scorer.lexical.query_tokens(acronym)
            if len(tokens) == 1:
                aliases[tokens[0]] = set(scorer.lexical.query_tokens(expansion)) - set(tokens)
    return aliases


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
