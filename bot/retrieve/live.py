"""The live index: the snapshot a serving process answers from, replaced in the background when a
new index version is published.

A serving process (`gcot slack`, `gcot chat`) holds one `LiveIndex`. A background thread asks the
store for its version every `index_refresh_s` seconds (`IndexReader.version()` is cheap); when it
changed, the thread builds everything the new version needs (the snapshot with its lexical index,
the glossary, the topic list, and whatever per-version objects were registered with `prepare`) and
only then swaps it in with one reference assignment. A caller takes `current()` once per answer and
keeps using that view, so an answer in flight finishes on the version it started with. A failed
rebuild keeps the old view serving and logs one line.

Example:
    >>> live = LiveIndex.open(Settings())
    >>> live.start()            # poll in the background
    >>> view = live.current()   # one version, for one answer
    >>> view.version, len(view.topics)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.retrieve.query import Glossary
from gcot.settings import Settings

if TYPE_CHECKING:
    from store import IndexReader as Reader
    from store import IndexSnapshot as Snapshot

log = logging.getLogger(__name__)

GLOSSARY_DOC_ID = "glossary"


@dataclass(frozen=True)
class ServingView:
    """Everything one index version serves with. Never mutated after it is built.

    Attributes:
        version: the index version (the store's stamp).
        snapshot: the store snapshot (dense queries, chunk lookup, lexical index, documents).
        glossary: acronym expansions from the glossary document.
        topics: one dict per document: doc_id, title, topics (list), visibility.
        extras: per-version objects built by the functions registered with `LiveIndex.prepare`.
        built_s: seconds the build took.
    """

    version: str
    snapshot: Snapshot
    glossary: Glossary
    topics: tuple[dict[str, Any], ...]
    extras: dict[str, Any] = field(default_factory=dict)
    built_s: float = 0.0


Preparer = Callable[["Snapshot"], Any]


class LiveIndex:
    """The current `ServingView`, refreshed from `reader` in a background thread.

    Args:
        reader: the store's `IndexReader` (`store.open_reader(settings)`).
        refresh_s: seconds between version checks. Defaults to 10; 0 or less never polls.
        view: an already-built first view; built from `reader` when None.
    """

    def __init__(self, reader: Reader, *, refresh_s: float = 10.0, view: ServingView | None = None) -> None:
        self.reader = reader
        self.refresh_s = refresh_s
        self._preparers: dict[str, Preparer] = {}
        self._build_lock = threading.Lock()  # one rebuild at a time (poller and an explicit refresh)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: tuple[str, str] | None = None  # (target version, error type) last logged
        self.last_check: float = 0.0
        self._view = view or self._build(reader.snapshot())

    @classmethod
    def open(cls, settings: Settings) -> LiveIndex:
        """Open the configured index; raises FileNotFoundError ("run `gcot ingest` first") if none."""
        from store import open_reader

        return cls(open_reader(settings), refresh_s=settings.index_refresh_s)

    # --- reading ---------------------------------------------------------------------------------

    def current(self) -> ServingView:
        """The view to answer from. Take it once per answer and keep it for that answer."""
        return self._view

    @property
    def version(self) -> str:
        return self._view.version

    def prepare(self, name: str, build: Preparer) -> None:
        """Build `build(snapshot)` for every version from now on, before it is swapped in.

        The current view gets it at once (so `current().extras[name]` always exists afterwards).
        """
        with self._build_lock:
            self._preparers[name] = build
            view = self._view
            self._view = ServingView(
                view.version, view.snapshot, view.glossary, view.topics,
                {**view.extras, name: build(view.snapshot)}, view.built_s,
            )

    # --- refreshing ------------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> bool:
        """Check the store's version now; build and swap in a new view if it changed (or if `force`).

        Returns:
            True if a new version is now serving. A failure (store unreachable, a rebuild that
            raised) returns False, keeps the old view and logs one line per new kind of failure.
        """
        with self._build_lock:
            target = "?"
            try:
                self.last_check = time.time()
                target = self.reader.version()
                if target == self._view.version and not force:
                    return False
                view = self._build(self.reader.snapshot())
            except Exception as exc:  # any failure: keep serving the old version
                self._log_failure(target, exc)
                return False
            previous, self._view, self._failed = self._view.version, view, None
        log.info("index.reloaded", extra={"index_version": view.version, "previous_version": previous,
                                          "build_s": round(view.built_s, 3)})
        return True

    def start(self) -> None:
        """Poll in a daemon thread every `refresh_s` seconds (no-op when refresh_s <= 0 or already running)."""
        if self.refresh_s <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="index-refresh", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the poller (waits for a rebuild in progress to finish)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Check the version now instead of at the next interval (e.g. right after an in-process ingest)."""
        self._wake.set()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.refresh_s)
            self._wake.clear()
            if not self._stop.is_set():
                self.refresh()

    # --- building --------------------------------------------------------------------------------

    def _build(self, snapshot: Snapshot) -> ServingView:
        started = time.perf_counter()
        glossary = Glossary.from_texts(chunk.text for chunk in snapshot.chunks_of(GLOSSARY_DOC_ID))
        topics = tuple(sorted((_topic(record) for record in snapshot.documents()), key=lambda d: d["doc_id"]))
        extras = {name: build(snapshot) for name, build in self._preparers.items()}
        return ServingView(snapshot.version, snapshot, glossary, topics, extras, time.perf_counter() - started)

    def _log_failure(self, target: str, exc: Exception) -> None:
        key = (target, type(exc).__name__)
        if key == self._failed:
            return
        self._failed = key
        log.warning("index.reload_failed", extra={"index_version": self._view.version, "target_version": target,
                                                  "error_type": type(exc).__name__, "error": str(exc)[:200]})


def _topic(record: Any) -> dict[str, Any]:
    topics = record.topics
    if isinstance(topics, str):
        topics = [t for t in topics.split(",") if t]
    return {"doc_id": record.doc_id, "title": record.title, "topics": list(topics or ()),
            "visibility": record.visibility}
