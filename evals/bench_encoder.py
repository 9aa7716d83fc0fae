"""Encoder and cold-start benchmarks: what each embedding path costs, and how fast `gcot ask` starts.

`run_encoder_benchmark` times torch fp32 (sentence-transformers) and each ONNX export on the same
texts (documents in batches, queries one at a time, per CPU-second so a busy machine skews less),
gives each export's mean cosine to torch, and, with a BEIR folder, hybrid and dense nDCG@10 on its
test split with each path embedding the queries over one index whose documents torch embedded.

`run_cold_start` times `gcot ask` in fresh processes against `python -c pass`, interleaved.

Main helpers:
    run_encoder_benchmark, run_cold_start, format_encoder_report, format_cold_start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from gcot.settings import Settings


class EncoderResult(TypedDict):
    encoder: str
    documents_per_cpu_s: float
    query_ms: float
    query_cpu_ms: float
    cosine_to_torch: float
    ndcg_at_10: dict[str, float] | None
    """Hybrid and dense nDCG@10 on the BEIR test split (None when no dataset was given)."""


def _texts(dataset: Path | None, corpus: Path, n: int) -> tuple[list[str], list[str]]:
    """(documents, queries): BEIR records and queries when a dataset is given, else corpus paragraphs."""
    if dataset is not None:
        from evals.beir import iter_corpus, load_queries

        docs = [f"{r.get('title', '')} {r.get('text', '')}".strip() for r, _ in zip(iter_corpus(dataset), range(n), strict=False)]
        return docs, list(load_queries(dataset).values())[:n]
    paragraphs = [p.strip() for path in sorted(Path(corpus).rglob("*.md")) for p in path.read_text().split("\n\n") if len(p) > 200]
    return paragraphs[:n], [p.split(".")[0][:120] for p in paragraphs[:n]]


def _time(embedder: Any, documents: Sequence[str], queries: Sequence[str]) -> tuple[float, float, float, np.ndarray]:
    embedder.embed_documents(list(documents[:4]))
    cpu = time.process_time()
    matrix = embedder.embed_documents(list(documents))
    docs_rate = len(documents) / max(time.process_time() - cpu, 1e-9)
    wall, cpu = time.perf_counter(), time.process_time()
    for query in queries:
        embedder.embed_query(query)
    n = max(1, len(queries))
    return docs_rate, (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n, matrix


def run_encoder_benchmark(
    settings: Settings, *, corpus: Path = Path("corpus"), dataset: Path | None = None, n_texts: int = 128
) -> dict[str, Any]:
    """Throughput, query latency, cosine to torch and (with `dataset`) SciFact nDCG@10 per embedding path."""
    from encoder import Embedder
    from encoder.factory import onnx_cache_root
    from encoder.onnx import VARIANTS, OnnxEmbedder, ensure_exported

    load_before = [round(x, 2) for x in os.getloadavg()]
    model_path = settings.model_path()
    torch_embedder = Embedder(model_path, batch_size=settings.embedding_batch_size, threads=settings.embedding_threads)
    encoders: dict[str, Any] = {"torch-fp32": torch_embedder}
    for variant in VARIANTS:
        path = ensure_exported(model_path, onnx_cache_root(settings), variant)
        if path is not None:
            encoders[f"onnx-{variant}"] = OnnxEmbedder(model_path, path, batch_size=settings.embedding_batch_size,
                                                       threads=settings.embedding_threads, variant=variant)
    documents, queries = _texts(dataset, corpus, n_texts)
    retriever = _beir_retriever(dataset, torch_embedder) if dataset is not None else None
    results: list[EncoderResult] = []
    reference = None
    for name, embedder in encoders.items():
        docs_rate, query_ms, query_cpu, matrix = _time(embedder, documents, queries)
        reference = matrix if reference is None else reference
        ndcg = None
        if retriever is not None:
            from evals.beir import evaluate

            retriever.embedder = embedder
            ndcg = {r.retriever: round(r.ndcg_at_10, 4) for r in evaluate(dataset, modes=("hybrid", "dense"), retriever=retriever)}
        results.append(EncoderResult(
            encoder=name, documents_per_cpu_s=round(docs_rate, 2), query_ms=round(query_ms, 2), query_cpu_ms=round(query_cpu, 2),
            cosine_to_torch=round(float((matrix * reference).sum(axis=1).mean()), 4), ndcg_at_10=ndcg,
        ))
    return {"texts": len(documents), "threads": settings.embedding_threads, "encoders": results,
            "load_average": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def _beir_retriever(dataset: Path, embedder: Any) -> Any:
    from bot.retrieve.hybrid import HybridRetriever
    from evals.beir import bench_settings, build_index

    settings = bench_settings(dataset)
    build_index(dataset, settings)  # incremental: only the first run embeds
    return HybridRetriever.from_settings(settings, embedder=embedder)


def run_cold_start(question: str = "When did the coalition launch?", *, repeat: int = 5, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall seconds of `gcot ask QUESTION` and of `python -c pass` in fresh processes, interleaved (medians)."""
    gcot = Path(sys.executable).with_name("gcot")
    environment = {**os.environ, **(env or {})}
    load_before = [round(x, 2) for x in os.getloadavg()]
    asks, passes = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=environment)
        passes.append(time.perf_counter() - started)
        started = time.perf_counter()
        done = subprocess.run([str(gcot), "ask", question], capture_output=True, text=True, env=environment, check=False)
        asks.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            msg = f"`gcot ask` failed: {done.stderr[-1000:]}"
            raise RuntimeError(msg)
    return {"ask_wall_s": round(float(np.median(asks)), 2), "ask_max_s": round(max(asks), 2),
            "python_pass_wall_s": round(float(np.median(passes)), 3), "repeat": repeat,
            "load_average": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def format_encoder_report(result: dict[str, Any]) -> str:
    lines = [f"{result['texts']} texts, {result['threads']} thread(s), load {result['load_average'][0]:.2f} -> {result['load_average_after'][0]:.2f}",
             f"{'encoder':<12}{'docs/CPU-s':>12}{'query ms':>10}{'query CPU ms':>14}{'cos to torch':>14}  nDCG@10 hybrid/dense"]
    for row in result["encoders"]:
        ndcg = f"{row['ndcg_at_10']['hybrid']:.4f}/{row['ndcg_at_10']['dense']:.4f}" if row["ndcg_at_10"] else "-"
        lines.append(f"{row['encoder']:<12}{row['documents_per_cpu_s']:>12.1f}{row['query_ms']:>10.1f}{row['query_cpu_ms']:>14.1f}"
                     f"{row['cosine_to_torch']:>14.4f}  {ndcg}")
    return "\n".join(lines)


def format_cold_start(result: dict[str, Any]) -> str:
    return (f"cold `gcot ask`: {result['ask_wall_s']:.2f} s median wall (max {result['ask_max_s']:.2f}) against "
            f"`python -c pass` {result['python_pass_wall_s']:.3f} s; {result['repeat']} runs, load "
            f"{result['load_average'][0]:.2f} -> {result['load_average_after'][0]:.2f}")
