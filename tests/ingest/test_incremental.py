"""Re-runs touch only what changed, leave no trace of old text, and survive being killed."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from ingest_helpers import IndexView, cli_command, cli_env, dump_index, markdown, run_cli

from ingest.chunking import Chunker, TokenCounter
from store.records import index_version
from ingest.loaders import load_document
from ingest.pipeline import ingest

WORDS = (
    "network operator vendor spectrum antenna backhaul fibre resilience security supplier diversity radio "
    "interoperability testing laboratory procurement standard guidance risk assessment outage recovery "
    "coalition partner funding programme research deployment rural urban coverage mast cable satellite "
    "software update patch incident reporting regulator licence auction budget workforce training skills"
).split()


def _prose(rng: random.Random, words: int) -> str:
    sentences, count = [], 0
    while count < words:
        length = rng.randint(8, 18)
        sentence = " ".join(rng.choice(WORDS) for _ in range(length))
        sentences.append(sentence.capitalize() + ".")
        count += length
    return " ".join(sentences)


def _small_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha.md").write_text("# Alpha\n\nAlpha text mentions the quokkaphone relay near the harbour.\n")
    (folder / "beta.md").write_text("# Beta\n\n## Part one\n\nBeta part one covers pelican masts.\n\n## Part two\n\nBeta part two covers heron cables.\n")
    (folder / "gamma.txt").write_text("Gamma notes on walrus backhaul capacity.\n")


# --- chunk sizes -----------------------------------------------------------------------------------


def test_no_chunk_exceeds_the_model_window(tmp_path: Path, settings_factory, embedder) -> None:
    rng = random.Random(3)
    docs = tmp_path / "docs"
    docs.mkdir()
    long_title = " ".join(rng.choice(WORDS) for _ in range(300))
    long_heading = " ".join(rng.choice(WORDS) for _ in range(200))
    body = "\n\n".join(_prose(rng, 150) for _ in range(3))
    one_giant_paragraph = _prose(rng, 700)
    unbroken = "https://example.org/" + "-".join(rng.choice(WORDS) for _ in range(250))
    cjk = "電気通信の安全保障と供給者の多様化に関する指針。" * 30
    table = "\n".join(f"| {i} | {rng.choice(WORDS)} | {rng.randint(1000, 99999)} |" for i in range(60))
    (docs / "long.md").write_text(markdown(
        f"# {long_heading}\n\n{body}\n\n## Giant\n\n{one_giant_paragraph}\n\n## Link\n\n{unbroken}\n\n"
        f"## CJK\n\n{cjk}\n\n## Table\n\n| n | word | value |\n|---|---|---|\n{table}\n",
        title=long_title,
    ))
    settings = settings_factory()

    result = ingest([docs], settings=settings, embedder=embedder)

    assert result["errors"] == [] and result["chunks_truncated"] == 0
    window = embedder.model.max_seq_length
    tokenizer = embedder.model.tokenizer  # the model's own tokenizer, not the chunker's counter
    stored = IndexView(settings).texts_of("long")
    assert len(stored) == result["chunks_total"] > 10
    for text in stored:
        assert len(tokenizer(text)["input_ids"]) <= settings.chunk_max_tokens + 2
    # What the model is actually given (title/heading prefix + body) fits its window too.
    chunker = Chunker(TokenCounter(settings.model_path()), max_tokens=settings.chunk_max_tokens,
                      overlap_tokens=settings.chunk_overlap_tokens)
    chunks = chunker.split(load_document(docs / "long.md", docs), content_hash="0" * 64)
    assert sorted(chunk.text for chunk in chunks) == sorted(stored)
    for chunk in chunks:
        assert len(tokenizer(chunk.embed_text)["input_ids"]) <= window
        assert chunk.embed_text.endswith(chunk.text)
    # Every piece of the source made it into some chunk (nothing dropped at a split).
    joined = " ".join(stored)
    for needle in (one_giant_paragraph[-60:], unbroken[-40:], cjk[-20:], table.splitlines()[-1][:10]):
        assert needle in joined


# --- re-runs ---------------------------------------------------------------------------------------


def test_unchanged_rerun_embeds_nothing(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    _small_corpus(docs)
    settings = settings_factory()
    first = ingest([docs], settings=settings, embedder=embedder)
    view = IndexView(settings)
    ids_before = set(view.chunks())

    os.utime(docs / "alpha.md", (time.time() + 60, time.time() + 60))  # touched, not changed
    second = ingest([docs], settings=settings)  # no embedder: a no-op run must not need the model

    assert (first["added"], first["chunks_embedded"]) == (3, first["chunks_total"])
    assert (second["unchanged"], second["added"], second["updated"], second["deleted"]) == (3, 0, 0, 0)
    assert (second["chunks_embedded"], second["orphans_removed"]) == (0, 0)
    assert second["lexical_version"] == first["lexical_version"]
    assert set(view.chunks()) == ids_before


def test_changed_document_replaces_its_chunks_everywhere(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    _small_corpus(docs)
    settings = settings_factory()
    ingest([docs], settings=settings, embedder=embedder)
    view = IndexView(settings)
    old_ids = {cid for cid, (_, meta) in view.chunks().items() if meta["doc_id"] == "alpha"}
    assert view.lexical_hits("quokkaphone")

    (docs / "alpha.md").write_text("# Alpha\n\nAlpha text now mentions the okapiscope relay on the ridge.\n")
    result = ingest([docs], settings=settings, embedder=embedder)

    assert (result["updated"], result["unchanged"], result["added"]) == (1, 2, 0)
    assert result["chunks_embedded"] == 1
    chunks = view.chunks()
    assert view.texts_of("alpha") == ["Alpha text now mentions the okapiscope relay on the ridge."]
    assert not any("quokkaphone" in text for text, _ in chunks.values())
    assert not old_ids & set(chunks)
    assert set(chunks) == view.record_chunk_ids()
    assert view.lexical_hits("quokkaphone") == []
    assert [chunks[cid][1]["doc_id"] for cid in view.lexical_hits("okapiscope")] == ["alpha"]
    assert view.lexical().version == index_version(view.records().values()) == result["lexical_version"]
    nearest = view.vector_hits(embedder, "Alpha text mentions the quokkaphone relay near the harbour.", k=10)
    assert [text for _, text in nearest if "quokkaphone" in text] == []
    texts = Counter((meta["doc_id"], text) for text, meta in chunks.values())
    assert max(texts.values()) == 1


def test_deleted_file_is_pruned_from_vectors_and_lexical_index(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    _small_corpus(docs)
    settings = settings_factory()
    ingest([docs], settings=settings, embedder=embedder)
    view = IndexView(settings)
    beta_text = "Beta part one covers pelican masts."
    assert any(text == beta_text for _, text in view.vector_hits(embedder, beta_text, k=3))

    (docs / "beta.md").unlink()
    result = ingest([docs], settings=settings, embedder=embedder)

    assert (result["deleted"], result["unchanged"], result["chunks_embedded"]) == (1, 2, 0)
    assert "beta" not in view.records()
    assert view.texts_of("beta") == []
    assert [c for _, c in view.raw_chunks() if c.metadata["doc_id"] == "beta"] == []
    assert [text for _, text in view.vector_hits(embedder, beta_text, k=10) if "pelican" in text] == []
    assert view.lexical_hits("pelican") == [] and view.lexical_hits("heron") == []
    assert view.lexical_hits("walrus")


def test_no_prune_keeps_documents_whose_file_is_gone(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    _small_corpus(docs)
    settings = settings_factory()
    ingest([docs], settings=settings, embedder=embedder)
    view = IndexView(settings)
    before = view.chunks()
    (docs / "gamma.txt").unlink()

    kept = ingest([docs], settings=settings, embedder=embedder, prune=False)

    assert (kept["deleted"], kept["unchanged"]) == (0, 2)
    assert view.chunks() == before
    assert view.lexical_hits("walrus")

    # The same through the command line flag, then a pruning run removes it.
    done = run_cli(["ingest", str(docs), "--no-prune", "--json"], data_dir=settings.data_dir, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["deleted"] == 0
    assert "gamma" in view.records()
    pruned = ingest([docs], settings=settings, embedder=embedder)
    assert pruned["deleted"] == 1
    assert view.texts_of("gamma") == [] and view.lexical_hits("walrus") == []


def test_metadata_only_changes_reindex(tmp_path: Path, settings_factory, embedder) -> None:
    docs = tmp_path / "docs"
    _small_corpus(docs)
    (docs / "sub").mkdir()
    (docs / "sub" / "delta.md").write_text("# Delta\n\nDelta text on ibis towers.\n")
    (docs / "sub" / "epsilon.md").write_text("# Epsilon\n\nEpsilon text on stork repeaters.\n")
    settings = settings_factory()
    ingest([docs], settings=settings, embedder=embedder)
    view = IndexView(settings)

    def visibility(doc_id: str) -> set[str]:
        return {meta["visibility"] for _, meta in view.chunks().values() if meta["doc_id"] == doc_id}

    # A sidecar that only changes visibility.
    (docs / "alpha.md.meta.yaml").write_text("visibility: internal\n")
    sidecar = ingest([docs], settings=settings, embedder=embedder)
    assert (sidecar["updated"], sidecar["unchanged"]) == (1, 4)
    assert visibility("alpha") == {"internal"}
    lexical = view.lexical()
    positions = [i for i, doc in enumerate(lexical.doc_ids) if doc == "alpha"]
    assert positions and {lexical.visibilities[i] for i in positions} == {"internal"}
    assert [hit for hit in lexical.search("quokkaphone", visibilities=["public"])] == []

    # Folder defaults apply to every document below them.
    (docs / "sub" / "_meta.yaml").write_text("visibility: partners\n")
    folder = ingest([docs], settings=settings, embedder=embedder)
    assert (folder["updated"], folder["unchanged"]) == (2, 3)
    assert visibility("sub-delta") == visibility("sub-epsilon") == {"partners"}

    # Front matter counts too.
    (docs / "gamma.txt").unlink()
    (docs / "gamma.md").write_text(markdown("Gamma notes on walrus backhaul capacity.\n", doc_id="gamma", visibility="internal"))
    front = ingest([docs], settings=settings, embedder=embedder)
    assert (front["updated"], front["deleted"]) == (1, 0)
    assert visibility("gamma") == {"internal"}
    assert set(view.chunks()) == view.record_chunk_ids()


# --- killed mid-run --------------------------------------------------------------------------------

KILL_CORPUS_DOCS = 150


def _kill_doc(folder: Path, n: int, rng: random.Random, version: str) -> str:
    """Write document n (about two chunks); returns a marker sentence only it contains."""
    doc_id = f"doc-{n:03d}"
    marker = f"Marker sentence for document number {n} version {version}."
    body = f"# Document {n}\n\n{marker}\n\n{_prose(rng, 160)}\n\n## Details\n\n{_prose(rng, 50)}\n"
    (folder / f"group-{n % 5}").mkdir(parents=True, exist_ok=True)
    (folder / f"group-{n % 5}" / f"{doc_id}.md").write_text(markdown(body, doc_id=doc_id))
    return marker


class _Run:
    """`gcot ingest` in a subprocess whose JSON log lines on stderr are read as they come."""

    def __init__(self, docs: Path, data: Path, cwd: Path) -> None:
        self.process = subprocess.Popen(
            cli_command(["ingest", str(docs), "--json"]), cwd=cwd, env=cli_env(data, GCOT_LOG_LEVEL="INFO"),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.events: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            try:
                self.events.put(json.loads(line).get("event", ""))
            except ValueError:
                continue

    def wait_for(self, event: str, *, count: int = 1, timeout: float = 300) -> None:
        deadline, seen = time.monotonic() + timeout, 0
        while seen < count:
            try:
                seen += self.events.get(timeout=1.0) == event
            except queue.Empty:
                assert self.process.poll() is None, f"the run ended (exit {self.process.returncode}) before {event!r}"
                assert time.monotonic() < deadline, f"no {event!r} event within {timeout} s"

    def kill(self, *, after: float = 0.0) -> None:
        time.sleep(after)
        assert self.process.poll() is None, "the run finished before it could be killed"
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL


def test_sigkill_mid_run_then_rerun_is_consistent(tmp_path: Path) -> None:
    docs, data = tmp_path / "docs", tmp_path / "data"
    rng = random.Random(11)
    markers = {f"doc-{n:03d}": _kill_doc(docs, n, rng, "one") for n in range(KILL_CORPUS_DOCS)}

    _Run(docs, data, tmp_path).kill(after=1.0)  # while starting up
    run = _Run(docs, data, tmp_path)  # right after the first group is stored and committed
    run.wait_for("chunks embedded")
    run.kill()
    run = _Run(docs, data, tmp_path)  # part-way through a group
    run.wait_for("chunks embedded")
    run.kill(after=0.3)

    # Change, delete and add documents, then kill while updates and prunes are under way.
    changed = [f"doc-{n:03d}" for n in range(0, KILL_CORPUS_DOCS, 4)]
    for doc_id in changed:
        markers[doc_id] = _kill_doc(docs, int(doc_id[4:]), rng, "two")
    for doc_id in ("doc-001", "doc-002", "doc-149"):
        next(docs.glob(f"*/{doc_id}.md")).unlink()
        del markers[doc_id]
    for n in range(KILL_CORPUS_DOCS, KILL_CORPUS_DOCS + 30):
        markers[f"doc-{n:03d}"] = _kill_doc(docs, n, rng, "one")
    run = _Run(docs, data, tmp_path)
    run.wait_for("chunks embedded")
    run.kill()

    done = run_cli(["ingest", str(docs), "--json"], data_dir=data, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    final = json.loads(done.stdout)
    assert final["errors"] == [] and final["chunks_truncated"] == 0

    state = dump_index(data)
    chunks, entries = state["chunks"], state["records"]
    record_ids = [cid for entry in entries.values() for cid in entry["chunk_ids"]]
    assert len(record_ids) == len(set(record_ids))
    assert set(chunks) == set(record_ids)  # Chroma holds exactly what the records name
    assert set(entries) == set(markers)  # every live document once, deleted ones gone
    texts_by_doc: dict[str, list[str]] = {}
    for text, meta in chunks.values():
        texts_by_doc.setdefault(meta["doc_id"], []).append(text)
    assert set(texts_by_doc) == set(markers)
    for doc_id, texts in texts_by_doc.items():
        assert len(texts) == len(set(texts)) == len(entries[doc_id]["chunk_ids"]), f"duplicate chunks in {doc_id}"
        assert sum(markers[doc_id] in text for text in texts) == 1, doc_id
        assert not any("version one" in text for text in texts) or doc_id not in changed, doc_id
    # The published version is the version of the records (the lexical index was derived from them).
    assert state["lexical_version"] == state["index_version"] == state["expected_version"] == final["lexical_version"]
    assert sorted(state["lexical_ids"]) == sorted(record_ids)
    assert final["check"]["clean"], final["check"]

    again = run_cli(["ingest", str(docs), "--json"], data_dir=data, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert (rerun["chunks_embedded"], rerun["orphans_removed"], rerun["unchanged"]) == (0, 0, len(markers))


def test_sigkill_during_visibility_moves_then_rerun_leaves_index_check_clean(tmp_path: Path) -> None:
    """Small and quick: a run killed after its chunks are written (records changed, nothing published)."""
    docs, data = tmp_path / "docs", tmp_path / "data"
    rng = random.Random(5)
    for n in range(12):
        _kill_doc(docs, n, rng, "one")
    assert run_cli(["ingest", str(docs)], data_dir=data, cwd=tmp_path).returncode == 0
    # Half the documents change visibility only (moves, no embedding), a few change text too.
    for n in range(0, 12, 2):
        path = next(docs.glob(f"*/doc-{n:03d}.md"))
        path.write_text(path.read_text().replace("doc_id: doc-", "visibility: partners\ndoc_id: doc-", 1))
    for n in (1, 3):
        _kill_doc(docs, n, rng, "two")
    run = _Run(docs, data, tmp_path)
    run.wait_for("chunks embedded")
    run.kill()

    done = run_cli(["ingest", str(docs), "--json"], data_dir=data, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rerun = json.loads(done.stdout)
    assert rerun["check"]["clean"], rerun["check"]
    check = run_cli(["index", "check", "--json"], data_dir=data, cwd=tmp_path)
    assert check.returncode == 0, check.stdout
    state = dump_index(data)
    assert {doc_id: r["visibility"] for doc_id, r in state["records"].items()} == {
        f"doc-{n:03d}": "partners" if n % 2 == 0 else "internal" for n in range(12)}
    assert {meta["doc_id"]: meta["visibility"] for _, meta in state["chunks"].values()} == {
        doc_id: r["visibility"] for doc_id, r in state["records"].items()}
