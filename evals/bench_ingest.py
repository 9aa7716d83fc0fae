"""The ingest benchmark: how close does a full ingest come to the model's raw encoding speed?

In one process, with one already-loaded model:
1. a full ingest of a corpus (replicated N times into a temp folder for a large enough sample) into
   a temp data dir, timed;
2. raw `model.encode` (same batch size, normalised) on exactly the chunk texts the ingest embedded,
   timed; the ratio of the two throughputs is the ingest's efficiency (the target is >= 0.9). The
   ingest also gives every chunk's sentences a vector (stored for answering, `store.sentences`):
   by default each is encoded alone with the query model (`GCOT_SENTENCE_VECTORS=standalone`), which
   is most of what keeps the ratio below 1; with `GCOT_SENTENCE_VECTORS=in_context` they are pooled
   from the chunk's own forward pass and add no model work unless a sentence cannot be placed in its
   chunk (then it is encoded alone). Both counts are reported;
3. an unchanged re-run, timed in process, and once more through the real `gcot ingest` command
   (wall clock, including start-up).

Main helpers:
    run_benchmark: do all of the above and return an `IngestBenchmark`.
    replicate_corpus: copy a corpus N times with distinct doc_ids.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TypedDict

DEFAULT_MIN_CHUNKS = 1500


class IngestBenchmark(TypedDict):
    corpus: str
    repeat: int
    documents: int
    chunks: int
    ingest_seconds: float
    ingest_chunks_per_s: float
    encode_seconds: float
    encode_chunks_per_s: float
    ingest_to_encode_ratio: float
    """Ingest throughput / raw encode throughput of the chunk texts; 1.0 means a chunk, with its
    sentence vectors, costs no more than encoding it."""
    sentences: int
    """Sentences the ingest gave a vector (`store.sentences`)."""
    sentence_chunks_in_context: int
    """Chunks whose sentence vectors were pooled from their own forward pass."""
    sentences_embedded_alone: int
    """Sentences the ingest had to encode on their own (0 when every sentence was placed in its chunk)."""
    ingest_cpu_seconds: float
    encode_cpu_seconds: float
    cpu_ratio: float
    """Encode CPU time / ingest CPU time: the same ratio by work done, steadier on a busy machine."""
    prepare_seconds: float
    """Loading and chunking alone (no embedding), timed separately: the ingest's fixed overhead."""
    rerun_seconds: float
    rerun_to_full_ratio: float
    cli_rerun_wall_seconds: float | None
    """`gcot ingest` on the unchanged corpus, process start to exit; None when skipped."""
    batch_size: int
    cpu_count: int
    load_average: list[float]
    """1/5/15-minute load before the run: other work on the machine skews every figure."""


# --- corpus ----------------------------------------------------------------------------------------


def _embed_texts(corpus: Path, settings) -> tuple[int, list[str], list[str]]:
    """(documents, chunk embed texts, their sentences) exactly as the ingest job would embed them, without embedding.

    The sentences are every chunk's stored text split as the sentence store splits it.
    """
    from ingest.chunking import Chunker, TokenCounter
    from ingest.loaders import LoadError, load_document
    from ingest.pipeline import scan_sources
    from store.sentences import split_texts

    chunker = Chunker(
        TokenCounter(settings.model_path()), max_tokens=settings.chunk_max_tokens,
        overlap_tokens=settings.chunk_overlap_tokens,
    )
    texts: list[str] = []
    sentences: list[str] = []
    documents = 0
    for root, path in scan_sources([corpus]):
        raw = path.read_bytes()
        try:
            document = load_document(path, root, max_bytes=settings.max_file_bytes, raw=raw)
        except LoadError:
            continue
        documents += 1
        # The content hash only names chunk ids; the texts the model sees do not depend on it.
        for chunk in chunker.split(document, content_hash="0" * 64):
            texts.append(chunk.embed_text)
            sentences.extend(split_texts(chunk.text))
    return documents, texts, sentences


