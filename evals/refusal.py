"""Answer-vs-decline on ClapNQ: does the assistant decline when the evidence does not answer?

ClapNQ's dev split pairs 300 answerable questions with 300 unanswerable ones, each unanswerable
question coming with a topically related passage that does not answer it. The dev passages
(`beir_dev/corpus.jsonl`) are indexed with the project's ingest job; every question is asked with
the refusal threshold at 0.0 (so `answer.confidence` is always computed), the questions are sorted by
id, the threshold on confidence that maximises balanced accuracy on the first half is chosen, and
balanced accuracy is reported on the second half. That measures how the shipped classifier, trained
on our own dev questions, transfers to another domain. Beside it, `refit` measures the classifier
itself on this domain: its weights, regularisation and threshold are fitted on the first half's
features alone (as a team with labelled questions of its own would retrain it), and scored on the
second half.

Main helpers:
    load_clapnq: the questions and their answerable labels.
    calibrate, balanced_accuracy_at: the threshold arithmetic (pure).
    refit_outcomes: the classifier refitted on the first half, scored on the second.
    run_refusal: the whole benchmark -> a result dict.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gcot.settings import Settings

log = logging.getLogger(__name__)

FILES = {"clapnq_dev_answerable.jsonl": True, "clapnq_dev_unanswerable.jsonl": False}
AUDIENCE = "industry"
REFIT_C_VALUES = (0.1, 0.3, 1.0, 3.0)
"""Regularisation strengths tried by `refit_outcomes`; the first half's out-of-fold accuracy chooses."""
MIN_REFIT_PER_CLASS = 10
"""Fewer scored questions of either kind in the first half than this: no refit (5-fold CV needs them)."""


@dataclass(frozen=True)
class ClapQuestion:
    id: str
    question: str
    answerable: bool


@dataclass(frozen=True)
class Outcome:
    """What the assistant did with one question (threshold 0.0)."""

    id: str
    answerable: bool
    status: str
    confidence: float
    reason: str = ""
    features: dict[str, float] | None = None
    """What the refusal classifier read (None when the question was declined before scoring)."""

    def answers_at(self, threshold: float) -> bool:
        """Would the assistant answer with this refusal threshold?"""
        return self.status == "answered" and self.confidence >= threshold


def load_clapnq(dataset_dir: Path, *, limit: int | None = None) -> list[ClapQuestion]:
    """Both dev files, labelled by file (answerable: the file name, and a non-empty `output`).

    Args:
        dataset_dir: the ClapNQ folder (holding `dev/` and `beir_dev/`).
        limit: keep the first `limit // 2` questions of each file (smoke tests). Defaults to all.
    """
    questions: list[ClapQuestion] = []
    for name, answerable in FILES.items():
        path = Path(dataset_dir) / "dev" / name
        taken = 0
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                if limit is not None and taken >= limit // 2:
                    break
                record = json.loads(line)
                questions.append(ClapQuestion(str(record["id"]), record["input"], answerable))
                taken += 1
    return questions


def balanced_accuracy_at(outcomes: Sequence[Outcome], threshold: float) -> float:
    """Mean of the answer rate on answerable questions and the decline rate on unanswerable ones."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    rates = []
    if answerable:
        rates.append(sum(o.answers_at(threshold) for o in answerable) / len(answerable))
    if unanswerable:
        rates.append(sum(not o.answers_at(threshold) for o in unanswerable) / len(unanswerable))
    return sum(rates) / len(rates) if rates else 0.0


def calibrate(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    """The threshold with the best balanced accuracy on `outcomes`, and that accuracy.

    Candidates are 0 (answer whenever the assistant would), the midpoints between neighbouring
    confidences, and just above the highest (decline everything); ties go to the lowest threshold.
    """
    values = sorted({o.confidence for o in outcomes if o.status == "answered"})
    candidates = [0.0, *((a + b) / 2 for a, b in zip(values, values[1:], strict=False))]
    if values:
        candidates.append(values[-1] + 1e-6)
    best = max(candidates, key=lambda t: (balanced_accuracy_at(outcomes, t), -t))
    return best, balanced_accuracy_at(outcomes, best)


def split_by_id(outcomes: Sequence[Outcome]) -> tuple[list[Outcome], list[Outcome]]:
    """Sorted by id (as strings): the first half calibrates, the second half tests."""
    ordered = sorted(outcomes, key=lambda o: o.id)
    half = len(ordered) // 2
    return ordered[:half], ordered[half:]


def evaluate_outcomes(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Calibrate on the first half, report on the second: the JSON result of `gcot eval refusal`."""
    calibration, test = split_by_id(outcomes)
    threshold, calibration_accuracy = calibrate(calibration)
    return {
        "threshold": round(threshold, 6),
        "calibration_balanced_accuracy": calibration_accuracy,
        "balanced_accuracy": balanced_accuracy_at(test, threshold),
        "n_calibration": len(calibration),
        "n_test": len(test),
        "test_answer_rate_answerable": _rate([o.answers_at(threshold) for o in test if o.answerable]),
        "test_decline_rate_unanswerable": _rate([not o.answers_at(threshold) for o in test if not o.answerable]),
        "declined_before_scoring": sum(1 for o in outcomes if o.status != "answered"),
        "refit": refit_outcomes(outcomes),
    }


