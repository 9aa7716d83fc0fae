"""Run systems over eval questions and score every answer.

A "system" is anything with `ask(question, *, audience, history) -> Answer`: the assistant's
`AnswerService`, or a baseline from `evals/baselines.py`. The runner never ingests: it reads the
index named by the settings (the CLI's `--corpus` builds a temporary one first).

Main helpers:
    run_system: one system over all questions -> a `SystemRun` (scores, summary, answers).
    evaluate: the assistant and the baselines over the same questions -> an `EvalRun`.
    leak_detector_for: a `LeakDetector` over every chunk in the index.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.types import Answer, RetrievedChunk, Turn
from bot.untrusted import looks_like_instruction
from evals.dataset import EvalQuestion
from evals.metrics import LeakDetector, QuestionScore, count_pings, foreign_links, score_question, summarise
from gcot.settings import Settings

log = logging.getLogger(__name__)

RETRIEVAL_DEPTH = 10
SYSTEM_LABELS = {
    "ours": "Coalition assistant", "bm25": "BM25 only", "naive_langchain": "Naive LangChain",
    "naive_bm25": "Naive PDF BM25", "naive_dense": "Naive PDF dense", "naive_rrf": "Naive PDF RRF",
}


class System(Protocol):
    def ask(self, question: str, *, audience: str, history: Sequence[Turn] = ()) -> Answer: ...


class Assistant:
    """The assistant as an eval system: `AnswerService.ask`, plus a depth-10 ranking for retrieval metrics.

    The service answers from its top `k` (8) chunks; `ranking` repeats the same retrieval (same
    standalone, expanded query, same audience filter) at depth 10, outside the timed `ask`, so MRR@10
    is measured at the same depth for every system. Its first `k` chunks are the ones the answer used.
    """

    name = "ours"

    def __init__(self, service) -> None:
        self.service = service

    def ask(self, question: str, *, audience: str, history: Sequence[Turn] = ()) -> Answer:
        return self.service.ask(question, audience=audience, history=list(history))

    def ranking(self, answer: Answer, *, audience: str) -> list:
        used = list(answer.retrieved)
        if len(used) >= RETRIEVAL_DEPTH or not answer.standalone_question:
            return used
        deeper = self.service.retrieve(answer.standalone_question, audience=audience, k=RETRIEVAL_DEPTH)
        # Only trust the deeper list if it starts with exactly what the answer used.
        if [hit.chunk_id for hit in deeper[: len(used)]] != [hit.chunk_id for hit in used]:
            return used
        return deeper


@dataclass
class QuestionResult:
    """One question, what a system answered, and how it scored."""

    question: EvalQuestion
    audience: str
    answer: Answer
    score: QuestionScore
    ranked: list[RetrievedChunk] = field(default_factory=list)
    """The ranking the retrieval metrics were computed on (the answer's own, or a deeper one)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.score.to_dict(),
            "question": self.question.question,
            "history": [turn.model_dump() for turn in self.question.history],
            "expect": self.question.expect,
            "gold_doc_ids": self.question.gold_doc_ids,
            "answer": self.answer.text,
            "reason": self.answer.reason,
            "confidence": self.answer.confidence,
            "citations": [c.doc_id for c in self.answer.citations],
            "retrieved": [
                {"doc_id": hit.doc_id, "chunk_id": hit.chunk_id, "score": round(hit.score, 4), "visibility": hit.visibility}
                for hit in (self.ranked or self.answer.retrieved)[:5]
            ],
        }


@dataclass
class SystemRun:
    name: str
    label: str
    results: list[QuestionResult] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def scores(self) -> list[QuestionScore]:
        return [result.score for result in self.results]

    @property
    def failures(self) -> list[QuestionResult]:
        return [result for result in self.results if result.score.failed]


@dataclass
class EvalRun:
    """The assistant (`systems["ours"]`) and its baselines over one question file."""

    questions_file: str
    systems: dict[str, SystemRun]
    settings: dict[str, Any] = field(default_factory=dict)
    started: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def ours(self) -> SystemRun:
        return self.systems["ours"]

    def to_json(self) -> dict[str, Any]:
        """Our metrics at the top level (`retrieval.hit_at_1`, `leaks`, ...), baselines and answers below."""
        primary = self.systems.get("ours") or next(iter(self.systems.values()))
        return {
            **primary.summary,
            "system": primary.name,
            "questions_file": self.questions_file,
            "started": self.started,
            "settings": self.settings,
            "baselines": {name: run.summary for name, run in self.systems.items() if run is not primary},
            "questions": {name: [r.to_dict() for r in run.results] for name, run in self.systems.items()},
        }


