"""Public retrieval benchmark in the BEIR layout (SciFact): nDCG@10 and R@100 with ir-measures.

The BEIR corpus is written out as one Markdown file per document (front matter `doc_id = "d" + id`)
and indexed with the project's own ingest job under a data dir of its own (`.data/bench/<name>`),
so the benchmark measures exactly the chunking, embedding and retrieval the bot uses. The index is
cached and incremental: only the first run pays for embedding.

Main helpers:
    load_queries, load_qrels: read a BEIR folder.
    build_index: materialise the corpus and run `ingest` on it.
    evaluate: retrieve k=100 chunks per query, score documents by their best chunk, measure.
    grid_search: try fusion parameters on one split and rank them.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gcot.settings import Settings

log = logging.getLogger(__name__)

DOC_PREFIX = "d"
RETRIEVAL_DEPTH = 100


# --- reading a BEIR folder -----------------------------------------------------------------------


def _corpus_files(dataset_dir: Path) -> list[Path]:
    """`corpus.jsonl`, or its parts `corpus.part*.jsonl` in order (large corpora are split)."""
    single = dataset_dir / "corpus.jsonl"
    if single.is_file():
        return [single]
    parts = sorted(dataset_dir.glob("corpus.part*.jsonl"), key=lambda p: int("".join(filter(str.isdigit, p.stem)) or 0))
    if not parts:
        msg = f"no corpus.jsonl or corpus.part*.jsonl in {dataset_dir}"
        raise FileNotFoundError(msg)
    return parts


def iter_corpus(dataset_dir: Path) -> Iterator[dict[str, Any]]:
    """Every corpus record (`_id`, `title`, `text`), the parts concatenated."""
    for path in _corpus_files(dataset_dir):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def load_queries(dataset_dir: Path) -> dict[str, str]:
    """Query id -> query text."""
    queries: dict[str, str] = {}
    with (dataset_dir / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                queries[str(record["_id"])] = record["text"]
    return queries


def load_qrels(dataset_dir: Path, split: str) -> dict[str, dict[str, int]]:
    """Query id -> {doc id (prefixed as indexed) -> relevance} for one split; the header line is skipped."""
    path = dataset_dir / "qrels" / f"{split}.tsv"
    if not path.is_file():
        msg = f"no qrels for split {split!r}: {path} not found"
        raise FileNotFoundError(msg)
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        for row in rows:
            if not row or row[0] == "query-id":
                continue
            query_id, doc_id, score = row[0], row[1], int(row[2])
            qrels.setdefault(query_id, {})[DOC_PREFIX + doc_id.lower()] = score
    return qrels


# --- indexing ------------------------------------------------------------------------------------


def doc_markdown(record: dict[str, Any], *, doc_type: str = "guidance") -> str:
    """One BEIR record as a Markdown file with front matter (the body is the abstract, no heading)."""
    meta = {
        "doc_id": DOC_PREFIX + str(record["_id"]).lower(),
        "title": (record.get("title") or "").strip() or f"Document {record['_id']}",
        "doc_type": doc_type,
        "visibility": "public",
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    return f"---\n{front}---\n{(record.get('text') or '').strip()}\n"


def materialise_corpus(dataset_dir: Path, out_dir: Path) -> int:
    """Write every corpus record to `out_dir/<id>.md`; files whose content is unchanged are not touched.

    Returns:
        The number of documents in the corpus.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for record in iter_corpus(dataset_dir):
        path = out_dir / f"{DOC_PREFIX}{record['_id']}.md"
        content = doc_markdown(record)
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
        count += 1
    return count


def bench_settings(dataset_dir: Path, *, root: Path = Path(".data/bench")) -> Settings:
    """Settings whose data dir is `.data/bench/<dataset name>` (a separate index from the bot's)."""
    return Settings(data_dir=root / Path(dataset_dir).resolve().name, chroma_host=None)


def build_index(dataset_dir: Path, settings: Settings, *, progress: bool = False) -> dict[str, Any]:
    """Materialise the corpus under the data dir and bring the index in line with it (incremental)."""
    from ingest.pipeline import ingest

    docs_dir = settings.data_dir / "docs"
    count = materialise_corpus(Path(dataset_dir), docs_dir)
    result = ingest([docs_dir], settings=settings, progress=progress)
    log.info("benchmark index ready", extra={"documents": count, "chunks": result["chunks_total"]})
    return dict(result)


# --- retrieval and measures ------------------------------------------------------------------------