def refit_outcomes(outcomes: Sequence[Outcome], *, c_values: Sequence[float] = REFIT_C_VALUES) -> dict[str, Any] | None:
    """The refusal classifier fitted on the first half's features, scored on the second half.

    Weights come from the first half; C and the threshold from its out-of-fold probabilities
    (`evals.train_refusal.fit`: 5-fold, best balanced accuracy; ties go to the smaller C). The second
    half is only scored. None when the first half has too few scored questions of either kind.
    """
    from bot.answer.refusal import FEATURES, RefusalModel
    from evals.train_refusal import fit

    calibration, test = split_by_id(outcomes)
    scored = [o for o in calibration if o.features is not None and o.status == "answered"]
    labels = [int(o.answerable) for o in scored]
    if min(labels.count(0), labels.count(1)) < MIN_REFIT_PER_CLASS:
        return None
    rows = [o.features for o in scored]
    fits = [(c, fit(rows, labels, c=c)) for c in c_values]
    c, fitted = max(fits, key=lambda item: item[1]["dev_out_of_fold"]["balanced_accuracy"])
    model = RefusalModel(version="refit", features=FEATURES, mean=np.array(fitted["mean"]), scale=np.array(fitted["scale"]),
                         coef=np.array(fitted["coef"]), intercept=fitted["intercept"], threshold=fitted["threshold"])
    rescored = [replace(o, confidence=model.probability(o.features) if o.features is not None else 0.0) for o in test]
    threshold = fitted["threshold"]
    return {
        "C": c,
        "threshold": round(threshold, 6),
        "calibration_balanced_accuracy": fitted["dev_out_of_fold"]["balanced_accuracy"],
        "balanced_accuracy": balanced_accuracy_at(rescored, threshold),
        "test_answer_rate_answerable": _rate([o.answers_at(threshold) for o in rescored if o.answerable]),
        "test_decline_rate_unanswerable": _rate([not o.answers_at(threshold) for o in rescored if not o.answerable]),
        "n_fitted": len(scored),
    }


def _rate(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


# --- PUBLIC API ------------------------------------------------------------------------------------


def run_refusal(
    dataset_dir: Path,
    *,
    settings: Settings | None = None,
    limit: int | None = None,
    embedder=None,
    progress: bool = False,
) -> dict[str, Any]:
    """Index ClapNQ's dev passages, ask every dev question, calibrate on one half, test on the other.

    Args:
        dataset_dir: the ClapNQ folder (`dev/` and `beir_dev/`).
        settings: where the benchmark index lives. Defaults to `.data/bench/clapnq`.
        limit: ask only `limit` questions (half from each file). Defaults to all 600.
        embedder: an already-loaded model. Defaults to loading one.
        progress: progress bars on stderr. Defaults to False.

    Returns:
        `threshold`, `calibration_balanced_accuracy`, `balanced_accuracy` (second half), `n_calibration`,
        `n_test`, plus per-class rates on the test half, `refit` (`refit_outcomes`) and `outcomes`
        (one per question).
    """
    from bot.answer.service import AnswerService
    from bot.retrieve.hybrid import HybridRetriever
    from evals.beir import bench_settings, build_index

    dataset_dir = Path(dataset_dir)
    settings = settings or bench_settings(dataset_dir)
    build_index(dataset_dir / "beir_dev", settings, progress=progress)
    service = AnswerService(HybridRetriever.from_settings(settings, embedder=embedder), settings=settings)
    service.refusal_threshold = 0.0

    questions = load_clapnq(dataset_dir, limit=limit)
    iterator = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc="clapnq", unit="q", file=sys.stderr, leave=False)
    outcomes = []
    for question in iterator:
        answer = service.ask(question.question, audience=AUDIENCE)
        # The classifier's inputs, for the refit: recomputed (deterministic), as the trainer does.
        features = service.refusal_features(question.question, audience=AUDIENCE) if answer.status == "answered" else None
        outcomes.append(Outcome(question.id, question.answerable, answer.status, float(answer.confidence), answer.reason, features))
    result = evaluate_outcomes(outcomes)
    result["outcomes"] = [asdict(o) for o in outcomes]
    return result
