"""The CI gate: compare a run's summary with `evals/thresholds.toml`.

The file has a `[min]` table (metrics that must not fall below) and a `[max]` table (metrics that
must not rise above: error rates, leaks, latency), keyed by the summary's dotted JSON keys:

    [min]
    "answer.accuracy" = 0.70

    [max]
    leaks = 0

Thresholds are set from measured values minus a small margin and are never loosened to make a
change pass; `leaks` must stay 0 whatever the file says.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from evals.metrics import flatten

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.toml"


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, float]]:
    """`{"min": {...}, "max": {...}}` from a TOML file; unknown tables are an error."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    unknown = set(data) - {"min", "max"}
    if unknown:
        msg = f"{path}: unknown table(s) {sorted(unknown)}; use [min] and [max]"
        raise ValueError(msg)
    return {"min": dict(data.get("min", {})), "max": dict(data.get("max", {}))}


def check(summary: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Every way `summary` misses the thresholds, as readable lines; empty when the gate passes.

    A metric named in the thresholds but missing (or None) in the summary is a failure too, and any
    leak fails the gate even if the file forgot to say so.
    """
    values = flatten(summary)
    failures = []
    for key, bound in sorted(thresholds.get("min", {}).items()):
        value = values.get(key)
        if value is None:
            failures.append(f"{key}: missing from the results (needs >= {bound})")
        elif value < bound:
            failures.append(f"{key}: {value:.4f} < {bound}")
    for key, bound in sorted(thresholds.get("max", {}).items()):
        value = values.get(key)
        if value is None:
            failures.append(f"{key}: missing from the results (needs <= {bound})")
        elif value > bound:
            failures.append(f"{key}: {value:.4f} > {bound}")
    if values.get("leaks") and "leaks" not in thresholds.get("max", {}):
        failures.append(f"leaks: {values['leaks']} > 0")
    return failures
