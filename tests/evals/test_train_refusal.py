"""The refusal trainer's operating points, and that it can run when the shipped model no longer loads."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answer.refusal import FEATURES
from evals.train_refusal import best_threshold, capped_threshold, fit, untrained_model


def test_capped_threshold_declines_most_within_the_false_refusal_cap() -> None:
    probabilities = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95, 0.15, 0.4, 0.65])
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0])
    # Best balanced accuracy sits between 0.4 and 0.6 (declines every unanswerable one, refuses none).
    assert best_threshold(probabilities, labels)[0] == pytest.approx(0.5)
    # Capped at 0.2 of the five answerable: one may be refused, so the threshold climbs past 0.6 and
    # also declines the unanswerable 0.65.
    threshold, balanced = capped_threshold(probabilities[[3, 4, 5, 6, 7, 10]], labels[[3, 4, 5, 6, 7, 10]], 0.2)
    assert threshold == pytest.approx(0.675)
    assert balanced == pytest.approx((0.8 + 1.0) / 2)
    # No false refusal allowed: the threshold stays below the lowest answerable probability.
    assert capped_threshold(probabilities, labels, 0.0)[0] <= 0.6


def test_fit_honours_the_false_refusal_cap() -> None:
    # Overlapping classes, so that the balanced-accuracy optimum refuses more than the cap allows (checked
    # below): then the cap must move the threshold down. With well-separated classes the optimum can
    # already sit under the cap, and the capped threshold is then the higher one.
    rng = np.random.default_rng(0)
    labels = [1] * 60 + [0] * 40
    rows = [{name: float(rng.normal(label * 0.4, 1.0)) for name in FEATURES} for label in labels]
    capped = fit(rows, labels, max_false_refusal=0.05)
    balanced = fit(rows, labels)
    assert balanced["dev_out_of_fold"]["false_refusal_rate"] > 0.05
    assert capped["dev_out_of_fold"]["false_refusal_rate"] <= 0.05
    assert capped["threshold"] <= balanced["threshold"]


def test_untrained_stand_in_matches_the_feature_list() -> None:
    # The trainer builds the service with it, so a FEATURES change does not need the old file to load.
    model = untrained_model()
    assert model.features == FEATURES
    assert model.probability({name: 1.0 for name in FEATURES}) == pytest.approx(0.5)
