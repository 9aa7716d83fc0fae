"""`gcot bench reload`: what hot reload costs a serving process.

Three measurements, in one process, on the embedded store (the default):

1. **Ingest end -> answerable.** A serving AnswerService polls at the default `index_refresh_s`
   (10 s); a new document is written and ingested in the same process (the one-writer rule); the
   clock runs from `ingest()` returning until `ask()` first cites the new document.
2. **Reload rebuild time and peak RSS** at each synthetic size (10k, 100k chunks, built by
   `evals.bench_retrieval.build_synthetic_index`): one forced reload (`LiveIndex.refresh(force=True)`)
   with the lexical index loaded from the local cache, and one with the cache removed, so BM25 is
   rebuilt from the chunks in Chroma (what a host with an empty data dir pays). RSS is sampled every
   10 ms during the reload.
3. **Answer latency during a reload vs idle**: the same questions asked one after another, first
   with nothing else running, then while a thread rebuilds the index over and over (cache removed).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from evals.bench_retrieval import DEFAULT_QUESTIONS, build_synthetic_index, pick_questions
from gcot.settings import Settings

DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_WORKDIR = Path(".data/bench/reload")
NEW_DOC = """---
doc_id: bench-reload-{n}
title: "Reload benchmark note {n}"
visibility: public
---
# Reload benchmark note {n}

The Osprey-{n} relay scheme was approved by the coalition on {n} March 2031. It funds harbour masts.
"""


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class _RssPeak:
    """Samples this process's RSS every 10 ms while in the `with` block."""

    def __enter__(self) -> _RssPeak:
        self.before = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _percentiles(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples)
    return {"p50_ms": round(float(np.percentile(values, 50)), 1), "p95_ms": round(float(np.percentile(values, 95)), 1),
            "n": len(samples)}


def _drop_lexical_cache(settings: Settings, live) -> None:
    from store.lexical import lexical_dir

    shutil.rmtree(lexical_dir(settings, live.current().snapshot.name), ignore_errors=True)


def time_to_answerable(settings: Settings, corpus: Path, *, embedder, trials: int = 3) -> list[float]:
    """Seconds from the end of an in-process ingest to the first answer citing the new document."""
    from bot.answer.service import AnswerService
    from bot.retrieve.hybrid import HybridRetriever
    from ingest.pipeline import ingest

    docs = settings.data_dir.parent / "reload-docs"
    shutil.rmtree(docs, ignore_errors=True)
    shutil.copytree(corpus, docs)  # the notes written below are new on every run (the folder is fresh)
    ingest([docs], settings=settings, embedder=embedder)
    service = AnswerService(HybridRetriever.from_settings(settings, embedder=embedder), settings=settings)
    service.retriever.live.start()
    seconds = []
    try:
        for n in range(1, trials + 1):
            (docs / f"bench-reload-{n}.md").write_text(NEW_DOC.format(n=n))
            ingest([docs], settings=settings, embedder=embedder)
            ended = time.perf_counter()
            question = f"When was the Osprey-{n} relay scheme approved?"
            while f"bench-reload-{n}" not in {c.doc_id for c in service.ask(question, audience="industry").citations}:
                if time.perf_counter() - ended > 120:
                    msg = "the new document did not become answerable within 120 s"
                    raise RuntimeError(msg)
                time.sleep(0.05)
            seconds.append(round(time.perf_counter() - ended, 2))
    finally:
        service.retriever.live.stop()
    return seconds