def replicate_corpus(corpus: Path, target: Path, repeat: int) -> Path:
    """Copy `corpus` into `target/copy-<i>/` `repeat` times; copies after the first get `-r<i>` doc_ids.

    A sidecar `<file>.meta.yaml` carries the new doc_id (merged into an existing sidecar), so every
    format is handled and the text, hence the embedding work, is identical in every copy.
    """
    import yaml

    from ingest.loaders import LoadError, load_document
    from ingest.metadata import SIDECAR_SUFFIX, read_yaml_mapping
    from ingest.pipeline import scan_sources

    doc_ids: dict[Path, str] = {}
    for root, path in scan_sources([corpus]):
        try:
            doc_ids[path.relative_to(root)] = load_document(path, root).meta.doc_id
        except LoadError:
            continue
    for copy in range(repeat):
        destination = target / f"copy-{copy}"
        shutil.copytree(corpus, destination)
        if copy == 0:
            continue
        for relative, doc_id in doc_ids.items():
            sidecar = destination / relative.with_name(relative.name + SIDECAR_SUFFIX)
            meta = read_yaml_mapping(sidecar) if sidecar.is_file() else {}
            meta["doc_id"] = f"{doc_id}-r{copy}"[:128]
            sidecar.write_text(yaml.safe_dump(meta, sort_keys=False))
    return target


# --- PUBLIC API ------------------------------------------------------------------------------------


def run_benchmark(
    corpus: Path = Path("corpus"),
    *,
    repeat: int | None = None,
    min_chunks: int = DEFAULT_MIN_CHUNKS,
    cli: bool = True,
    embedder=None,
    workdir: Path | None = None,
) -> IngestBenchmark:
    """Time a full ingest against raw encoding of the same chunks, then unchanged re-runs.

    Args:
        corpus: the folder to ingest. Defaults to `corpus/`.
        repeat: copies of the corpus to ingest together. Defaults to as many as give `min_chunks`.
        min_chunks: the sample size `repeat` is chosen for. Defaults to 1500.
        cli: also time `gcot ingest` on the unchanged corpus in a subprocess. Defaults to True.
        embedder: an already-loaded `Embedder`; loaded here otherwise (not timed).
        workdir: where the copies and the data dir go. Defaults to a temp folder, removed afterwards.

    Returns:
        IngestBenchmark with throughputs and ratios.
    """
    from gcot.settings import Settings
    from encoder import Embedder, load_embedder
    from ingest.pipeline import ingest

    corpus = Path(corpus).resolve()
    if not corpus.is_dir():
        msg = f"corpus folder not found: {corpus}"
        raise FileNotFoundError(msg)
    load_average = list(os.getloadavg())
    owned = workdir is None
    work = Path(tempfile.mkdtemp(prefix="gcot-bench-ingest-")) if owned else Path(workdir)
    try:
        settings = Settings(_env_file=None, data_dir=work / "data", chroma_host=None, chroma_port=None)
        if repeat is None:
            _, one_copy, _ = _embed_texts(corpus, settings)
            repeat = max(1, math.ceil(min_chunks / max(1, len(one_copy))))
        sample = replicate_corpus(corpus, work / "corpus", repeat)
        started = time.perf_counter()
        documents, texts, sentence_texts = _embed_texts(sample, settings)
        prepare_seconds = time.perf_counter() - started

        embedder = embedder or Embedder(settings.model_path(), batch_size=settings.embedding_batch_size)
        embedder.embed_documents(texts[: settings.embedding_batch_size])  # warm-up, not timed
        # What `gcot ingest` embeds unplaced sentences with; loaded (and exported) untimed.
        sentence_embedder = load_embedder(settings, purpose="sentences")
        sentence_embedder.embed_documents(sentence_texts[: settings.embedding_batch_size])

        cpu = time.process_time()
        full = ingest([sample], settings=settings, embedder=embedder, sentence_embedder=sentence_embedder)
        ingest_cpu = time.process_time() - cpu
        if full["errors"] or full["chunks_embedded"] != len(texts):
            msg = f"benchmark ingest did not embed the expected {len(texts)} chunks: {full}"
            raise RuntimeError(msg)

        started, cpu = time.perf_counter(), time.process_time()
        embedder.model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        encode_seconds, encode_cpu = time.perf_counter() - started, time.process_time() - cpu

        rerun = ingest([sample], settings=settings, embedder=embedder)
        if rerun["chunks_embedded"]:
            msg = f"the unchanged re-run embedded {rerun['chunks_embedded']} chunks"
            raise RuntimeError(msg)
        cli_seconds = _time_cli(sample, settings) if cli else None

        ingest_rate = len(texts) / full["seconds"]
        encode_rate = len(texts) / encode_seconds
        return IngestBenchmark(
            corpus=str(corpus),
            repeat=repeat,
            documents=documents,
            chunks=len(texts),
            ingest_seconds=round(full["seconds"], 2),
            ingest_chunks_per_s=round(ingest_rate, 2),
            encode_seconds=round(encode_seconds, 2),
            encode_chunks_per_s=round(encode_rate, 2),
            ingest_to_encode_ratio=round(ingest_rate / encode_rate, 3),
            sentences=len(sentence_texts),
            sentence_chunks_in_context=full["sentence_chunks_in_context"],
            sentences_embedded_alone=full["sentences_embedded_alone"],
            ingest_cpu_seconds=round(ingest_cpu, 2),
            encode_cpu_seconds=round(encode_cpu, 2),
            cpu_ratio=round(encode_cpu / ingest_cpu, 3),
            prepare_seconds=round(prepare_seconds, 2),
            rerun_seconds=round(rerun["seconds"], 3),
            rerun_to_full_ratio=round(rerun["seconds"] / full["seconds"], 4),
            cli_rerun_wall_seconds=round(cli_seconds, 2) if cli_seconds is not None else None,
            batch_size=embedder.batch_size,
            cpu_count=os.cpu_count() or 0,
            load_average=[round(x, 2) for x in load_average],
        )
    finally:
        if owned:
            shutil.rmtree(work, ignore_errors=True)


