"""The retrieval latency benchmark: how fast are hybrid search and extractive answers as the index grows?

In one process, with one already-loaded model:
1. the real corpus is ingested into a temp data dir with `ingest()`, as `gcot ingest` would;
2. for each larger size, a fresh data dir receives the real chunks plus synthetic filler, written
   straight into Chroma and BM25 through the project's own classes (`VectorStore.upsert`,
   `LexicalIndex.build/save`, the ingest manifest) in the ingest job's folder layout, so
   `HybridRetriever.from_settings` loads it like any index. The filler bypasses the model: its texts
   are made of corpus words, its embeddings are real chunk embeddings plus Gaussian noise,
   renormalised. About 2% of the filler is `internal`, so the industry audience's filter excludes
   something;
3. each index is loaded as the bot loads it, warmed up, then timed for ~50 answerable questions of
   the eval set: `HybridRetriever.search` (hybrid, k=8) and `AnswerService.ask` (extractive), for
   the industry audience (public only: a Chroma `where` and a BM25 mask) and for staff (every
   visibility: no `where`);
4. at every size, the Chroma query alone (the 100 dense candidates hybrid search asks for) with and
   without the industry `where`, to isolate what the filter costs.

Latencies are wall-clock milliseconds on whatever else the machine is doing; the load average is
reported with them.

Main helpers:
    run_benchmark: do all of the above and return a `RetrievalBenchmark`.
    build_synthetic_index: real chunks plus filler into a fresh data dir.
    format_report: the table.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

if TYPE_CHECKING:
    from gcot.settings import Settings
    from store import IndexSnapshot, IndexWriter
    from store.chroma import VectorStore

DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_QUESTIONS = Path("evals/datasets/gcot.jsonl")
DEFAULT_WORKDIR = Path(".data/bench/retrieval")
AUDIENCES = ("industry", "staff")
K = 8
INTERNAL_SHARE = 0.02
"""Share of the filler marked `internal`."""
NOISE = 0.05
"""Standard deviation per dimension of the noise added to a real embedding (384 dims: cosine ~0.7 to it)."""
_BATCH = 5000
"""Filler chunks generated and upserted together (Chroma accepts at most 5,461 per call)."""
_CHUNKS_PER_DOC = 10
_WARMUP = 3


class Latency(TypedDict):
    p50_ms: float
    p95_ms: float
    mean_ms: float
    cpu_mean_ms: float
    """Process CPU time per call (all threads): less skewed than wall clock when the machine is busy."""
    n: int


class FilterCost(TypedDict):
    n_results: int
    where_p50_ms: float
    where_p95_ms: float
    """Chroma query with the industry audience's `where` (visibility in [public])."""
    no_where_p50_ms: float
    no_where_p95_ms: float
    """The same query unfiltered, as for staff."""
    p50_ratio: float
    recall_at_10: float
    """Share of the exact top 10 (numpy over every allowed vector) the audience's served dense search returns."""
    dense_search: str
    """How the audience's collections were searched: `exact` (vectors held, `GCOT_DENSE_EXACT_MAX_CHUNKS`) or `hnsw`."""
    hnsw_recall_at_10: float
    """The same recall through Chroma's HNSW alone (`GCOT_DENSE_EXACT_MAX_CHUNKS=0`), for comparison."""


class SizeResult(TypedDict):
    label: str
    chunks: int
    synthetic: int
    internal: int
    """Chunks marked internal (all synthetic: the real corpus is public)."""
    build_seconds: float
    """Ingest of the real corpus, or writing real chunks plus filler for a synthetic size."""
    load_seconds: float
    """`HybridRetriever.from_settings` + `AnswerService`: what a bot start-up pays."""
    first_query_ms: float
    """The first search after loading (Chroma reads its HNSW index), not in the percentiles."""
    retrieval: dict[str, Latency]
    answer: dict[str, Latency]
    gold_in_top_k: dict[str, float]
    """Share of questions with a gold document among the k hits: the filler must not crowd out answers."""
    answered: dict[str, float]
    """Share of questions `ask` answered."""
    filter_cost: FilterCost
    serving_rss_mib: float | None
    """Peak RSS of a fresh serving process (index loaded, 40 answers)."""


