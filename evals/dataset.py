"""Eval question files: JSON Lines, one question per line, validated with pydantic.

The format is documented in `evals/README.md`. `load_questions` reads a whole file and reports every
problem at once, each with its line number, so a file with five mistakes needs one fix-up round.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class DatasetError(ValueError):
    """An eval file that does not follow the format; `problems` holds one `path:line: reason` each."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        shown = "\n".join(f"  {problem}" for problem in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{path}: {len(problems)} problem(s) in the eval file\n{shown}{more}")


class HistoryTurn(BaseModel):
    """One earlier message of the conversation the question continues."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class EvalQuestion(BaseModel):
    """One eval question.

    `expect` is a list of facts; each fact is a list of accepted surface forms (any one of them
    counts). Unanswerable questions have no facts: the right result for them is `no_answer`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    answerable: bool
    expect: list[list[str]] = Field(default_factory=list)
    gold_doc_ids: list[str] = Field(default_factory=list)
    history: list[HistoryTurn] = Field(default_factory=list)
    category: str = "uncategorised"
    split: Literal["dev", "test"] | None = None
    """`dev` (everything tuned sees only these) or `test` (reported, never tuned on); recorded in the file."""

    @field_validator("expect")
    @classmethod
    def _facts_have_forms(cls, facts: list[list[str]]) -> list[list[str]]:
        for index, forms in enumerate(facts):
            if not forms:
                msg = f"fact {index} has no surface forms"
                raise ValueError(msg)
            if any(not form.strip() for form in forms):
                msg = f"fact {index} has an empty surface form"
                raise ValueError(msg)
        return facts

    @model_validator(mode="after")
    def _expect_matches_answerable(self) -> EvalQuestion:
        if self.answerable and not self.expect:
            msg = "answerable questions need at least one expected fact"
            raise ValueError(msg)
        if not self.answerable and self.expect:
            msg = "unanswerable questions must have expect: []"
            raise ValueError(msg)
        return self


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_questions(lines: list[str], *, path: Path = Path("<questions>")) -> list[EvalQuestion]:
    """Validate JSON Lines text (blank lines are skipped).

    Raises:
        DatasetError: listing every bad line, and every duplicate id with the line that used it first.
    """
    questions: list[EvalQuestion] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
            continue
        try:
            question = EvalQuestion.model_validate(record)
        except ValidationError as exc:
            label = f" ({record['id']})" if isinstance(record.get("id"), str) else ""
            problems.append(f"{path}:{number}{label}: {_describe(exc)}")
            continue
        if question.id in first_line:
            problems.append(f"{path}:{number}: duplicate id {question.id!r} (first used on line {first_line[question.id]})")
            continue
        first_line[question.id] = number
        questions.append(question)
    if not questions and not problems:
        problems.append(f"{path}: no questions")
    if problems:
        raise DatasetError(path, problems)
    return questions


def load_questions(path: Path, *, split: str | None = None) -> list[EvalQuestion]:
    """Read and validate an eval file.

    Args:
        path: a JSON Lines file in the format of `evals/README.md`.
        split: keep only the questions of this split (`dev` or `test`). Defaults to all.

    Returns:
        The questions in file order.

    Raises:
        DatasetError: with one line-numbered reason per problem.
        FileNotFoundError: when the file does not exist.

    Example:
        >>> questions = load_questions(Path("evals/datasets/gcot.jsonl"))
        >>> questions[0].expect
        [['5 October 2023']]
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    questions = parse_questions(text.splitlines(), path=path)
    if split is None:
        return questions
    if split not in ("dev", "test"):
        msg = f"unknown split {split!r}; choose dev or test"
        raise ValueError(msg)
    return [q for q in questions if q.split == split]


# --- coverage against a corpus ------------------------------------------------------------------


def load_corpus_texts(folders: list[Path]) -> dict[str, str]:
    """doc_id -> title and text of every document the ingest job would load from `folders`."""
    from ingest.loaders import SUPPORTED_SUFFIXES, LoadError, load_document
    from ingest.metadata import SIDECAR_SUFFIX, MetadataError

    texts: dict[str, str] = {}
    for folder in folders:
        root = Path(folder).resolve()
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            if any(p.startswith((".", "_")) for p in parts) or not path.is_file() or path.name.endswith(SIDECAR_SUFFIX):
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES or path.name.lower() in {"readme.md", "license", "license.md"}:
                continue
            try:
                document = load_document(path, root)
            except (LoadError, MetadataError):
                continue
            texts[document.meta.doc_id] = f"{document.meta.title}\n{document.text}"
    return texts


def coverage(questions: list[EvalQuestion], corpus: dict[str, str] | None = None) -> dict[str, object]:
    """Counts the issue asks for, and problems: unknown gold ids, facts absent from their gold
    documents, corpus documents with fewer than two questions (the last two need `corpus`)."""
    from collections import Counter

    from evals.metrics import facts_found

    per_doc: Counter[str] = Counter(doc for q in questions for doc in q.gold_doc_ids)
    counts: dict[str, object] = {
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "unanswerable": sum(not q.answerable for q in questions),
        "follow_ups": sum(bool(q.history) for q in questions),
        "by_audience": dict(sorted(Counter(q.audience for q in questions).items())),
        "by_category": dict(sorted(Counter(q.category for q in questions).items())),
    }
    problems: list[str] = []
    if corpus is not None:
        for q in questions:
            unknown = [doc for doc in q.gold_doc_ids if doc not in corpus]
            if unknown:
                problems.append(f"{q.id}: unknown gold doc id(s) {unknown}")
            gold_text = "\n".join(corpus[doc] for doc in q.gold_doc_ids if doc in corpus)
            if q.answerable and gold_text:
                for forms, found in zip(q.expect, facts_found(q.expect, gold_text), strict=True):
                    if not found:
                        problems.append(f"{q.id}: no form of fact {forms} occurs in its gold documents")
        thin = sorted(doc for doc in corpus if per_doc[doc] < 2)
        counts["documents"] = len(corpus)
        counts["documents_with_2_or_more"] = len(corpus) - len(thin)
        problems.extend(f"document {doc}: only {per_doc[doc]} question(s) (want >= 2)" for doc in thin)
    return {"counts": counts, "problems": problems}
