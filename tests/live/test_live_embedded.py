"""Hot reload on the embedded default: one serving AnswerService keeps running while the same process
ingests (the one-writer rule), and every change becomes what it answers from after the swap."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from live_helpers import ANSWERABLE_WITHIN_S, REFRESH_S, base_docs, cited, wait_for, wait_for_version, write_doc

from ingest.pipeline import ingest

ZEPHYR_Q = "When was the Zephyr relay programme launched?"
GANNET_Q = "What is the budget of the Gannet cable fund?"


def _ingest(docs: Path, settings, embedder) -> None:
    result = ingest([docs], settings=settings, embedder=embedder)
    assert not result["errors"], result["errors"]


def test_add_change_delete_are_served_after_the_swap(tmp_path: Path, settings_factory, serve, embedder) -> None:
    docs = base_docs(tmp_path / "docs")
    settings = settings_factory(index_refresh_s=REFRESH_S)
    _ingest(docs, settings, embedder)
    service = serve(settings)
    v0 = service.ready()["index_version"]
    assert v0 and "zephyr-relay" not in cited(service.ask(ZEPHYR_Q, audience="industry"))

    # A new document: answerable within 15 s of its ingest finishing, with no restart.
    write_doc(docs, "zephyr-relay", "The Zephyr relay programme",
              "The Zephyr relay programme was launched by the coalition in March 2024. It funds coastal relay masts.")
    _ingest(docs, settings, embedder)
    v1 = wait_for_version(service, v0, timeout=ANSWERABLE_WITHIN_S)
    added = service.ask(ZEPHYR_Q, audience="industry")
    assert added.status == "answered" and "zephyr-relay" in cited(added), added.text
    assert "March 2024" in added.text and added.timings["index_version"] == v1
    assert "zephyr-relay" in {t["doc_id"] for t in service.topics("industry")}

    # A changed document is answered from its new text; answers asked during the swap never fail.
    write_doc(docs, "zephyr-relay", "The Zephyr relay programme",
              "The Zephyr relay programme was launched by the coalition in May 2025. It funds coastal relay masts.")
    during = _ask_continuously(service, ZEPHYR_Q)
    _ingest(docs, settings, embedder)
    v2 = wait_for_version(service, v1)
    answers = during.stop()
    assert answers and all(a.status in {"answered", "no_answer"} for a in answers)
    assert {a.timings["index_version"] for a in answers} <= {v1, v2}
    changed = service.ask(ZEPHYR_Q, audience="industry")
    assert "May 2025" in changed.text and "March 2024" not in changed.text, changed.text
    assert all("March 2024" not in hit.text for hit in service.retrieve(ZEPHYR_Q, audience="staff", k=20))

    # A deleted document is never cited (or even retrieved) again after the swap, by any audience.
    held = service.retriever.live.current()  # an answer "in flight" on the old version
    (docs / "gannet-cables.md").unlink()
    _ingest(docs, settings, embedder)
    wait_for_version(service, v2)
    for audience in ("staff", "industry"):
        answer = service.ask(GANNET_Q, audience=audience)
        assert "gannet-cables" not in cited(answer), answer.text
        assert all(hit.doc_id != "gannet-cables" for hit in service.retrieve(GANNET_Q, audience=audience, k=50))
    assert "gannet-cables" not in {t["doc_id"] for t in service.topics("staff")}
    # The held view is unchanged (same version), and even it cannot cite chunks Chroma no longer holds.
    assert held.version == v2
    old_hits = service.retriever.search(GANNET_Q, k=50, visibilities=["public"], snapshot=held.snapshot)
    assert all(hit.doc_id != "gannet-cables" for hit in old_hits)


def test_a_failed_rebuild_keeps_the_old_version_and_logs_one_line(
    tmp_path: Path, settings_factory, serve, embedder, caplog
) -> None:
    docs = base_docs(tmp_path / "docs")
    settings = settings_factory(index_refresh_s=REFRESH_S)
    _ingest(docs, settings, embedder)
    service = serve(settings)
    live = service.retriever.live
    v0 = live.version
    broken = threading.Event()
    broken.set()

    def fragile(snapshot):  # a per-version build step that fails for every new version while `broken`
        if broken.is_set() and snapshot.version != v0:
            raise RuntimeError("rebuild failed")
        return snapshot.version

    live.prepare("fragile", fragile)
    write_doc(docs, "zephyr-relay", "The Zephyr relay programme", "The Zephyr relay programme was launched in March 2024.")
    with caplog.at_level(logging.WARNING, logger="bot.retrieve.live"):
        _ingest(docs, settings, embedder)
        ingested = time.time()
        # Several polls see the new version and fail to build it.
        wait_for(lambda: live.last_check > ingested + 4 * REFRESH_S, timeout=30, what="several refresh attempts")
        assert live.version == v0 and service.ready()["index_version"] == v0
        answer = service.ask(ZEPHYR_Q, audience="industry")
        assert "zephyr-relay" not in cited(answer) and answer.timings["index_version"] == v0
        failures = [r for r in caplog.records if r.getMessage() == "index.reload_failed"]
        assert len(failures) == 1, [r.getMessage() for r in caplog.records]
    broken.clear()
    wait_for_version(service, v0)
    assert "zephyr-relay" in cited(service.ask(ZEPHYR_Q, audience="industry"))


class _ask_continuously:  # noqa: N801 - reads as what it does at the call site
    """Ask one question over and over in a thread until `stop()`; returns the answers."""

    def __init__(self, service, question: str) -> None:
        self.answers: list = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(service, question), daemon=True)
        self._thread.start()

    def _run(self, service, question: str) -> None:
        while not self._stop.is_set():
            try:
                self.answers.append(service.ask(question, audience="industry"))
            except BaseException as exc:  # noqa: BLE001 - recorded and asserted on
                self.errors.append(exc)
                return

    def stop(self) -> list:
        self._stop.set()
        self._thread.join(60)
        assert not self.errors, self.errors
        return self.answers
