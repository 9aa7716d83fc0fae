"""The README's performance chart: p95 latency per index size, before and after issue 11, from bench JSON.

    python -m evals.bench_chart AFTER.json docs/performance.svg

"Before" is the `gcot bench retrieval` run recorded in the README before the change (load 7-15).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BEFORE = {  # p95 wall ms from the README's earlier table (same benchmark, previous code)
    "search industry": {"corpus": 146, "10k": 385, "100k": 2514},
    "answer industry": {"corpus": 974, "10k": 2024, "100k": 3084},
}


def write_chart(after: dict, path: Path) -> None:
    """Grouped bars (log scale): before/after p95 of industry search and answers at each index size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [size["label"] for size in after["sizes"]]
    now = {
        "search industry": [size["retrieval"]["industry"]["p95_ms"] for size in after["sizes"]],
        "answer industry": [size["answer"]["industry"]["p95_ms"] for size in after["sizes"]],
    }
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.2
    for i, (series, values) in enumerate(now.items()):
        before = [BEFORE[series].get(label, 0) for label in labels]
        xs = [x + (2 * i - 1.5) * width for x in range(len(labels))]
        ax.bar(xs, before, width, label=f"{series}, before", alpha=0.45)
        ax.bar([x + width for x in xs], values, width, label=f"{series}, after")
    ax.axhline(50, color="grey", linestyle=":", linewidth=1)
    ax.axhline(150, color="grey", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(labels)), [f"{label} chunks" for label in labels])
    ax.set_ylabel("p95 wall ms (log)")
    ax.set_title(f"Industry audience, p95 (load {after['load_average'][0]:.1f} at start)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


if __name__ == "__main__":
    write_chart(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
