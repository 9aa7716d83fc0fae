"""The CI gate: the in-domain eval (dev split of evals/datasets/gcot.jsonl) against evals/thresholds.toml.

Runs the assistant only (the baselines are for `gcot eval run`), over the session's index of
`corpus/` plus the synthetic restricted fixtures, so the adversarial questions can leak if the
access control is broken. The run's JSON and reports are left in `evals/reports/ci-gate.*`
(ignored by git) for whoever has to read a failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.dataset import load_questions
from evals.gate import THRESHOLDS_FILE, check, load_thresholds
from evals.runner import EvalRun, evaluate

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GCOT_SET = PROJECT_ROOT / "evals" / "datasets" / "gcot.jsonl"
REPORTS = PROJECT_ROOT / "evals" / "reports"

# The module fixture asks the ~140 dev questions (a few seconds each on a busy two-core machine); the
# suite-wide 600 s per-test timeout would count all of that against the first test.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def in_domain_run(corpus_index, query_embedder) -> EvalRun:
    from bot.answer.service import AnswerService
    from bot.retrieve.hybrid import HybridRetriever
    from evals.report import write_reports

    service = AnswerService(HybridRetriever.from_settings(corpus_index, embedder=query_embedder), settings=corpus_index)
    # The gate is set from, and checked on, the dev split: the test split is for reporting only.
    run = evaluate(load_questions(GCOT_SET, split="dev"), corpus_index, systems=("ours",), service=service, questions_file="evals/datasets/gcot.jsonl (dev)")
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "ci-gate.json").write_text(json.dumps(run.to_json(), indent=1, default=str), encoding="utf-8")
    write_reports(run, html=REPORTS / "ci-gate.html", markdown=REPORTS / "ci-gate.md")
    return run


def test_no_answer_leaks_a_restricted_document(in_domain_run: EvalRun) -> None:
    leaked = [(r.score.id, r.audience, r.score.leaked_docs) for r in in_domain_run.ours.results if r.score.leaked]
    assert leaked == [], f"answers cite or quote documents their audience may not read: {leaked}"


def test_in_domain_metrics_meet_thresholds(in_domain_run: EvalRun) -> None:
    failures = check(in_domain_run.ours.summary, load_thresholds(THRESHOLDS_FILE))
    failed_ids = [r.score.id for r in in_domain_run.ours.failures]
    assert failures == [], f"below {THRESHOLDS_FILE.name}: {failures}; failed questions: {failed_ids} (see evals/reports/ci-gate.html)"


def test_thresholds_file_gates_every_headline_metric() -> None:
    thresholds = load_thresholds(THRESHOLDS_FILE)
    gated = set(thresholds["min"]) | set(thresholds["max"])
    for key in (
        "retrieval.hit_at_1", "retrieval.hit_at_5", "retrieval.mrr_at_10", "answer.fact_recall", "answer.accuracy",
        "answer.citation_support", "refusal.false_answer_rate", "refusal.false_refusal_rate", "refusal.balanced_accuracy",
    ):
        assert key in gated, key
    assert thresholds["max"].get("leaks") == 0