def reload_cost(settings: Settings, questions: list[str], *, embedder) -> dict[str, Any]:
    """Rebuild time and peak RSS of one reload (cached / rebuilt lexical), answer latency idle vs reloading."""
    from bot.answer.service import AnswerService
    from bot.retrieve.hybrid import HybridRetriever

    service = AnswerService(HybridRetriever.from_settings(settings, embedder=embedder), settings=settings)
    live = service.retriever.live
    for question in questions[:3]:
        service.ask(question, audience="industry")  # warm-up
    result: dict[str, Any] = {"chunks": len(live.current().snapshot.lexical.chunk_ids)}
    for label, drop in (("cached", False), ("from_chroma", True)):
        if drop:
            _drop_lexical_cache(settings, live)
        with _RssPeak() as rss:
            started = time.perf_counter()
            live.refresh(force=True)
            elapsed = time.perf_counter() - started
        result[f"reload_{label}_s"] = round(elapsed, 2)
        result[f"reload_{label}_rss_mb"] = {"before": round(rss.before), "peak": round(rss.peak),
                                            "delta": round(rss.peak - rss.before)}

    def timed() -> list[float]:
        samples = []
        for question in questions:
            started = time.perf_counter()
            service.ask(question, audience="industry")
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    result["answer_idle"] = _percentiles(timed())
    stop, reloads = threading.Event(), [0]

    def reload_forever() -> None:
        while not stop.is_set():
            _drop_lexical_cache(settings, live)
            live.refresh(force=True)
            reloads[0] += 1

    worker = threading.Thread(target=reload_forever, daemon=True)
    worker.start()
    try:
        result["answer_during_reload"] = _percentiles(timed())
    finally:
        stop.set()
        worker.join()
    result["reloads_during"] = reloads[0]
    result["p95_ratio"] = round(result["answer_during_reload"]["p95_ms"] / result["answer_idle"]["p95_ms"], 2)
    return result


def run_benchmark(
    corpus: Path = Path("corpus"), *, sizes: tuple[int, ...] = DEFAULT_SIZES, n_questions: int = 30,
    trials: int = 3, workdir: Path | None = None, progress=None,
) -> dict[str, Any]:
    """All three measurements; returns one JSON-able dict (with the load average before and after)."""
    from encoder import Embedder
    from ingest.pipeline import ingest

    say = progress or (lambda _line: None)
    work = Path(workdir or DEFAULT_WORKDIR).resolve()
    load_before = [round(x, 2) for x in os.getloadavg()]
    logging.getLogger("bot.answer.service").setLevel(logging.WARNING)

    def settings_for(name: str) -> Settings:
        return Settings(_env_file=None, data_dir=work / name, chroma_host=None, chroma_port=None)

    real = settings_for("live")  # the corpus plus the benchmark's own notes
    embedder = Embedder(real.model_path(), batch_size=real.embedding_batch_size)
    questions = [q.question for q in pick_questions(DEFAULT_QUESTIONS, n_questions)]
    say("timing ingest end -> answerable")
    answerable = time_to_answerable(real, Path(corpus), embedder=embedder, trials=trials)
    say(f"ingest end -> answerable: {answerable} s")
    result = ingest([real.data_dir.parent / "reload-docs"], settings=real, embedder=embedder)  # a no-op: the version
    sizes_out = [{"label": "corpus", **reload_cost(real, questions, embedder=embedder)}]
    say(json.dumps(sizes_out[-1]))
    for size in sorted(sizes):
        target = settings_for(f"synthetic-{size}-{result['index_version']}")
        if not (target.data_dir / "chroma").exists():
            say(f"building the {size} chunk index")
            shutil.rmtree(target.data_dir, ignore_errors=True)
            build_synthetic_index(real, target, chunks=size)
        say(f"timing reloads at {size} chunks")
        sizes_out.append({"label": f"{size // 1000}k", **reload_cost(target, questions, embedder=embedder)})
        say(json.dumps(sizes_out[-1]))
    return {"refresh_s": Settings(_env_file=None).index_refresh_s, "ingest_end_to_answerable_s": answerable,
            "sizes": sizes_out, "cpu_count": os.cpu_count(), "load_average": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def format_report(result: dict[str, Any]) -> str:
    """A plain-text table of `run_benchmark`'s result."""
    lines = [f"ingest end -> answerable (refresh every {result['refresh_s']:g} s): "
             + ", ".join(f"{s:.2f} s" for s in result["ingest_end_to_answerable_s"]),
             "size     chunks  reload cached  reload from Chroma (peak RSS +MB)  answer p95 idle / reloading (ratio)"]
    for row in result["sizes"]:
        lines.append(
            f"{row['label']:<8} {row['chunks']:>6}  {row['reload_cached_s']:>9.2f} s  {row['reload_from_chroma_s']:>9.2f} s "
            f"(+{row['reload_from_chroma_rss_mb']['delta']} MB, peak {row['reload_from_chroma_rss_mb']['peak']} MB)  "
            f"{row['answer_idle']['p95_ms']:.0f} / {row['answer_during_reload']['p95_ms']:.0f} ms ({row['p95_ratio']}x)"
        )
    lines.append(f"load average before {result['load_average']}, after {result['load_average_after']}")
    return "\n".join(lines)