class RetrievalBenchmark(TypedDict):
    questions: int
    k: int
    sizes: list[SizeResult]
    cpu_count: int
    torch_threads: int
    """Embedding intra-op threads (torch and ONNX Runtime), `GCOT_EMBEDDING_THREADS`."""
    query_encoder: str
    """How queries were embedded: `onnx-int8`, `onnx-fp32` or `torch-fp32`."""
    load_average_after: list[float]
    load_average: list[float]
    """1/5/15-minute load before the run: other work on the machine skews every figure."""


# --- synthetic index -------------------------------------------------------------------------------


def _read_index(settings: Settings) -> tuple[list[StoredChunk], np.ndarray, dict[str, DocumentRecord]]:
    """Every chunk of an index with its stored embedding, and the document records."""
    from store import open_reader

    snapshot = open_reader(settings).snapshot()
    chunks: list[StoredChunk] = []
    vectors: list[np.ndarray] = []
    for store in snapshot.collections.values():
        held = {c.chunk_id: c for c in store.iter_chunks() if c.chunk_id in snapshot._visibility_of}  # noqa: SLF001
        ids = sorted(held)
        for start in range(0, len(ids), _BATCH):
            found, embedded, _texts = store.full(ids[start : start + _BATCH])
            chunks.extend(held[cid] for cid in found)
            vectors.append(embedded)
    return chunks, np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32), dict(snapshot.records)


