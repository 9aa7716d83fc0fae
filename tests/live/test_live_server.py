"""Hot reload against a real `chroma run` server: the bot runs on a host with an empty data dir, a
separate `gcot ingest` process (another "host": its own data dir) writes, and the bot serves every
published version, rebuilding BM25 from Chroma alone. A SIGKILLed ingest changes nothing served."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

from live_helpers import (
    GCOT, REFRESH_S, base_docs, cited, env_for, run_gcot, wait_for, wait_for_version, write_doc,
)

PUFFIN_Q = "When was the Puffin relay programme launched?"
ZEPHYR_Q = "When was the Zephyr relay programme launched?"
GANNET_Q = "What is the budget of the Gannet cable fund?"
_WORDS = ("mast spectrum fibre relay island harbour survey grant backhaul tower coastal rural licence operator "
          "resilience outage repair budget audit supplier vendor standard trial pilot roaming satellite").split()


def _bulk_docs(folder: Path, *, documents: int, paragraphs: int) -> None:
    """Made-up documents of about one chunk per paragraph: enough chunks that an ingest runs for a while."""
    rng = random.Random(7)
    for d in range(documents):
        body = "\n\n".join(
            " ".join(f"Bulk note {d}.{p} on the {rng.choice(_WORDS)} {rng.choice(_WORDS)} work." for _ in range(14))
            for p in range(paragraphs)
        )
        write_doc(folder, f"bulk-{d:02d}", f"Bulk note {d}", body)


def _ingest(docs: Path, settings, cwd: Path) -> None:
    """`gcot ingest` in its own process: another host writing to the same server."""
    result = run_gcot(["ingest", str(docs)], settings, cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]


def _ingest_here(docs: Path, settings, embedder) -> None:
    """The same ingest in this process (reusing the loaded model), where a separate process proves nothing more."""
    from ingest.pipeline import ingest

    result = ingest([docs], settings=settings, embedder=embedder)
    assert not result["errors"], result["errors"]


def test_bot_with_empty_data_dir_serves_every_version_and_survives_a_killed_ingest(
    tmp_path: Path, chroma_server, serve, settings_factory, embedder
) -> None:
    server = {"chroma_host": chroma_server.host, "chroma_port": chroma_server.port}
    ingest_host = settings_factory(data_dir=tmp_path / "ingest-host", **server)
    bot_host = settings_factory(data_dir=tmp_path / "bot-host", index_refresh_s=REFRESH_S, **server)
    docs = base_docs(tmp_path / "docs")
    _ingest_here(docs, ingest_host, embedder)

    # The bot's data dir is empty: its BM25 index is rebuilt from the chunks stored in Chroma.
    assert not (tmp_path / "bot-host").exists()
    service = serve(bot_host)
    snapshot = service.retriever.snapshot
    assert sorted(snapshot.lexical.chunk_ids) == sorted(c for r in snapshot.documents() for c in r.chunk_ids)
    lexical = service.retriever.search("Puffin relay islands", k=3, visibilities=["public"], mode="bm25")
    assert lexical and lexical[0].doc_id == "puffin-relay"
    first = service.ask(PUFFIN_Q, audience="industry")
    assert first.status == "answered" and cited(first) == {"puffin-relay"} and "March 2021" in first.text
    v0 = first.timings["index_version"]

    # Add, change and delete in one run of a separate ingest process; the bot serves all three.
    write_doc(docs, "zephyr-relay", "The Zephyr relay programme",
              "The Zephyr relay programme was launched by the coalition in March 2024. It funds coastal relay masts.")
    write_doc(docs, "puffin-relay", "The Puffin relay programme",
              "The Puffin relay programme was launched by the coalition in June 2022. It funds relay masts on small islands.")
    (docs / "gannet-cables.md").unlink()
    _ingest(docs, ingest_host, tmp_path)
    v1 = wait_for_version(service, v0)
    added = service.ask(ZEPHYR_Q, audience="industry")
    assert "zephyr-relay" in cited(added) and "March 2024" in added.text, added.text
    changed = service.ask(PUFFIN_Q, audience="industry")
    assert "June 2022" in changed.text and "March 2021" not in changed.text, changed.text
    assert all(h.doc_id != "gannet-cables" for h in service.retrieve(GANNET_Q, audience="staff", k=50))

    # SIGKILL an ingest part-way (after its first group of chunks is stored): nothing it wrote is served.
    _bulk_docs(docs, documents=30, paragraphs=5)
    killed_at = _kill_ingest_midway(docs, ingest_host, tmp_path)
    wait_for(lambda: service.retriever.live.last_check > killed_at + 3 * REFRESH_S, timeout=30,
             what="the bot to poll after the kill")
    assert service.ready()["index_version"] == v1
    during = service.ask(ZEPHYR_Q, audience="industry")
    assert during.timings["index_version"] == v1 and "zephyr-relay" in cited(during)
    assert all(not h.doc_id.startswith("bulk-") for h in service.retrieve("Bulk note mast relay", audience="staff", k=50))

    # The re-run completes the index; the bot swaps to it and the store checks clean (checked from the
    # bot's host, whose data dir holds no manifest: Chroma alone is the truth).
    _ingest_here(docs, ingest_host, embedder)
    wait_for_version(service, v1)
    assert any(h.doc_id.startswith("bulk-") for h in service.retrieve("Bulk note 3.2", audience="industry", k=10))
    check = run_gcot(["index", "check", "--json"], bot_host, cwd=tmp_path)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]


def _kill_ingest_midway(docs: Path, settings, cwd: Path) -> float:
    """Start `gcot ingest`, SIGKILL it once it has stored its first group of chunks; returns the kill time."""
    process = subprocess.Popen([str(GCOT), "ingest", str(docs)], cwd=cwd, env=env_for(settings),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    progressed = threading.Event()

    def watch() -> None:
        for line in process.stderr:
            if "chunks embedded" in line:
                progressed.set()
                return

    threading.Thread(target=watch, daemon=True).start()
    try:
        wait_for(lambda: progressed.is_set() or process.poll() is not None, timeout=240,
                 what="the ingest to store its first chunks")
        assert process.poll() is None, "the ingest finished before it could be killed; give it more documents"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        return time.time()
    finally:
        if process.poll() is None:
            process.kill()
