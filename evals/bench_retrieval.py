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
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

if TYPE_CHECKING:
    from gcot.settings import Settings
    from store import IndexSnapshot, IndexWriter
    from store.chroma import VectorStore

DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_QUESTIONS = Path("evals/datasets/gcot.jsonl")
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


class RetrievalBenchmark(TypedDict):
    questions: int
    k: int
    sizes: list[SizeResult]
    cpu_count: int
    torch_threads: int
    """Intra-op threads torch used for query and sentence embeddings."""
    load_average: list[float]
    """1/5/15-minute load before the run: other work on the machine skews every figure."""


# --- synthetic index -------------------------------------------------------------------------------


def _read_store(snapshot: IndexSnapshot) -> tuple[list[str], list[str], list[dict[str, Any]], np.ndarray]:
    """Every current chunk of an index: ids, texts, metadata and stored embeddings."""
    ids = [chunk_id for record in snapshot.documents() for chunk_id in record.chunk_ids]
    chunks = {chunk.chunk_id: chunk for chunk in snapshot.get(ids)}
    ids = [chunk_id for chunk_id in ids if chunk_id in chunks]
    vectors: dict[str, np.ndarray] = {}
    for visibility, store in snapshot.collections.items():
        found, embeddings, _texts = store.full([cid for cid in ids if chunks[cid].metadata["visibility"] == visibility])
        vectors.update(zip(found, embeddings, strict=True))
    matrix = np.stack([vectors[cid] for cid in ids]) if ids else np.zeros((0, 0), dtype=np.float32)
    return ids, [chunks[cid].text for cid in ids], [dict(chunks[cid].metadata) for cid in ids], matrix


def _write_chunks(writer: IndexWriter, ids: list[str], vectors: np.ndarray, texts: list[str],
                  metadatas: list[dict[str, Any]]) -> None:
    """Add chunks to their visibility's collection through the store's writer."""
    by_visibility: dict[str, list[int]] = {}
    for index, meta in enumerate(metadatas):
        by_visibility.setdefault(meta["visibility"], []).append(index)
    for visibility, indexes in by_visibility.items():
        writer.add(visibility, [ids[i] for i in indexes], vectors[indexes], [texts[i] for i in indexes],
                   [metadatas[i] for i in indexes])


def _internal_doc(doc: int, share: float) -> bool:
    """Whether filler document `doc` is `internal` (per document, as a document has one visibility)."""
    return ((doc * 2654435761) % 2**32) / 2**32 < share


