"""Assign the dev/test split of an eval file, stratified by category and audience; run once per new batch.

    python evals/datasets/split.py evals/datasets/gcot.jsonl

Questions that already have a `split` keep it (the split is recorded in the file, never re-drawn);
the others are assigned so that each (category, audience) stratum stays as close to half dev, half
test as it can. The order inside a stratum comes from a hash of the id, so the assignment does not
depend on file order or on anyone's choice. An odd stratum's extra question alternates between dev
and test across strata, keeping the two halves the same size overall.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path


def assign(records: list[dict]) -> list[dict]:
    """`records` with a `split` on every one (existing values untouched)."""
    strata: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        strata[(record.get("category", "uncategorised"), record["audience"])].append(record)
    extra_to_dev = True
    for key in sorted(strata):
        members = strata[key]
        counts = {"dev": 0, "test": 0}
        for record in members:
            if record.get("split") in counts:
                counts[record["split"]] += 1
        for record in sorted((r for r in members if r.get("split") not in counts), key=lambda r: hashlib.sha1(r["id"].encode()).hexdigest()):
            if counts["dev"] == counts["test"]:
                choice = "dev" if extra_to_dev else "test"
                extra_to_dev = not extra_to_dev
            else:
                choice = "dev" if counts["dev"] < counts["test"] else "test"
            record["split"] = choice
            counts[choice] += 1
    return records


def main(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = assign([json.loads(line) for line in lines])
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    tally = defaultdict(int)
    for record in records:
        tally[record["split"]] += 1
    print(f"{path}: {dict(tally)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
