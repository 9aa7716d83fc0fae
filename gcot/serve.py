"""Ingest while serving: the serving process runs the ingest job itself, on a schedule.

An embedded Chroma (the default, under `GCOT_DATA_DIR`) must only ever be written by one process,
and a process that holds it open does not see another process's writes. So with the embedded store,
`gcot slack --ingest DIR --every 1h` (and `gcot chat --ingest DIR --every 1h`) runs
`ingest.pipeline.ingest()` in a background thread of the serving process, sharing its Chroma client
and embedding model: there is one writer, and the serving index reloads as soon as a run publishes a
new version. With `CHROMA_HOST` set, separate `gcot ingest` processes on any host work as well
(one at a time, under the store's lock).

This module is the composition point: `bot/` never imports `ingest/`; the commands call here.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcot.settings import Settings
from store.locks import this_command

log = logging.getLogger(__name__)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.I)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """`"1h"`, `"30m"`, `"45s"`, `"2d"` or plain seconds (`"90"`) -> seconds.

    Raises:
        ValueError: for anything else, or a duration of zero.

    >>> parse_every("1h"), parse_every("30m"), parse_every("90")
    (3600.0, 1800.0, 90.0)
    """
    match = _DURATION.match(text or "")
    if not match:
        msg = f"--every {text!r}: give a duration such as 30s, 15m, 1h or 1d"
        raise ValueError(msg)
    seconds = float(match.group(1)) * _UNIT_S[(match.group(2) or "s").lower()]
    if seconds <= 0:
        msg = f"--every {text!r}: the interval must be more than zero"
        raise ValueError(msg)
    return seconds


@dataclass
class ScheduledIngest:
    """Runs `ingest(sources)` now and then every `every_s` seconds, in a daemon thread.

    Args:
        sources: the folders (or files) to ingest; together they are the whole corpus.
        every_s: seconds between the end of one run and the start of the next.
        settings: the serving process's settings (same store).
        on_published: called after every successful run (e.g. `LiveIndex.refresh`), so the new
            version serves at once instead of at the next poll.
        embedder: the serving process's embedding model (shared; loaded on first need otherwise).
    """

    sources: Sequence[Path]
    every_s: float
    settings: Settings
    on_published: Callable[[], Any] = lambda: None
    embedder: Any = None
    runs: int = 0
    last_result: dict | None = None
    last_error: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def run_once(self) -> dict | None:
        """One ingest run, then `on_published`. Returns the IngestResult, or None if it failed (logged)."""
        from ingest.pipeline import ingest

        started = time.perf_counter()
        try:
            result = ingest(list(self.sources), settings=self.settings, embedder=self.embedder)
        except Exception as exc:  # a failed run leaves the last published version serving
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("serve.ingest_failed", extra={"error_type": type(exc).__name__, "error": str(exc)[:300]})
            return None
        self.runs += 1
        self.last_result, self.last_error = dict(result), None
        log.info("serve.ingest_done", extra={
            "seconds": round(time.perf_counter() - started, 3),
            **{k: result.get(k) for k in ("added", "updated", "deleted", "unchanged", "failed", "chunks_total")},
        })
        try:
            self.on_published()
        except Exception as exc:  # the poller retries on its own schedule
            log.warning("serve.reload_after_ingest_failed", extra={"error_type": type(exc).__name__})
        return dict(result)

    def start(self, *, run_now: bool = True) -> None:
        """Start the schedule: a run right away (unless `run_now` is False), then one every `every_s` seconds."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(run_now,), name="scheduled-ingest", daemon=True)
        self._thread.start()

    def attach(self, service: Any) -> None:
        """Reload `service`'s live index after every run from now on, and start the schedule.

        The first run already happened in `prepare_serving_ingest`, so the next is `every_s` away.
        """
        self.on_published = service.retriever.live.refresh
        self.start(run_now=False)
        log.info("serve.ingest_scheduled", extra={"sources": [str(s) for s in self.sources], "every_s": self.every_s})

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the run in progress (if any) ends."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self, run_now: bool) -> None:
        if not run_now and self._stop.wait(self.every_s):
            return
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.every_s)


def check_sources(sources: Sequence[Path]) -> None:
    """Raise FileNotFoundError naming the first `--ingest` path that does not exist."""
    for source in sources:
        if not Path(source).exists():
            msg = f"--ingest {source}: no such folder or file"
            raise FileNotFoundError(msg)


def prepare_serving_ingest(sources: Sequence[Path], every: str, settings: Settings) -> ScheduledIngest:
    """Check `--ingest`/`--every`, load the embedding model and run the first ingest now.

    The serving process then starts on an index that matches the folders (even on an empty data
    dir); pass the schedule's `embedder` to the service so the model is loaded once, then call
    `attach(service)`.

    Raises:
        ValueError: a bad `--every`. FileNotFoundError: a missing `--ingest` path.
    """
    from encoder import Embedder

    every_s = parse_every(every)
    check_sources(sources)
    embedder = Embedder(settings.model_path(), batch_size=settings.embedding_batch_size)
    schedule = ScheduledIngest(sources=[Path(s) for s in sources], every_s=every_s, settings=settings, embedder=embedder)
    schedule.run_once()
    return schedule


class ServeError(Exception):
    """A serving process cannot start: a bad `--ingest`/`--every`, a held embedded store, no index."""


def serving_service(
    settings: Settings, *, ingest: Sequence[Path] | None = None, every: str | None = None, **kwargs: Any
) -> Any:
    """The AnswerService of a serving process (`gcot slack`, `gcot chat`): it polls for new index
    versions and, with `ingest`, runs the ingest job itself every `every` (default 1h).

    On the embedded store the process first claims the store for its lifetime, so a separate
    `gcot ingest` on the same data dir fails with a message naming this process (Chroma does not
    support two processes on one embedded store; this process would not see the other's writes).

    Args:
        settings: the serving settings.
        ingest: `--ingest` folders or files; None serves what another process ingests.
        every: `--every` duration; only with `ingest`.
        **kwargs: passed to `AnswerService.from_settings` (e.g. `generator`).

    Raises:
        ServeError: `--every` without `--ingest`, a bad duration or path, the embedded store held
            by another process, or nothing indexed (and nothing to ingest).
    """
    from bot.answer.service import AnswerService
    from store import StoreLockedError, claim_embedded_store

    if every and not ingest:
        msg = "--every needs --ingest DIR (the folders to ingest on that schedule)"
        raise ServeError(msg)
    try:
        parse_every(every or "1h")
        check_sources(ingest or ())
        claim_embedded_store(settings, purpose=f"{this_command()} (serving)")
        schedule = prepare_serving_ingest(ingest, every or "1h", settings) if ingest else None
        embedder = schedule.embedder if schedule is not None else None
        service = AnswerService.from_settings(settings, refresh=True, embedder=embedder, **kwargs)
    except (StoreLockedError, ValueError, FileNotFoundError) as exc:
        raise ServeError(str(exc)) from exc
    if schedule is not None:
        schedule.attach(service)  # its thread keeps it alive as long as the process runs
    return service
