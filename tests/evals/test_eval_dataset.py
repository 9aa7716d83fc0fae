"""Eval file loading: the format is enforced with line-numbered errors; the shipped set meets the issue's counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.dataset import DatasetError, coverage, load_corpus_texts, load_questions, parse_questions

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GCOT_SET = PROJECT_ROOT / "evals" / "datasets" / "gcot.jsonl"

GOOD = {
    "id": "q001", "question": "How much did the UK commit to the Technology Missions Fund?", "audience": "industry",
    "answerable": True, "expect": [["£70 million", "£70m"], ["Future Telecoms"]], "gold_doc_ids": ["uk-tmf"],
    "history": [], "category": "coalition",
}


def _line(**changes: object) -> str:
    record = {**GOOD, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not ...})


def test_the_issue_example_loads() -> None:
    [question] = parse_questions([_line()])
    assert question.expect == [["£70 million", "£70m"], ["Future Telecoms"]]
    assert question.gold_doc_ids == ["uk-tmf"]


def test_optional_fields_default() -> None:
    [question] = parse_questions([_line(gold_doc_ids=..., history=..., category=...)])
    assert question.gold_doc_ids == [] and question.history == [] and question.category == "uncategorised"


def test_history_turns_are_validated() -> None:
    [question] = parse_questions([_line(history=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])])
    assert [turn.role for turn in question.history] == ["user", "assistant"]
    with pytest.raises(DatasetError, match=r"history\.0\.role"):
        parse_questions([_line(history=[{"role": "system", "content": "x"}])])


def test_every_problem_is_reported_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                _line(),
                "{not json",
                "",
                _line(id="q2", answerable=False),  # unanswerable with facts
                _line(id="q3", expect=[]),  # answerable without facts
                _line(id="q001"),  # duplicate
                _line(id="q5", expect=[[]]),  # a fact with no forms
                _line(id="q6", extra="field"),
                json.dumps(["a", "list"]),
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(DatasetError) as caught:
        load_questions(path)
    problems = caught.value.problems
    assert problems[0].startswith(f"{path}:2: not valid JSON")
    assert f"{path}:4 (q2): unanswerable questions must have expect: []" in problems
    assert f"{path}:5 (q3): answerable questions need at least one expected fact" in problems
    assert f"{path}:6: duplicate id 'q001' (first used on line 1)" in problems
    assert any(p.startswith(f"{path}:7 (q5): expect: fact 0 has no surface forms") for p in problems)
    assert any(p.startswith(f"{path}:8 (q6): extra:") for p in problems)
    assert f"{path}:9: expected a JSON object, got list" in problems
    assert len(problems) == 7
    assert "7 problem(s)" in str(caught.value)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no questions"):
        load_questions(path)


def test_shipped_set_meets_the_issue_counts() -> None:
    questions = load_questions(GCOT_SET)
    corpus = load_corpus_texts([PROJECT_ROOT / "corpus", PROJECT_ROOT / "tests" / "fixtures" / "restricted"])
    stats = coverage(questions, corpus)
    counts = stats["counts"]
    assert stats["problems"] == []  # gold ids exist, every fact occurs in its gold docs, >= 2 questions per doc
    assert counts["questions"] >= 150
    assert counts["unanswerable"] >= 30
    assert counts["follow_ups"] >= 20
    assert all(n >= 20 for n in counts["by_audience"].values()) and len(counts["by_audience"]) == 3
    assert counts["by_category"]["adversarial"] >= 15
    external = [q for q in questions if q.category == "adversarial" and q.audience != "staff"]
    assert len(external) >= 15


def test_shipped_set_records_a_stratified_dev_test_split() -> None:
    from collections import Counter

    questions = load_questions(GCOT_SET)
    assert all(q.split in ("dev", "test") for q in questions), "every question carries its split"
    dev, test = load_questions(GCOT_SET, split="dev"), load_questions(GCOT_SET, split="test")
    assert len(dev) + len(test) == len(questions) and abs(len(dev) - len(test)) <= 0.1 * len(questions)
    strata = Counter((q.category, q.audience, q.split) for q in questions)
    for category, audience in {(q.category, q.audience) for q in questions}:
        # Stratified: within every (category, audience) group the halves differ by at most two questions.
        assert abs(strata[(category, audience, "dev")] - strata[(category, audience, "test")]) <= 2, (category, audience)
    fresh = [q for q in questions if q.id.startswith("n-")]
    assert len(fresh) >= 80 and {q.split for q in fresh} == {"dev", "test"}
    assert sum(not q.answerable for q in fresh) >= 15


def test_unknown_split_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown split 'train'"):
        load_questions(GCOT_SET, split="train")