def _filler(
    start: int, count: int, *, texts_words: list[np.ndarray], vocabulary: np.ndarray, metadatas: list[dict[str, Any]],
    vectors: np.ndarray, rng: np.random.Generator, internal_share: float, noise: float,
) -> tuple[list[str], np.ndarray, list[str], list[dict[str, Any]], list[list[str]]]:
    """`count` synthetic chunks numbered from `start`, each modelled on a random real chunk, and their sentences."""
    bases = rng.integers(0, len(texts_words), size=count)
    noisy = vectors[bases] + rng.normal(0.0, noise, size=(count, vectors.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    ids, texts, metas, sentences = [], [], [], []
    for offset, base in enumerate(bases):
        number = start + offset
        doc = number // _CHUNKS_PER_DOC
        # Visibility is per document (its chunks live in its visibility's collection): a fixed hash picks.
        internal = (doc * 2654435761) % 10_000 < internal_share * 10_000
        own = texts_words[base]
        length = max(len(own), 8)
        # Mostly the base chunk's words (so the text roughly matches its vector), the rest from anywhere.
        words = [*rng.choice(own, size=int(length * 0.6)), *rng.choice(vocabulary, size=length - int(length * 0.6))]
        rng.shuffle(words)
        # One sentence per paragraph: `gcot.sentences` splits it back into exactly these sentences.
        chunk_sentences = [" ".join(words[i : i + 14]).capitalize() + "." for i in range(0, len(words), 14)]
        doc_id = f"synthetic-{doc:06d}"
        ids.append(f"{doc_id}:{'0' * 12}:{number % _CHUNKS_PER_DOC:04d}")
        texts.append("\n\n".join(chunk_sentences))
        sentences.append(chunk_sentences)
        meta = dict(metadatas[base])
        meta.update(
            doc_id=doc_id, title=f"Synthetic filler document {doc}", heading=f"Synthetic filler document {doc}",
            chunk_index=number % _CHUNKS_PER_DOC, visibility="internal" if internal else "public",
            source_url=f"https://example.invalid/synthetic/{doc_id}", content_hash=f"{number:016x}",
        )
        metas.append(meta)
    return ids, noisy, texts, metas, sentences


def _sentence_vectors(base: np.ndarray, sentences: list[list[str]], rng: np.random.Generator, noise: float) -> list[np.ndarray]:
    """Sentence vectors near their chunk's vector (what a real chunk's sentences look like, roughly)."""
    out = []
    for vector, chunk_sentences in zip(base, sentences, strict=True):
        noisy = vector + rng.normal(0.0, noise, size=(len(chunk_sentences), base.shape[1])).astype(np.float32)
        out.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return out


def build_synthetic_index(
    source: Settings, target: Settings, *, chunks: int, seed: int = 0, internal_share: float = INTERNAL_SHARE,
    noise: float = NOISE,
) -> dict[str, Any]:
    """Copy every chunk of `source`'s index into `target`'s data dir and add filler up to `chunks`.

    Written through the store's own writer (one collection per visibility, document records,
    sentence vectors, the lexical index, the published version), so it loads like any index.

    Args:
        source: settings of an ingested index (the real corpus).
        target: settings whose data dir receives the new index; it must not hold one yet.
        chunks: total chunks wanted, real ones included.
        seed: random seed for the filler. Defaults to 0.
        internal_share: share of the filler marked `internal`. Defaults to 0.02.
        noise: per-dimension standard deviation of the noise added to real embeddings. Defaults to 0.05.

    Returns:
        {"chunks", "synthetic", "internal", "vectors": every chunk's (id, visibility, vector) for exact search}.
    """
    from encoder import model_info
    from gcot.sentences import split_sentences
    from store import DocumentRecord, open_writer
    from store.sentences import SentenceVectors, _open

    name, dimension = model_info(source.model_path())
    real, vectors, records = _read_index(source)
    if not real:
        msg = f"the source index in {source.data_dir} is empty"
        raise ValueError(msg)
    real_sentences = [[s.text for s in split_sentences(c.text)] for c in real]
    stored = SentenceVectors(source).lookup([(c.chunk_id, s) for c, s in zip(real, real_sentences, strict=True)])
    rng = np.random.default_rng(seed)
    all_ids = [c.chunk_id for c in real]
    all_vis = [c.metadata["visibility"] for c in real]
    all_vectors = [vectors]
    with open_writer(target, model_name=name, dimension=dimension, purpose="gcot bench retrieval") as writer:
        if writer.records():
            msg = f"{target.data_dir} already holds an index"
            raise ValueError(msg)
        sentences = _open(target, create=True)
        for visibility in {c.metadata["visibility"] for c in real}:
            idx = [i for i, c in enumerate(real) if c.metadata["visibility"] == visibility]
            writer.add(visibility, [real[i].chunk_id for i in idx], vectors[idx], [real[i].text for i in idx], [real[i].metadata for i in idx])
        have = [i for i, c in enumerate(real) if c.chunk_id in stored]
        sentences.put([real[i].chunk_id for i in have], [real_sentences[i] for i in have], [stored[real[i].chunk_id] for i in have])
        for record in records.values():
            writer.put_record(record)
        words = [np.array(re.findall(r"[A-Za-z][A-Za-z'-]+|\d+", c.text) or ["telecoms"]) for c in real]
        vocabulary = np.concatenate(words)
        metadatas = [c.metadata for c in real]
        synthetic, internal = max(0, chunks - len(real)), 0
        by_doc: dict[str, list[str]] = {}
        for start in range(0, synthetic, _BATCH):
            f_ids, f_vectors, f_texts, f_metas, f_sentences = _filler(
                start, min(_BATCH, synthetic - start), texts_words=words, vocabulary=vocabulary, metadatas=metadatas,
                vectors=vectors, rng=rng, internal_share=internal_share, noise=noise,
            )
            for visibility in ("public", "internal"):
                idx = [i for i, m in enumerate(f_metas) if m["visibility"] == visibility]
                if idx:
                    writer.add(visibility, [f_ids[i] for i in idx], f_vectors[idx], [f_texts[i] for i in idx], [f_metas[i] for i in idx])
            sentences.put(f_ids, f_sentences, _sentence_vectors(f_vectors, f_sentences, rng, noise))
            internal += sum(meta["visibility"] == "internal" for meta in f_metas)
            for chunk_id, meta in zip(f_ids, f_metas, strict=True):
                by_doc.setdefault(meta["doc_id"], [meta["visibility"]]).append(chunk_id)
            all_ids.extend(f_ids)
            all_vis.extend(m["visibility"] for m in f_metas)
            all_vectors.append(f_vectors)
        for doc_id, (visibility, *chunk_ids) in by_doc.items():
            writer.put_record(DocumentRecord(doc_id=doc_id, title=f"Synthetic filler document {doc_id}", visibility=visibility,
                                             chunk_ids=tuple(chunk_ids), path=f"synthetic://{doc_id}"))
        writer.publish()
    return {"chunks": len(real) + synthetic, "synthetic": synthetic, "internal": internal,
            "vectors": (all_ids, all_vis, np.concatenate(all_vectors))}


# --- timing ----------------------------------------------------------------------------------------


def _latency(samples: Sequence[tuple[float, float]]) -> Latency:
    wall = np.asarray([w for w, _ in samples], dtype=float)
    cpu = np.asarray([c for _, c in samples], dtype=float)
    return Latency(
        p50_ms=round(float(np.percentile(wall, 50)), 1),
        p95_ms=round(float(np.percentile(wall, 95)), 1),
        mean_ms=round(float(wall.mean()), 1),
        cpu_mean_ms=round(float(cpu.mean()), 1),
        n=int(wall.size),
    )


def _timed(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[tuple[float, float]], list[Any]]:
    """(wall ms, CPU ms) per call, and the results."""
    samples, results = [], []
    for item in items:
        wall, cpu = time.perf_counter(), time.process_time()
        results.append(fn(item))
        samples.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
    return samples, results


def _measure(settings: Settings, questions: list, *, embedder, label: str, build_seconds: float) -> SizeResult:
    """Load the index in `settings` as the bot does, then time search, ask and the bare dense query."""
    from bot.answer.service import AnswerService
    from store import open_reader

    started = time.perf_counter()
    service = AnswerService.from_settings(settings, embedder=embedder)
    retriever = service.retriever
    load_seconds = time.perf_counter() - started
    texts = [q.question for q in questions]
    started = time.perf_counter()
    retriever.search(texts[0], k=K, visibilities=settings.visibilities_for("industry"))
    first_query_ms = (time.perf_counter() - started) * 1000

    retrieval: dict[str, Latency] = {}
    answer: dict[str, Latency] = {}
    gold: dict[str, float] = {}
    answered: dict[str, float] = {}
    for audience in AUDIENCES:
        visibilities = settings.visibilities_for(audience)
        for text in texts[:_WARMUP]:
            service.ask(text, audience=audience)
        samples, hits = _timed(lambda text, v=visibilities: retriever.search(text, k=K, visibilities=v), texts)
        retrieval[audience] = _latency(samples)
        gold[audience] = round(
            float(np.mean([bool({h.doc_id for h in found} & set(q.gold_doc_ids)) for q, found in zip(questions, hits, strict=True)])), 3
        )
        samples, answers = _timed(lambda text, a=audience: service.ask(text, audience=a), texts)
        answer[audience] = _latency(samples)
        answered[audience] = round(float(np.mean([a.status == "answered" for a in answers])), 3)

    snapshot = retriever.live.current().snapshot
    chunks, vectors, _records = _read_index(settings)
    visibility = np.array([c.metadata["visibility"] for c in chunks])
    hnsw_snapshot = open_reader(settings.model_copy(update={"dense_exact_max_chunks": 0})).snapshot()
    filter_cost = _filter_cost(snapshot, [embedder.embed_query(t) for t in texts], settings.visibilities_for("industry"),
                               ids=[c.chunk_id for c in chunks], vectors=vectors, visibility=visibility,
                               hnsw_snapshot=hnsw_snapshot)
    return SizeResult(
        label=label, chunks=len(chunks), synthetic=sum(c.chunk_id.startswith("synthetic-") for c in chunks),
        internal=int((visibility == "internal").sum()),
        build_seconds=round(build_seconds, 1), load_seconds=round(load_seconds, 2), first_query_ms=round(first_query_ms, 1),
        retrieval=retrieval, answer=answer, gold_in_top_k=gold, answered=answered, filter_cost=filter_cost,
        serving_rss_mib=_serving_rss(settings, texts[:20]),
    )


def _filter_cost(snapshot, queries: list[np.ndarray], visibilities: list[str], *, ids: list[str], vectors: np.ndarray,
                 visibility: np.ndarray, n_results: int = 100, hnsw_snapshot=None) -> FilterCost:
    """The dense query alone for the industry audience (its visibilities' collections) and for staff (all),
    interleaved so load hits both alike; and recall@10 of the audience's served search (and of HNSW alone,
    through `hnsw_snapshot`) against exact search."""
    for vector in queries[:_WARMUP]:
        snapshot.query(vector, k=n_results, visibilities=visibilities)
        snapshot.query(vector, k=n_results, visibilities=None)
    filtered, unfiltered = [], []
    for _ in range(2):
        for vector in queries:
            filtered.extend(_timed(lambda v: snapshot.query(v, k=n_results, visibilities=visibilities), [vector])[0])
            unfiltered.extend(_timed(lambda v: snapshot.query(v, k=n_results, visibilities=None), [vector])[0])
    recall = partial(_recall_at_10, queries=queries, visibilities=visibilities, ids=ids, vectors=vectors, visibility=visibility)
    with_where, without = _latency(filtered), _latency(unfiltered)
    held = {v for v in visibilities if (visibility == v).any()}
    return FilterCost(
        n_results=n_results, where_p50_ms=with_where["p50_ms"], where_p95_ms=with_where["p95_ms"],
        no_where_p50_ms=without["p50_ms"], no_where_p95_ms=without["p95_ms"],
        p50_ratio=round(with_where["p50_ms"] / max(without["p50_ms"], 0.01), 2),
        recall_at_10=recall(snapshot), dense_search="exact" if held <= set(snapshot.exact) else "hnsw",
        hnsw_recall_at_10=recall(hnsw_snapshot) if hnsw_snapshot is not None else recall(snapshot),
    )


def _recall_at_10(snapshot, *, queries: list[np.ndarray], visibilities: list[str], ids: list[str], vectors: np.ndarray,
                  visibility: np.ndarray) -> float:
    """Mean share of the exact top 10 (numpy over every allowed vector) that `snapshot.query` returns."""
    allowed = np.isin(visibility, visibilities)
    recalls = []
    for vector in queries:
        scores = np.where(allowed, vectors @ np.asarray(vector, dtype=np.float32), -np.inf)
        exact = {ids[i] for i in np.argsort(-scores)[:10]}
        found = {chunk.chunk_id for chunk, _ in snapshot.query(vector, k=10, visibilities=visibilities)}
        recalls.append(len(found & exact) / max(1, len(exact)))
    return round(float(np.mean(recalls)), 4)


_RSS_SCRIPT = """
import json, resource, sys
from pathlib import Path
from gcot.settings import Settings
from bot.answer.service import AnswerService
settings = Settings(_env_file=None, data_dir=Path(sys.argv[1]), chroma_host=None, chroma_port=None,
                    embedding_cache_dir=Path(sys.argv[2]))
service = AnswerService.from_settings(settings)
for question in json.loads(sys.argv[3]):
    for audience in ("industry", "staff"):
        service.ask(question, audience=audience)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forked parent across exec.
status = Path("/proc/self/status")
hwm = [line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmHWM")] if status.exists() else []
print(int(hwm[0]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _serving_rss(settings: Settings, questions: list[str]) -> float | None:
    """Peak RSS (MiB) of a fresh process that loads the index as a server does and answers `questions`."""
    import json
    import subprocess
    import sys

    from encoder.factory import onnx_cache_root

    done = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(settings.data_dir), str(onnx_cache_root(settings)), json.dumps(questions)],
        capture_output=True, text=True, timeout=1800, check=False,
    )
    try:
        return round(float(done.stdout.strip().splitlines()[-1]), 1)
    except (ValueError, IndexError):
        logging.getLogger(__name__).warning("serving RSS not measured", extra={"stderr_tail": done.stderr[-300:]})
        return None


_EF_SCRIPT = """
import json, os, sys
from pathlib import Path
from evals.bench_retrieval import pick_questions, filter_cost
from gcot.settings import Settings
data_dir, cache, questions, n, ef = sys.argv[1:6]
settings = Settings(_env_file=None, data_dir=Path(data_dir), chroma_host=None, chroma_port=None,
                    embedding_cache_dir=Path(cache), chroma_hnsw_ef_search=int(ef), dense_exact_max_chunks=0)
load = os.getloadavg()
result = filter_cost(settings, [q.question for q in pick_questions(Path(questions), int(n))])
print(json.dumps({**result, "ef_search": int(ef), "load_average": [round(x, 2) for x in load]}))
"""


def filter_cost(settings: Settings, texts: list[str]) -> FilterCost:
    """`_filter_cost` on the index in `settings`, opened as a serving process does (so its
    `chroma_hnsw_ef_search` is applied to the collections first)."""
    from encoder import load_embedder
    from store import open_reader

    embedder = load_embedder(settings)
    snapshot = open_reader(settings).snapshot()
    chunks, vectors, _records = _read_index(settings)
    visibility = np.array([c.metadata["visibility"] for c in chunks])
    return _filter_cost(snapshot, [embedder.embed_query(t) for t in texts], settings.visibilities_for("industry"),
                        ids=[c.chunk_id for c in chunks], vectors=vectors, visibility=visibility)


def ef_search_sweep(data_dir: Path, values: Sequence[int], *, questions: Path = DEFAULT_QUESTIONS, n_questions: int = 50,
                    cache_dir: Path | None = None, rounds: int = 1) -> list[dict]:
    """Filtered recall@10 and dense query p50/p95 of one built index at each HNSW `ef_search` value.

    Each value runs in a fresh process (Chroma keeps a loaded HNSW index for the process's life), in
    `rounds` interleaved passes so load on a shared machine hits every value alike. Leaves the index
    set to the last value.
    """
    import json
    import subprocess
    import sys

    cache = Path(cache_dir or Path(data_dir).parent / "models")
    rows = []
    for _round in range(rounds):
        for ef in values:
            done = subprocess.run(
                [sys.executable, "-c", _EF_SCRIPT, str(data_dir), str(cache), str(questions), str(n_questions), str(ef)],
                capture_output=True, text=True, timeout=3600, check=True,
            )
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def pick_questions(path: Path, n: int) -> list:
    """`n` answerable, single-turn eval questions, spread evenly over the file (hence its categories)."""
    from evals.dataset import load_questions

    pool = [q for q in load_questions(path) if q.answerable and not q.history]
    if not pool:
        msg = f"no answerable single-turn questions in {path}"
        raise ValueError(msg)
    step = max(1, len(pool) // n)
    return pool[::step][:n]


# --- PUBLIC API ------------------------------------------------------------------------------------


def run_benchmark(
    corpus: Path = Path("corpus"),
    *,
    questions: Path = DEFAULT_QUESTIONS,
    n_questions: int = 50,
    sizes: Sequence[int] = DEFAULT_SIZES,
    seed: int = 0,
    threads: int | None = None,
    embedder=None,
    workdir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> RetrievalBenchmark:
    """Time hybrid search and extractive answers on the real corpus index and on larger synthetic ones.

    Args:
        corpus: the folder ingested as the real index. Defaults to `corpus/`.
        questions: the eval file the questions come from. Defaults to `evals/datasets/gcot.jsonl`.
        n_questions: answerable single-turn questions timed at each size. Defaults to 50.
        sizes: total chunk counts of the synthetic indexes. Defaults to (10000, 100000).
        seed: random seed for the filler. Defaults to 0.
        threads: embedding threads (`GCOT_EMBEDDING_THREADS`). Defaults to the setting's default.
        embedder: an already-loaded document `Embedder` for the ingest; loaded here otherwise (not timed).
            Queries are embedded as a serving process does (`load_embedder`).
        workdir: where the data dirs go, kept for the next run (the synthetic indexes are built once
            per corpus version). Defaults to `.data/bench/retrieval`.
        progress: called with a short line as each stage starts. Defaults to None (silent).

    Returns:
        RetrievalBenchmark with one SizeResult per index, smallest first.
    """
    from encoder import Embedder, load_embedder
    from gcot.settings import Settings
    from ingest.pipeline import ingest

    corpus = Path(corpus).resolve()
    if not corpus.is_dir():
        msg = f"corpus folder not found: {corpus}"
        raise FileNotFoundError(msg)
    say = progress or (lambda _line: None)
    picked = pick_questions(Path(questions), n_questions)
    load_average = list(os.getloadavg())
    work = Path(workdir or DEFAULT_WORKDIR)
    answer_log = logging.getLogger("bot.answer.service")
    previous_level = answer_log.level
    answer_log.setLevel(logging.WARNING)  # one INFO line per answer would drown the report

    def settings_for(name: str) -> Settings:
        return Settings(_env_file=None, data_dir=work / name, chroma_host=None, chroma_port=None,
                        embedding_cache_dir=work / "models", **({"embedding_threads": threads} if threads else {}))

    try:
        real = settings_for("real")
        embedder = embedder or Embedder(real.model_path(), batch_size=real.embedding_batch_size, threads=real.embedding_threads)
        queries = load_embedder(real)  # what a serving process embeds queries with (ONNX where it can)
        say(f"ingesting {corpus}")
        started = time.perf_counter()
        result = ingest([corpus], settings=real, embedder=embedder)
        if result["errors"] or not result["chunks_total"]:
            msg = f"benchmark ingest failed: {result['errors'] or 'no chunks'}"
            raise RuntimeError(msg)
        say(f"timing the corpus index ({result['chunks_total']} chunks)")
        results = [_measure(real, picked, embedder=queries, label="corpus", build_seconds=time.perf_counter() - started)]
        for size in sorted(sizes):
            if size <= result["chunks_total"]:
                continue
            label = f"{size // 1000}k" if size % 1000 == 0 else str(size)
            target = settings_for(f"synthetic-{size}-{result['index_version']}")
            started = time.perf_counter()
            if not _has_index(target):  # built once per corpus version, then reused
                say(f"building the {label} index")
                shutil.rmtree(target.data_dir, ignore_errors=True)
                build_synthetic_index(real, target, chunks=size, seed=seed)
            build_seconds = time.perf_counter() - started
            say(f"timing the {label} index")
            results.append(_measure(target, picked, embedder=queries, label=label, build_seconds=build_seconds))
        return RetrievalBenchmark(
            questions=len(picked), k=K, sizes=results, cpu_count=os.cpu_count() or 0,
            torch_threads=real.embedding_threads, query_encoder=f"{queries.backend}-{queries.variant}",
            load_average=[round(x, 2) for x in load_average], load_average_after=[round(x, 2) for x in os.getloadavg()],
        )
    finally:
        answer_log.setLevel(previous_level)


def _has_index(settings: Settings) -> bool:
    from store import open_reader

    if not settings.chroma_path.exists():
        return False
    try:
        open_reader(settings).close()
    except FileNotFoundError:
        return False
    return True


def format_report(result: RetrievalBenchmark) -> str:
    """The table: p50/p95 wall ms (and mean CPU ms) per index size and audience, then the filter's cost."""
    header = (
        f"{'index':<7}{'chunks':>9}{'internal':>9}{'build s':>9}{'load s':>8}  "
        f"{'search industry':>18}{'search staff':>18}  {'ask industry':>18}{'ask staff':>18}  {'gold@8':>11}{'answered':>11}"
    )
    lines = [
        f"{result['questions']} answerable eval questions, hybrid k={result['k']}, extractive answers "
        f"({result['cpu_count']} CPUs, queries {result['query_encoder']}, {result['torch_threads']} embedding thread(s), "
        f"load average {result['load_average'][0]:.2f} at start, {result['load_average_after'][0]:.2f} at end)",
        "latency columns: p50/p95 wall ms (mean CPU ms); gold@8 and answered: industry/staff shares",
        header,
        "-" * len(header),
    ]

    def cell(latency: Latency) -> str:
        return f"{latency['p50_ms']:.0f}/{latency['p95_ms']:.0f} ({latency['cpu_mean_ms']:.0f})"

    for size in result["sizes"]:
        lines.append(
            f"{size['label']:<7}{size['chunks']:>9,}{size['internal']:>9,}{size['build_seconds']:>9.1f}{size['load_seconds']:>8.2f}  "
            f"{cell(size['retrieval']['industry']):>18}{cell(size['retrieval']['staff']):>18}  "
            f"{cell(size['answer']['industry']):>18}{cell(size['answer']['staff']):>18}  "
            f"{size['gold_in_top_k']['industry']:>5.2f}/{size['gold_in_top_k']['staff']:<5.2f}"
            f"{size['answered']['industry']:>5.2f}/{size['answered']['staff']:<5.2f}"
        )
    lines += ["", "Dense query alone (100 candidates), p50/p95 wall ms: industry (its visibility's collection) vs staff (all, fused);"
              " recall@10 vs exact of the industry search as served and of HNSW alone; peak RSS of a serving process"]
    for size in result["sizes"]:
        cost = size["filter_cost"]
        lines.append(
            f"  {size['label']:<7} where {cost['where_p50_ms']:.1f}/{cost['where_p95_ms']:.1f}   "
            f"no where {cost['no_where_p50_ms']:.1f}/{cost['no_where_p95_ms']:.1f}   p50 x{cost['p50_ratio']:.2f}"
            f"   recall@10 {cost['recall_at_10']:.3f} ({cost['dense_search']}; HNSW {cost['hnsw_recall_at_10']:.3f})   RSS {size['serving_rss_mib'] or 0:.0f} MiB"
            f"   (first search after load {size['first_query_ms']:.0f} ms)"
        )
    return "\n".join(lines)
