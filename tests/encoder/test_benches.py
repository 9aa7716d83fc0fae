"""The performance benchmarks run end to end in a tiny configuration, so their code cannot rot."""

from __future__ import annotations

from pathlib import Path

from testkit import PROJECT_ROOT, make_settings
from evals.bench_encoder import format_encoder_report, run_encoder_benchmark
from evals.bench_retrieval import format_report, run_benchmark


def _tiny_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "a.md").write_text("---\ndoc_id: alpha\nvisibility: public\n---\n# Relays\n\nLighthouse relays carry signals. They run on solar power.\n")
    (folder / "b.md").write_text("---\ndoc_id: beta\nvisibility: internal\n---\n# Cranes\n\nHarbour cranes lift containers. Each crane has a licence.\n")
    return folder


def test_retrieval_benchmark_runs_and_measures_recall(tmp_path: Path, embedder) -> None:
    result = run_benchmark(_tiny_corpus(tmp_path / "corpus"), questions=PROJECT_ROOT / "evals/datasets/gcot.jsonl", n_questions=2,
                           sizes=[60], embedder=embedder, workdir=tmp_path / "work")

    corpus, synthetic = result["sizes"]
    assert (corpus["chunks"], synthetic["chunks"]) == (2, 60)
    assert synthetic["synthetic"] == 58
    for size in result["sizes"]:
        assert size["retrieval"]["industry"]["n"] == 2 and size["answer"]["staff"]["p95_ms"] > 0
        assert 0.0 <= size["filter_cost"]["recall_at_10"] <= 1.0
        assert size["serving_rss_mib"] and size["serving_rss_mib"] > 50
    # The served search holds the vectors and scores them all; over 60 vectors HNSW alone is exact too.
    assert synthetic["filter_cost"]["dense_search"] == "exact"
    assert synthetic["filter_cost"]["recall_at_10"] == 1.0
    assert synthetic["filter_cost"]["hnsw_recall_at_10"] == 1.0
    assert "recall@10" in format_report(result)


def test_encoder_benchmark_compares_every_path(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")

    result = run_encoder_benchmark(settings, corpus=PROJECT_ROOT / "corpus", n_texts=8)

    names = [row["encoder"] for row in result["encoders"]]
    assert names == ["torch-fp32", "onnx-fp32", "onnx-int8"]
    assert result["encoders"][1]["cosine_to_torch"] > 0.9999
    assert result["encoders"][2]["cosine_to_torch"] > 0.97
    assert "docs/CPU-s" in format_encoder_report(result)