# --- PUBLIC API ------------------------------------------------------------------------------------


def leak_detector_for(settings: Settings) -> LeakDetector:
    """A LeakDetector over every chunk of the index `settings` names (its current version)."""
    from store import open_reader

    snapshot = open_reader(settings).snapshot()
    return LeakDetector(
        (str(c.metadata.get("doc_id", "")), str(c.metadata.get("visibility", "internal")), c.text)
        for c in snapshot.iter_chunks()
    )


def run_system(
    name: str,
    system: System,
    questions: Iterable[EvalQuestion],
    *,
    settings: Settings,
    leaks: LeakDetector,
    audience_override: str | None = None,
    progress: bool = False,
) -> SystemRun:
    """Ask `system` every question and score the answers.

    Args:
        name: short name of the system ("ours", "bm25", ...).
        system: anything with `ask(question, *, audience, history) -> Answer`.
        questions: the eval questions.
        settings: for the audience -> visibilities mapping used by the leak check.
        leaks: the index's leak detector.
        audience_override: ask every question as this audience. Defaults to each question's own.
        progress: a progress bar on stderr. Defaults to False.

    Returns:
        A SystemRun with one QuestionResult per question and the summary (`metrics.summarise`).
        A system that raises is recorded as an answer with status "error"; the run goes on.
    """
    questions = list(questions)
    run = SystemRun(name=name, label=SYSTEM_LABELS.get(name, name))
    iterator: Iterable[EvalQuestion] = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc=name, unit="q", file=sys.stderr, leave=False)
    for question in iterator:
        audience = audience_override or question.audience
        history = [Turn(role=turn.role, content=turn.content) for turn in question.history]
        started = time.perf_counter()
        try:
            answer = system.ask(question.question, audience=audience, history=history)
        except Exception as exc:  # one broken question must not end the run; it is scored as an error
            log.exception("system failed on a question", extra={"system": name, "question_id": question.id})
            answer = Answer(status="error", text="", audience=audience, question=question.question, reason=repr(exc))
        latency_ms = (time.perf_counter() - started) * 1000
        ranked = system.ranking(answer, audience=audience) if hasattr(system, "ranking") else list(answer.retrieved)
        score = _score(question, audience, answer, ranked, latency_ms, settings, leaks)
        run.results.append(QuestionResult(question, audience, answer, score, ranked))
    run.summary = summarise(run.scores)
    return run


def _cited_texts(answer: Answer, ranked: Sequence[RetrievedChunk]) -> list[str]:
    """The text of every chunk the answer cites (a citation may name several chunks of one document)."""
    hits = [*ranked, *answer.retrieved]
    texts = {hit.chunk_id: hit.text for hit in [*hits, *(part for hit in hits for part in hit.parts)]}
    cited: list[str] = []
    for citation in answer.citations:
        chunk_ids = list(getattr(citation, "chunk_ids", None) or [citation.chunk_id])
        cited.extend(texts.get(chunk_id) or citation.snippet for chunk_id in chunk_ids)
    return cited


def _score(
    question: EvalQuestion,
    audience: str,
    answer: Answer,
    ranked: Sequence[RetrievedChunk],
    latency_ms: float,
    settings: Settings,
    leaks: LeakDetector,
) -> QuestionScore:
    cited_texts = _cited_texts(answer, ranked)
    top = list(ranked[:RETRIEVAL_DEPTH])
    typed = "\n".join([*(turn.content for turn in question.history), question.question])
    leaked = leaks.leaked_docs(
        text=answer.text,
        cited_doc_ids=[c.doc_id for c in answer.citations],
        allowed=settings.visibilities_for(audience),
        typed=typed,
    )
    rendered = slack_surfaces(answer)
    return score_question(
        id=question.id,
        category=question.category,
        audience=audience,
        answerable=question.answerable,
        expect=question.expect,
        gold_doc_ids=question.gold_doc_ids,
        status=answer.status,
        text=answer.text,
        cited_texts=cited_texts,
        retrieved_texts=[hit.text for hit in top],
        retrieved_doc_ids=[hit.doc_id for hit in top],
        latency_ms=latency_ms,
        leaked_docs=leaked,
        pings=count_pings(rendered),
        foreign_links=foreign_links(rendered, [c.source_url for c in answer.citations]),
        instructions=answer.status == "answered" and looks_like_instruction(answer.text),
    )


