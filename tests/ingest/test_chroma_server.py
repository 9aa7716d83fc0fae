"""The same ingest code path against a real `chroma run` server (CHROMA_HOST/CHROMA_PORT)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ingest_helpers import IndexView, run_cli
from testkit import ChromaServer

from ingest.pipeline import ingest

def test_ingest_rerun_change_and_delete_through_a_chroma_server(
    tmp_path: Path, chroma_server: ChromaServer, settings_factory, embedder
) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text("# Alpha\n\nAlpha text about the puffin relay.\n")
    (docs / "beta.md").write_text("---\nvisibility: internal\n---\n# Beta\n\nBeta text about gannet masts.\n")
    (docs / "gamma.txt").write_text("Gamma text about skua cables.\n")
    settings = settings_factory(chroma_host=chroma_server.host, chroma_port=chroma_server.port)
    view = IndexView(settings)

    first = ingest([docs], settings=settings, embedder=embedder)

    assert first["errors"] == [] and (first["added"], first["chunks_embedded"]) == (3, 3)
    assert not settings.chroma_path.exists(), "an embedded store was created beside the server"
    assert view.location == f"http://{chroma_server.host}:{chroma_server.port}"
    assert not (settings.data_dir / "manifest").exists(), "the records belong on the server, not on this host"
    # An independent client sees the chunks on the server, with our metadata. No file states a
    # visibility except beta, so all three are `internal` (the fail-closed default) and sit in
    # the internal collection; the public one is empty.
    client = chromadb.HttpClient(host=chroma_server.host, port=chroma_server.port,
                                 settings=ChromaSettings(anonymized_telemetry=False))
    remote = client.get_collection(f"{first['collection']}__internal", embedding_function=None)
    assert remote.count() == 3
    assert client.get_collection(f"{first['collection']}__public", embedding_function=None).count() == 0
    assert remote.get(where={"doc_id": "beta"}, include=["metadatas"])["metadatas"][0]["visibility"] == "internal"
    assert client.get_collection(f"{first['collection']}__records", embedding_function=None).count() == 3
    nearest = view.vector_hits(embedder, "puffin relay", k=1)
    assert nearest[0][1] == "Alpha text about the puffin relay."

    rerun = ingest([docs], settings=settings, embedder=embedder)
    assert (rerun["unchanged"], rerun["chunks_embedded"], rerun["lexical_version"]) == (3, 0, first["lexical_version"])

    (docs / "alpha.md").write_text("# Alpha\n\nAlpha text about the kittiwake relay.\n")
    (docs / "gamma.txt").unlink()
    changed = ingest([docs], settings=settings, embedder=embedder)
    assert (changed["updated"], changed["deleted"], changed["unchanged"], changed["chunks_embedded"]) == (1, 1, 1, 1)
    texts = sorted(remote.get(include=["documents"])["documents"])
    assert texts == ["Alpha text about the kittiwake relay.", "Beta text about gannet masts."]
    assert set(remote.get()["ids"]) == view.record_chunk_ids()
    assert view.lexical_hits("puffin") == [] and view.lexical_hits("skua") == []
    assert view.lexical_hits("kittiwake")

    # The server keeps the index across a restart: the next run has nothing to do.
    chroma_server.stop()
    chroma_server.start()
    after_restart = ingest([docs], settings=settings)
    assert (after_restart["unchanged"], after_restart["chunks_embedded"], after_restart["orphans_removed"]) == (2, 0, 0)


def _server_settings(settings_factory, server: ChromaServer, data_dir: Path, **overrides):
    return settings_factory(data_dir=data_dir, chroma_host=server.host, chroma_port=server.port, **overrides)


def test_records_live_on_the_server_so_two_data_dirs_can_alternate(
    tmp_path: Path, chroma_server: ChromaServer, settings_factory, embedder
) -> None:
    from store import check_index, open_reader

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text("---\nvisibility: public\n---\n# Alpha\n\nAlpha text about the puffin relay.\n")
    (docs / "beta.md").write_text("---\nvisibility: internal\n---\n# Beta\n\nBeta text about gannet masts.\n")
    (docs / "gamma.txt").write_text("Gamma text about skua cables.\n")
    host_a = _server_settings(settings_factory, chroma_server, tmp_path / "data-a")
    host_b = _server_settings(settings_factory, chroma_server, tmp_path / "data-b")

    first = ingest([docs], settings=host_a, embedder=embedder)
    assert (first["added"], first["chunks_embedded"]) == (3, 3)
    # An empty data dir plans the same run: nothing to do, nothing swept away, same version.
    empty = ingest([docs], settings=host_b, embedder=embedder)
    assert (empty["unchanged"], empty["chunks_embedded"], empty["deleted"], empty["orphans_removed"]) == (3, 0, 0, 0)
    assert empty["index_version"] == first["index_version"] and empty["check"]["clean"]
    # A reader with an empty data dir gets the lexical index from Chroma alone.
    lexical = open_reader(_server_settings(settings_factory, chroma_server, tmp_path / "data-c")).snapshot().lexical
    assert sorted(lexical.chunk_ids) == sorted(IndexView(host_a).record_chunk_ids())
    assert lexical.search("puffin", visibilities=["public"])

    (docs / "alpha.md").write_text("---\nvisibility: public\n---\n# Alpha\n\nAlpha text about the kittiwake relay.\n")
    by_b = ingest([docs], settings=host_b, embedder=embedder)
    assert (by_b["updated"], by_b["unchanged"], by_b["chunks_embedded"]) == (1, 2, 1)
    (docs / "delta.md").write_text("---\nvisibility: partners\n---\n# Delta\n\nDelta text about tern towers.\n")
    by_a = ingest([docs], settings=host_a, embedder=embedder)
    assert (by_a["added"], by_a["unchanged"], by_a["chunks_embedded"], by_a["orphans_removed"]) == (1, 3, 1, 0)
    again = ingest([docs], settings=host_b, embedder=embedder)
    assert (again["unchanged"], again["chunks_embedded"], again["orphans_removed"]) == (4, 0, 0)

    view = IndexView(host_b)
    chunks = view.chunks()
    assert set(chunks) == view.record_chunk_ids()
    assert sorted(text for text, _ in chunks.values()) == [
        "Alpha text about the kittiwake relay.", "Beta text about gannet masts.", "Delta text about tern towers.",
        "Gamma text about skua cables.",
    ]
    assert check_index(host_a)["clean"] and again["index_version"] == by_a["index_version"]


def test_server_lock_names_its_holder_and_age_and_a_stale_one_is_taken_over(
    tmp_path: Path, chroma_server: ChromaServer, settings_factory, embedder
) -> None:
    from encoder import model_info
    from store import StoreLockedError, open_reader, open_writer
    from store.chroma import chroma_client, collection_name, lock_collection_name

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text("---\nvisibility: public\n---\n# Alpha\n\nAlpha text about the puffin relay.\n")
    settings = _server_settings(settings_factory, chroma_server, tmp_path / "data-a")
    other = _server_settings(settings_factory, chroma_server, tmp_path / "data-b")
    name, dimension = model_info(settings.model_path())

    assert ingest([docs], settings=settings, embedder=embedder)["added"] == 1
    with open_writer(settings, model_name=name, dimension=dimension, purpose="gcot ingest nightly"):
        # A reader may load while an ingest runs, but does not cache a lexical index built part-way.
        reader_settings = _server_settings(settings_factory, chroma_server, tmp_path / "data-r")
        assert open_reader(reader_settings).snapshot().lexical.search("puffin")
        assert not list((reader_settings.data_dir / "lexical").rglob("chunks.json"))
        with pytest.raises(StoreLockedError) as raised:
            ingest([docs], settings=other, embedder=embedder)
        done = run_cli(["ingest", str(docs)], data_dir=tmp_path / "data-c", cwd=tmp_path,
                       CHROMA_HOST=chroma_server.host, CHROMA_PORT=str(chroma_server.port))
    message = str(raised.value)
    assert f"host {socket.gethostname()}, pid {os.getpid()} (`gcot ingest nightly`), since " in message
    assert " ago, last heartbeat " in message and "GCOT_INGEST_LOCK_STALE_S" in message
    assert done.returncode == 1 and "pid " + str(os.getpid()) in done.stderr, done.stderr

    # Released: the next ingest runs. Then stale locks: a dead holder on this host, and one without
    # a heartbeat for longer than the setting.
    assert ingest([docs], settings=other, embedder=embedder)["unchanged"] == 1
    client = chroma_client(settings)
    lock = lock_collection_name(collection_name(settings.collection_prefix, name, dimension))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = time.time()
    for holder in ({"host": socket.gethostname(), "pid": dead.pid, "since": now, "heartbeat": now},
                   {"host": "elsewhere", "pid": 1, "since": now - 100, "heartbeat": now - 100}):
        client.create_collection(lock, embedding_function=None, metadata={**holder, "command": "gcot ingest", "token": "x"})
        result = ingest([docs], settings=_server_settings(settings_factory, chroma_server, tmp_path / "data-a",
                                                          ingest_lock_stale_s=60), embedder=embedder)
        assert result["unchanged"] == 1 and result["check"]["clean"]
        assert lock not in {c.name for c in client.list_collections()}  # released at the end
