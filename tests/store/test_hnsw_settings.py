"""`GCOT_CHROMA_HNSW_EF_SEARCH` reaches the chunk collections: new ones, and existing ones when opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import make_settings

from gcot.settings import Settings
from store.chroma import chroma_client, hnsw_ef_search, open_chunk_collections
from store.records import ALL_VISIBILITIES

BASE = "gcot__test-model__4"


def _ef_search_of_all(settings: Settings) -> set[int | None]:
    stores = open_chunk_collections(chroma_client(settings), settings, BASE, create=False)
    return {hnsw_ef_search(store.collection) for store in stores.values()}


def test_new_collections_get_the_configured_ef_search(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, chroma_hnsw_ef_search=321)

    stores = open_chunk_collections(chroma_client(settings), settings, BASE, create=True, model_name="m", dimension=4)

    assert set(stores) == set(ALL_VISIBILITIES)
    assert {hnsw_ef_search(store.collection) for store in stores.values()} == {321}
    # Persisted: a fresh client (another process in production) reads the same value.
    assert _ef_search_of_all(settings) == {321}


def test_an_existing_index_takes_a_changed_ef_search_without_rebuild(tmp_path: Path) -> None:
    built = make_settings(tmp_path, chroma_hnsw_ef_search=100)
    stores = open_chunk_collections(chroma_client(built), built, BASE, create=True, model_name="m", dimension=4)
    stores["public"].collection.add(ids=["a"], embeddings=[[1.0, 0.0, 0.0, 0.0]], documents=["text"])

    raised = make_settings(tmp_path, chroma_hnsw_ef_search=500)

    assert _ef_search_of_all(raised) == {500}
    # The data is untouched, and the value stays for the next reader.
    reopened = open_chunk_collections(chroma_client(raised), raised, BASE, create=False)
    assert reopened["public"].collection.count() == 1
    assert _ef_search_of_all(built.model_copy(update={"chroma_hnsw_ef_search": 500})) == {500}


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCOT_CHROMA_HNSW_EF_SEARCH", "250")

    assert Settings(_env_file=None).chroma_hnsw_ef_search == 250