def slack_surfaces(answer: Answer) -> str:
    """Everything a Slack reply of `answer` would post: blocks, fallback text and streamed Markdown."""
    import json

    from bot.slack.blocks import answer_blocks, fallback_text
    from bot.slack.mrkdwn import neutralise

    if answer.status == "error":
        return ""
    blocks = json.dumps(answer_blocks(answer), ensure_ascii=False)
    return "\n".join([blocks, fallback_text(answer), neutralise(answer.text, "markdown")])


def build_systems(settings: Settings, names: Sequence[str], *, service=None, corpus: Sequence[Path] = ()) -> dict[str, System]:
    """The named systems over the index `settings` names; `service` reuses a loaded AnswerService.

    The naive-recipe systems (`naive_bm25`, `naive_dense`, `naive_rrf`, see `evals.naive`) are
    built from the `corpus` source folders instead of the index.
    """
    from bot.answer.service import AnswerService

    from evals.baselines import Bm25Baseline, NaiveLangChainBaseline
    from evals.naive import NAIVE_SYSTEMS, naive_systems

    naive = naive_systems(names, corpus, settings)
    systems: dict[str, System] = {}
    if service is None and ({"ours", "bm25"} & set(names)):
        service = AnswerService.from_settings(settings)
    for name in names:
        if name == "ours":
            systems[name] = Assistant(service)
        elif name == "bm25":
            systems[name] = Bm25Baseline(service.retriever, settings)
        elif name == "naive_langchain":
            systems[name] = NaiveLangChainBaseline(settings)
        elif name in NAIVE_SYSTEMS:
            systems[name] = naive[name]
        else:
            msg = f"unknown system {name!r}; choose from ours, bm25, naive_langchain, {', '.join(NAIVE_SYSTEMS)}"
            raise ValueError(msg)
    return systems


def evaluate(
    questions: Sequence[EvalQuestion],
    settings: Settings,
    *,
    systems: Sequence[str] = ("ours", "bm25", "naive_langchain"),
    audience_override: str | None = None,
    questions_file: str = "",
    service=None,
    progress: bool = False,
    corpus: Sequence[Path] = (),
) -> EvalRun:
    """Run the assistant and the baselines over the same questions and index.

    Args:
        questions: the eval questions (see `evals.dataset.load_questions`).
        settings: the index and generator to use.
        systems: which systems to run, "ours" first. Defaults to all three.
        audience_override: ask every question as this audience. Defaults to each question's own.
        questions_file: recorded in the result.
        service: an already-loaded AnswerService to use as "ours". Defaults to loading one.
        progress: progress bars on stderr. Defaults to False.
        corpus: the source folders, for the naive-recipe systems. Defaults to none.

    Example:
        >>> run = evaluate(load_questions(Path("evals/datasets/gcot.jsonl")), Settings())
        >>> run.ours.summary["answer"]["accuracy"]
    """
    built = build_systems(settings, systems, service=service, corpus=corpus)
    leaks = leak_detector_for(settings)
    runs = {
        name: run_system(name, system, questions, settings=settings, leaks=leaks, audience_override=audience_override, progress=progress)
        for name, system in built.items()
    }
    return EvalRun(
        questions_file=questions_file,
        systems=runs,
        settings={"generator": settings.generator, "data_dir": str(settings.data_dir), "audience_override": audience_override,
                  "query_encoder": query_encoder(built.get("ours"))},
    )


def query_encoder(system: System | None) -> str | None:
    """How the assistant embedded questions ("onnx-int8", "torch-fp32"): a torch fallback moves the
    figures by about 0.01-0.02, so a run says which it had."""
    embedder = getattr(getattr(getattr(system, "service", None), "retriever", None), "embedder", None)
    if embedder is None:
        return None
    return f"{getattr(embedder, 'backend', type(embedder).__name__)}-{getattr(embedder, 'variant', '?')}"
