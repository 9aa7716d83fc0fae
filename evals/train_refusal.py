"""Train the refusal classifier on the dev split and write `bot/answer/refusal_model.json`.

    python -m evals.train_refusal --corpus corpus --corpus tests/fixtures/restricted
    python -m evals.train_refusal --clapnq ../shared/datasets/clapnq   # add ClapNQ's calibration half

Only dev questions are read (by default the dev rows of `gcot.jsonl`; and, with --clapnq, the first
half of ClapNQ by id, the half `gcot eval refusal` calibrates on); the test split is never seen. Each question's features are the
ones `AnswerService.ask` computes (`AnswerService.refusal_features`); the label is whether the
documents answer it. The operating point is chosen on out-of-fold dev probabilities (5-fold,
stratified), so the threshold is not fitted to the very predictions it was trained on.
scikit-learn is used here only; the service reads the JSON with numpy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from bot.answer.refusal import FEATURES, FORMAT_VERSION, RefusalModel, model_file
from evals.dataset import load_questions

DATASETS = Path(__file__).resolve().parent / "datasets"
DEFAULT_QUESTIONS = (DATASETS / "gcot.jsonl",)
"""The dev rows of the split file. `gcot-fresh.jsonl` stays out by default: it is what the C and the
operating point are checked on (trained on both, the model learnt "short questions are answerable"
from its terse asks, and answered "What is the capital of France?")."""


def untrained_model() -> RefusalModel:
    """A stand-in the service can be built with while features are collected (they do not depend on
    it): the shipped file may predate a change to FEATURES, and then it does not load."""
    n = len(FEATURES)
    return RefusalModel(version="untrained", features=FEATURES, mean=np.zeros(n), scale=np.ones(n), coef=np.zeros(n),
                        intercept=0.0, threshold=0.5)


def collect(service, questions) -> tuple[list[dict[str, float]], list[int]]:
    """Features and labels (1 = answerable) for every question the classifier would see."""
    rows, labels = [], []
    for question in questions:
        features = service.refusal_features(question.question, audience=question.audience, history=[turn.model_dump() for turn in question.history])
        if features is not None:  # declined before scoring (out of scope): not the classifier's decision
            rows.append(features)
            labels.append(int(question.answerable))
    return rows, labels


def clapnq_calibration_half(dataset_dir: Path, embedder) -> tuple[list[dict[str, float]], list[int]]:
    """Features of ClapNQ's first half by id (the calibration half of `gcot eval refusal`)."""
    from bot.answer.service import AnswerService
    from bot.retrieve.hybrid import HybridRetriever
    from evals.beir import bench_settings, build_index
    from evals.refusal import AUDIENCE, load_clapnq

    settings = bench_settings(dataset_dir)
    build_index(dataset_dir / "beir_dev", settings, progress=False)
    service = AnswerService(HybridRetriever.from_settings(settings, embedder=embedder), settings=settings, refusal_model=untrained_model())
    questions = sorted(load_clapnq(dataset_dir), key=lambda q: q.id)
    rows, labels = [], []
    for question in questions[: len(questions) // 2]:
        features = service.refusal_features(question.question, audience=AUDIENCE)
        if features is not None:
            rows.append(features)
            labels.append(int(question.answerable))
    return rows, labels


def fit(
    rows: list[dict[str, float]], labels: list[int], *, c: float = 1.0, n_gcot: int | None = None, features: tuple[str, ...] = FEATURES,
    max_false_refusal: float | None = None,
) -> dict:
    """Logistic regression on standardised features; the threshold maximises out-of-fold balanced accuracy,
    or, with `max_false_refusal`, declines the most unanswerable questions at that false-refusal rate.

    Args:
        rows, labels: features and 1/0 labels, the gcot dev questions first.
        c: inverse regularisation strength.
        n_gcot: how many leading rows are gcot dev questions: the operating point is chosen on those
            (the assistant's own domain), even when ClapNQ rows help fit the weights. Defaults to all.
        features: the feature names to fit on (to compare feature sets on the same rows). Defaults to FEATURES.
        max_false_refusal: the highest out-of-fold false-refusal rate the operating point may have.
            Defaults to None (best balanced accuracy).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.array([[row.get(name, 0.0) for name in features] for row in rows])
    y = np.array(labels)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=2000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    out_of_fold = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    n_gcot = len(y) if n_gcot is None else n_gcot
    out_of_fold, y = out_of_fold[:n_gcot], y[:n_gcot]
    if max_false_refusal is None:
        threshold, balanced = best_threshold(out_of_fold, y)
    else:
        threshold, balanced = capped_threshold(out_of_fold, y, max_false_refusal)
    model.fit(x, np.array(labels))
    scaler, classifier = model.steps[0][1], model.steps[1][1]
    return {
        "features": list(features),
        "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
        "coef": classifier.coef_[0].tolist(), "intercept": float(classifier.intercept_[0]),
        "threshold": threshold,
        "dev_out_of_fold": {
            "balanced_accuracy": balanced,
            "false_refusal_rate": float(np.mean(out_of_fold[y == 1] < threshold)) if (y == 1).any() else None,
            "false_answer_rate": float(np.mean(out_of_fold[y == 0] >= threshold)) if (y == 0).any() else None,
            "n_answerable": int((y == 1).sum()), "n_unanswerable": int((y == 0).sum()),
        },
    }


def _midpoints(probabilities: np.ndarray) -> list[float]:
    """0, every midpoint between distinct probabilities, and just above the highest."""
    values = np.unique(probabilities)
    return [0.0, *((values[:-1] + values[1:]) / 2), float(values[-1]) + 1e-6]


def _balanced_at(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    answer_rate = np.mean(probabilities[labels == 1] >= threshold) if (labels == 1).any() else 1.0
    decline_rate = np.mean(probabilities[labels == 0] < threshold) if (labels == 0).any() else 1.0
    return float((answer_rate + decline_rate) / 2)


def best_threshold(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The midpoint threshold with the best balanced accuracy (ties: the one nearest 0.5)."""
    best = max(_midpoints(probabilities), key=lambda t: (_balanced_at(probabilities, labels, t), -abs(t - 0.5)))
    return round(float(best), 6), _balanced_at(probabilities, labels, best)


def capped_threshold(probabilities: np.ndarray, labels: np.ndarray, max_false_refusal: float) -> tuple[float, float]:
    """The highest midpoint threshold whose false-refusal rate stays within `max_false_refusal`, and its balanced accuracy.

    The higher the threshold, the more unanswerable questions it declines; the cap says how many
    answerable ones that may cost. The threshold above every probability (decline all) is never chosen.
    """
    answerable = probabilities[labels == 1]
    allowed = [t for t in _midpoints(probabilities)[:-1] if not len(answerable) or np.mean(answerable < t) <= max_false_refusal]
    threshold = max(allowed)
    return round(float(threshold), 6), _balanced_at(probabilities, labels, threshold)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, action="append",
                        help="An eval file whose dev rows are trained on; repeat for several (default: gcot.jsonl).")
    parser.add_argument("--corpus", type=Path, action="append", help="Index these folders into a temporary index first.")
    parser.add_argument("--clapnq", type=Path, help="Also train on ClapNQ's calibration half (its dev folder).")
    parser.add_argument("--out", type=Path, default=None,
                        help="Where to write the model (default: the shipped file for GCOT_SENTENCE_VECTORS, "
                             "bot/answer/refusal_model.json or refusal_model_in_context.json).")
    parser.add_argument("--c", type=float, default=0.1,
                        help="Inverse regularisation strength (default 0.1: of 0.03-3, the best balanced accuracy on "
                             "gcot-fresh.jsonl for a model trained on gcot.jsonl's dev split).")
    parser.add_argument("--max-false-refusal", type=float, default=None,
                        help="Choose the operating point that declines the most unanswerable dev questions while the "
                             "out-of-fold false-refusal rate stays at or below this (default: best balanced accuracy).")
    args = parser.parse_args(argv)

    from bot.answer.service import AnswerService
    from encoder import load_embedder
    from evals.corpus_index import index_corpus
    from gcot.settings import Settings

    settings = Settings()
    # The features must be the ones serving computes: queries and stored sentence vectors from the
    # query model (ONNX where it can be used), chunks from the document model, as `gcot ingest` and
    # `gcot eval run` embed them.
    embedder = load_embedder(settings)
    question_files = args.questions or list(DEFAULT_QUESTIONS)
    questions = [question for path in question_files for question in load_questions(path, split="dev")]
    with tempfile.TemporaryDirectory(prefix="gcot-train-") as tmp:
        if args.corpus:
            settings, _ = index_corpus(args.corpus, settings, Path(tmp) / "data")
        service = AnswerService.from_settings(settings, embedder=embedder, refusal_model=untrained_model())
        rows, labels = collect(service, questions)
    sources = {"gcot_dev": len(rows)}
    if args.clapnq:
        extra_rows, extra_labels = clapnq_calibration_half(args.clapnq, embedder)
        rows, labels = rows + extra_rows, labels + extra_labels
        sources["clapnq_first_half"] = len(extra_rows)
    fitted = fit(rows, labels, c=args.c, n_gcot=sources["gcot_dev"], max_false_refusal=args.max_false_refusal)
    version = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {"format": FORMAT_VERSION, "version": version, **fitted,
               "trained_on": sources, "questions_files": [path.name for path in question_files], "split": "dev", "C": args.c,
               "max_false_refusal": args.max_false_refusal, "sentence_vectors": settings.sentence_vectors}
    (args.out or model_file(settings.sentence_vectors)).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"version": version, "trained_on": sources, "threshold": fitted["threshold"], **fitted["dev_out_of_fold"]}, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