def _filler(
    start: int, count: int, *, texts_words: list[np.ndarray], vocabulary: np.ndarray, metadatas: list[dict[str, Any]],
    vectors: np.ndarray, rng: np.random.Generator, internal_share: float, noise: float,
) -> tuple[list[str], np.ndarray, list[str], list[dict[str, Any]]]:
    """`count` synthetic chunks numbered from `start`, each modelled on a random real chunk."""
    bases = rng.integers(0, len(texts_words), size=count)
    noisy = vectors[bases] + rng.normal(0.0, noise, size=(count, vectors.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    ids, texts, metas = [], [], []
    for offset, base in enumerate(bases):
        number = start + offset
        doc = number // _CHUNKS_PER_DOC
        own = texts_words[base]
        length = max(len(own), 8)
        # Mostly the base chunk's words (so the text roughly matches its vector), the rest from anywhere.
        words = [*rng.choice(own, size=int(length * 0.6)), *rng.choice(vocabulary, size=length - int(length * 0.6))]
        rng.shuffle(words)
        sentences = [" ".join(words[i : i + 14]).capitalize() + "." for i in range(0, len(words), 14)]
        doc_id = f"synthetic-{doc:06d}"
        ids.append(f"{doc_id}:{'0' * 12}:{number % _CHUNKS_PER_DOC:04d}")
        texts.append(" ".join(sentences))
        meta = dict(metadatas[base])
        meta.update(
            doc_id=doc_id, title=f"Synthetic filler document {doc}", heading=f"Synthetic filler document {doc}",
            chunk_index=number % _CHUNKS_PER_DOC, visibility="internal" if _internal_doc(doc, internal_share) else "public",
            source_url=f"https://example.invalid/synthetic/{doc_id}", content_hash=f"{number:016x}",
        )
        metas.append(meta)
    return ids, noisy, texts, metas


def build_synthetic_index(
    source: Settings, target: Settings, *, chunks: int, seed: int = 0, internal_share: float = INTERNAL_SHARE,
    noise: float = NOISE,
) -> dict[str, int]:
    """Copy every chunk of `source`'s index into `target`'s data dir and add filler up to `chunks`.

    Args:
        source: settings of an ingested index (the real corpus).
        target: settings whose data dir receives the new index; it must not hold one yet.
        chunks: total chunks wanted, real ones included.
        seed: random seed for the filler. Defaults to 0.
        internal_share: share of the filler marked `internal`. Defaults to 0.02.
        noise: per-dimension standard deviation of the noise added to real embeddings. Defaults to 0.05.

    Returns:
        {"chunks": total, "synthetic": filler chunks, "internal": internal chunks}.
    """
    from encoder import model_info
    from store import DocumentRecord, open_reader, open_writer

    name, dimension = model_info(source.model_path())
    real = open_reader(source).snapshot()
    ids, texts, metadatas, vectors = _read_store(real)
    if not ids:
        msg = f"the source index in {source.data_dir} is empty"
        raise ValueError(msg)
    with open_writer(target, model_name=name, dimension=dimension, purpose="gcot bench retrieval") as writer:
        if any(writer.stored_ids().values()):
            msg = f"{target.data_dir} already holds an index"
            raise ValueError(msg)
        _write_chunks(writer, ids, vectors, texts, metadatas)
        # Records name every chunk (Chroma is the truth): the published version and `gcot index check` cover them.
        for record in real.documents():
            writer.put_record(record)
        words = [np.array(re.findall(r"[A-Za-z][A-Za-z'-]+|\d+", text) or ["telecoms"]) for text in texts]
        vocabulary = np.concatenate(words)
        rng = np.random.default_rng(seed)
        synthetic, internal = max(0, chunks - len(ids)), 0
        by_doc: dict[str, tuple[str, list[str]]] = {}
        for start in range(0, synthetic, _BATCH):
            f_ids, f_vectors, f_texts, f_metas = _filler(
                start, min(_BATCH, synthetic - start), texts_words=words, vocabulary=vocabulary, metadatas=metadatas,
                vectors=vectors, rng=rng, internal_share=internal_share, noise=noise,
            )
            _write_chunks(writer, f_ids, f_vectors, f_texts, f_metas)
            internal += sum(meta["visibility"] == "internal" for meta in f_metas)
            for chunk_id, meta in zip(f_ids, f_metas, strict=True):
                by_doc.setdefault(meta["doc_id"], (meta["visibility"], []))[1].append(chunk_id)
        for doc_id, (visibility, chunk_ids) in by_doc.items():
                writer.put_record(DocumentRecord(doc_id=doc_id, title=f"Synthetic {doc_id}", visibility=visibility,
                                             chunk_ids=tuple(chunk_ids), path=f"synthetic://{doc_id}",
                                             file_hash="synthetic", metadata_hash="synthetic"))
        writer.publish()
    return {"chunks": len(ids) + synthetic, "synthetic": synthetic, "internal": internal}


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
    """Load the index in `settings` as the bot does, then time search, ask and the bare Chroma query."""
    from bot.answer.service import AnswerService
    from bot.retrieve.hybrid import HybridRetriever

    started = time.perf_counter()
    retriever = HybridRetriever.from_settings(settings, embedder=embedder)
    service = AnswerService(retriever, settings=settings)
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

    filter_cost = _filter_cost(retriever.store, [embedder.embed_query(t) for t in texts], settings.visibilities_for("industry"))
    metadatas = {"internal": 0, "synthetic": 0}
    for meta in retriever.store.metadatas():
        metadatas["internal"] += meta.get("visibility") == "internal"
        metadatas["synthetic"] += str(meta.get("doc_id", "")).startswith("synthetic-")
    return SizeResult(
        label=label, chunks=retriever.store.count(), synthetic=metadatas["synthetic"], internal=metadatas["internal"],
        build_seconds=round(build_seconds, 1), load_seconds=round(load_seconds, 2), first_query_ms=round(first_query_ms, 1),
        retrieval=retrieval, answer=answer, gold_in_top_k=gold, answered=answered, filter_cost=filter_cost,
    )


def _filter_cost(store: VectorStore, vectors: list[np.ndarray], visibilities: list[str], *, n_results: int = 100) -> FilterCost:
    """The Chroma query alone, with and without the audience `where`, interleaved so load hits both alike."""
    for vector in vectors[:_WARMUP]:
        store.query(vector, k=n_results, visibilities=visibilities)
        store.query(vector, k=n_results, visibilities=None)
    filtered, unfiltered = [], []
    for _ in range(2):
        for vector in vectors:
            filtered.extend(_timed(lambda v: store.query(v, k=n_results, visibilities=visibilities), [vector])[0])
            unfiltered.extend(_timed(lambda v: store.query(v, k=n_results, visibilities=None), [vector])[0])
    with_where, without = _latency(filtered), _latency(unfiltered)
    return FilterCost(
        n_results=n_results, where_p50_ms=with_where["p50_ms"], where_p95_ms=with_where["p95_ms"],
        no_where_p50_ms=without["p50_ms"], no_where_p95_ms=without["p95_ms"],
        p50_ratio=round(with_where["p50_ms"] / max(without["p50_ms"], 0.01), 2),
    )


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
    torch_threads: int | None = None,
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
        torch_threads: set torch's intra-op threads first. Defaults to None (torch's default, as the bot runs).
        embedder: an already-loaded `Embedder`; loaded here otherwise (not timed).
        workdir: where the data dirs go. Defaults to a temp folder, removed afterwards.
        progress: called with a short line as each stage starts. Defaults to None (silent).

    Returns:
        RetrievalBenchmark with one SizeResult per index, smallest first.
    """
    import torch

    from gcot.settings import Settings
    from encoder import Embedder
    from ingest.pipeline import ingest

    if torch_threads:
        torch.set_num_threads(torch_threads)
    corpus = Path(corpus).resolve()
    if not corpus.is_dir():
        msg = f"corpus folder not found: {corpus}"
        raise FileNotFoundError(msg)
    say = progress or (lambda _line: None)
    picked = pick_questions(Path(questions), n_questions)
    load_average = list(os.getloadavg())
    owned = workdir is None
    work = Path(tempfile.mkdtemp(prefix="gcot-bench-retrieval-")) if owned else Path(workdir)
    answer_log = logging.getLogger("bot.answer.service")
    previous_level = answer_log.level
    answer_log.setLevel(logging.WARNING)  # one INFO line per answer would drown the report
    try:
        def settings_for(name: str) -> Settings:
            return Settings(_env_file=None, data_dir=work / name, chroma_host=None, chroma_port=None)

        real = settings_for("real")
        embedder = embedder or Embedder(real.model_path(), batch_size=real.embedding_batch_size)
        say(f"ingesting {corpus}")
        started = time.perf_counter()
        result = ingest([corpus], settings=real, embedder=embedder)
        if result["errors"] or not result["chunks_total"]:
            msg = f"benchmark ingest failed: {result['errors'] or 'no chunks'}"
            raise RuntimeError(msg)
        say(f"timing the corpus index ({result['chunks_total']} chunks)")
        results = [_measure(real, picked, embedder=embedder, label="corpus", build_seconds=time.perf_counter() - started)]
        for size in sorted(sizes):
            if size <= result["chunks_total"]:
                continue
            label = f"{size // 1000}k" if size % 1000 == 0 else str(size)
            target = settings_for(f"synthetic-{size}")
            say(f"building the {label} index")
            started = time.perf_counter()
            build_synthetic_index(real, target, chunks=size, seed=seed)
            build_seconds = time.perf_counter() - started
            say(f"timing the {label} index")
            results.append(_measure(target, picked, embedder=embedder, label=label, build_seconds=build_seconds))
        return RetrievalBenchmark(
            questions=len(picked), k=K, sizes=results, cpu_count=os.cpu_count() or 0,
            torch_threads=torch.get_num_threads(), load_average=[round(x, 2) for x in load_average],
        )
    finally:
        answer_log.setLevel(previous_level)
        if owned:
            shutil.rmtree(work, ignore_errors=True)


def format_report(result: RetrievalBenchmark) -> str:
    """The table: p50/p95 wall ms (and mean CPU ms) per index size and audience, then the filter's cost."""
    header = (
        f"{'index':<7}{'chunks':>9}{'internal':>9}{'build s':>9}{'load s':>8}  "
        f"{'search industry':>18}{'search staff':>18}  {'ask industry':>18}{'ask staff':>18}  {'gold@8':>11}{'answered':>11}"
    )
    lines = [
        f"{result['questions']} answerable eval questions, hybrid k={result['k']}, extractive answers "
        f"({result['cpu_count']} CPUs, torch threads {result['torch_threads']}, load average {result['load_average'][0]:.2f} at start)",
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
    lines += ["", "Chroma query alone (100 candidates), p50/p95 wall ms: industry `where` vs staff (no filter)"]
    for size in result["sizes"]:
        cost = size["filter_cost"]
        lines.append(
            f"  {size['label']:<7} where {cost['where_p50_ms']:.1f}/{cost['where_p95_ms']:.1f}   "
            f"no where {cost['no_where_p50_ms']:.1f}/{cost['no_where_p95_ms']:.1f}   p50 x{cost['p50_ratio']:.2f}"
            f"   (first search after load {size['first_query_ms']:.0f} ms)"
        )
    return "\n".join(lines)