def _time_cli(sample: Path, settings) -> float:
    gcot = Path(sys.executable).with_name("gcot")
    data_dir = settings.data_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCOT_", "CHROMA_"))}
    # The settings that shape stored chunks must match, or the re-run re-embeds everything.
    env |= {"GCOT_DATA_DIR": str(data_dir), "GCOT_SENTENCE_VECTORS": settings.sentence_vectors}
    started = time.perf_counter()
    done = subprocess.run(
        [str(gcot), "ingest", str(sample), "--json"], env=env, cwd=data_dir.parent, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or json.loads(done.stdout)["chunks_embedded"] != 0:
        msg = f"`gcot ingest` re-run failed or re-embedded: {done.stdout}{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return seconds


def format_report(result: IngestBenchmark) -> str:
    """A short human-readable summary."""
    cli = f"{result['cli_rerun_wall_seconds']:.2f} s" if result["cli_rerun_wall_seconds"] is not None else "skipped"
    return "\n".join([
        f"Corpus {result['corpus']} x{result['repeat']}: {result['documents']} documents, {result['chunks']} chunks "
        f"(batch {result['batch_size']}, {result['cpu_count']} CPUs, load {result['load_average'][0]:.2f})",
        f"  full ingest      {result['ingest_seconds']:8.2f} s  {result['ingest_chunks_per_s']:7.2f} chunks/s",
        f"  raw model.encode {result['encode_seconds']:8.2f} s  {result['encode_chunks_per_s']:7.2f} chunks/s",
        f"  ingest / encode throughput ratio: {result['ingest_to_encode_ratio']:.3f} (target >= 0.9); "
        f"by CPU time {result['cpu_ratio']:.3f} ({result['encode_cpu_seconds']:.1f} / {result['ingest_cpu_seconds']:.1f} CPU-s)",
        f"  sentence vectors: {result['sentences']} sentences, {result['sentence_chunks_in_context']} chunks pooled in context, "
        f"{result['sentences_embedded_alone']} sentences encoded alone",
        f"  loading + chunking alone {result['prepare_seconds']:.2f} s",
        f"  unchanged re-run {result['rerun_seconds']:8.3f} s  ({result['rerun_to_full_ratio']:.4f} of the full run)",
        f"  `gcot ingest` unchanged re-run, wall clock: {cli}",
    ])