class _QueryCache:
    """Wraps an embedder so each query is embedded once across the runs of a grid search."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self._cache: dict[str, Any] = {}

    def embed_query(self, text: str):
        if text not in self._cache:
            self._cache[text] = self._embedder.embed_query(text)
        return self._cache[text]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


def retrieve_documents(
    retriever, queries: dict[str, str], *, mode: str, fusion=None, depth: int = RETRIEVAL_DEPTH, progress: bool = False
) -> dict[str, dict[str, float]]:
    """Query id -> {doc id -> score}: `depth` chunks per query, each document scored by its best chunk."""
    items: Sequence[tuple[str, str]] = list(queries.items())
    if progress:
        import sys

        from tqdm import tqdm

        items = tqdm(items, desc=mode, unit="q", file=sys.stderr, leave=False)
    run: dict[str, dict[str, float]] = {}
    for query_id, text in items:
        scores: dict[str, float] = {}
        for hit in retriever.search(text, k=depth, visibilities=None, mode=mode, fusion=fusion):
            scores[hit.doc_id] = max(scores.get(hit.doc_id, float("-inf")), float(hit.score))
        run[query_id] = scores
    return run


def measure(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean nDCG@10 and R@100 over every judged query (a query with no results scores 0)."""
    import ir_measures
    from ir_measures import R, nDCG

    names = {nDCG @ 10: "ndcg_at_10", R @ 100: "recall_at_100"}
    per_query: dict[str, dict[str, float]] = {name: {} for name in names.values()}
    judged = {qid: docs for qid, docs in qrels.items() if any(rel > 0 for rel in docs.values())}
    scored = {qid: docs for qid, docs in run.items() if qid in judged and docs}
    if scored:
        for metric in ir_measures.iter_calc(list(names), judged, scored):
            per_query[names[metric.measure]][metric.query_id] = float(metric.value)
    return {name: sum(values.get(qid, 0.0) for qid in judged) / len(judged) if judged else 0.0 for name, values in per_query.items()}


@dataclass(frozen=True)
class BenchResult:
    dataset: str
    split: str
    retriever: str
    fusion: dict[str, Any] | None
    ndcg_at_10: float
    recall_at_100: float
    n_queries: int
    depth: int
    mean_docs_per_query: float


def evaluate(
    dataset_dir: Path,
    *,
    split: str = "test",
    modes: Sequence[str] = ("hybrid",),
    fusion=None,
    settings: Settings | None = None,
    retriever=None,
    depth: int = RETRIEVAL_DEPTH,
    progress: bool = False,
) -> list[BenchResult]:
    """nDCG@10 and R@100 of each retrieval mode on one split of a BEIR dataset.

    Args:
        dataset_dir: a BEIR folder (corpus, queries.jsonl, qrels/<split>.tsv).
        split: which qrels to score. Defaults to "test".
        modes: "bm25", "dense" and/or "hybrid". Defaults to hybrid only.
        fusion: a `FusionConfig` for hybrid. Defaults to the retriever's own.
        settings: the benchmark index. Defaults to `.data/bench/<dataset>` (built or updated first).
        retriever: an already-loaded `HybridRetriever` over that index (the index is then not touched).
        depth: chunks retrieved per query. Defaults to 100.
        progress: progress bars on stderr. Defaults to False.
    """
    from dataclasses import asdict

    dataset_dir = Path(dataset_dir)
    if retriever is None:
        from bot.retrieve.hybrid import HybridRetriever

        settings = settings or bench_settings(dataset_dir)
        build_index(dataset_dir, settings, progress=progress)
        retriever = HybridRetriever.from_settings(settings)
    qrels = load_qrels(dataset_dir, split)
    all_queries = load_queries(dataset_dir)
    queries = {qid: all_queries[qid] for qid in qrels if qid in all_queries}
    results = []
    for mode in modes:
        run = retrieve_documents(retriever, queries, mode=mode, fusion=fusion if mode == "hybrid" else None, depth=depth, progress=progress)
        scores = measure(qrels, run)
        used = fusion or getattr(retriever, "fusion", None)
        results.append(
            BenchResult(
                dataset=dataset_dir.resolve().name, split=split, retriever=mode,
                fusion=asdict(used) if mode == "hybrid" and used is not None else None,
                ndcg_at_10=scores["ndcg_at_10"], recall_at_100=scores["recall_at_100"], n_queries=len(qrels), depth=depth,
                mean_docs_per_query=sum(len(docs) for docs in run.values()) / max(1, len(run)),
            )
        )
    return results


def default_grid() -> list[Any]:
    """Fusion settings tried by `grid_search`: convex alpha 0.1..0.9 and RRF k in {10, 30, 60, 100}."""
    from bot.retrieve.hybrid import FusionConfig

    convex = [FusionConfig(method="convex", alpha=round(a / 10, 1)) for a in range(1, 10)]
    rrf = [FusionConfig(method="rrf", rrf_k=k) for k in (10, 30, 60, 100)]
    return convex + rrf


def grid_search(
    dataset_dir: Path,
    *,
    split: str = "train",
    grid: Sequence[Any] | None = None,
    settings: Settings | None = None,
    retriever=None,
    depth: int = RETRIEVAL_DEPTH,
    progress: bool = False,
) -> list[BenchResult]:
    """Hybrid nDCG@10/R@100 for each fusion setting on `split` (tune on train), best nDCG@10 first."""
    dataset_dir = Path(dataset_dir)
    if retriever is None:
        from bot.retrieve.hybrid import HybridRetriever

        settings = settings or bench_settings(dataset_dir)
        build_index(dataset_dir, settings, progress=progress)
        retriever = HybridRetriever.from_settings(settings)
    retriever.embedder = _QueryCache(retriever.embedder)
    results = []
    for fusion in grid or default_grid():
        results.extend(evaluate(dataset_dir, split=split, modes=("hybrid",), fusion=fusion, retriever=retriever, depth=depth, progress=progress))
        log.info("fusion tried", extra={"fusion": results[-1].fusion, "ndcg_at_10": results[-1].ndcg_at_10})
    return sorted(results, key=lambda r: (-r.ndcg_at_10, -r.recall_at_100))
