"""The light query path: the ONNX export reproduces sentence-transformers and keeps torch out of the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from testkit import PROJECT_ROOT, make_settings
from encoder import Embedder, load_embedder
from encoder.onnx import OnnxEmbedder, ensure_exported, onnx_file, supports_onnx

TEXTS = [
    "The coalition launched on 5 October 2023.",
    "Which Open RAN security controls apply to operators of 5G networks in the United Kingdom?",
    "ok",
    "A long passage " + "about supply-chain diversification and vendor risk " * 40,  # past the 256-token window
]


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export per test module (it takes a while: torch traces the model, then int8 quantisation).

    Two processes export into the same fresh cache at once, as replicas starting together do: both
    must get a usable file (the quantiser's fixed-name scratch file once made the second one fail).
    """
    root = tmp_path_factory.mktemp("onnx-cache")
    model_path = make_settings(Path("unused")).model_path()
    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(pool.map(lambda _: ensure_exported(model_path, root, "int8"), range(2)))
    assert all(path is not None and path.is_file() for path in paths), paths
    return root


def test_fp32_export_matches_sentence_transformers(cache_root: Path, embedder: Embedder) -> None:
    model_path = make_settings(Path("unused")).model_path()
    onnx = OnnxEmbedder(model_path, onnx_file(model_path, cache_root, "fp32"))

    reference = embedder.embed_documents(TEXTS)
    documents = onnx.embed_documents(TEXTS)
    queries = np.stack([onnx.embed_query(text) for text in TEXTS])

    assert documents.shape == reference.shape == (len(TEXTS), onnx.dimension)
    assert np.allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
    assert (documents * reference).sum(axis=1).min() > 0.9999
    assert (queries * reference).sum(axis=1).min() > 0.9999


def test_int8_export_stays_close_to_fp32(cache_root: Path, embedder: Embedder) -> None:
    """The issue's criterion is retrieval: int8 loses at most 0.005 nDCG@10 on SciFact (measured by
    `gcot bench encoder --dataset`: hybrid 0.7359 for both, dense 0.6619 vs 0.6665). That run is too
    slow for CI, so this checks the vectors on what users ask: the dev questions of the eval set
    (bounds from them on 2026-12-02: mean 0.9938, min 0.989), and the edge cases in TEXTS. A one-word
    input is the worst case ("ok": 0.9695 and 0.9737 in two exports on 2026-12-02, above 0.97 the day
    before on another machine), so TEXTS get a lower floor than real questions."""
    model_path = make_settings(Path("unused")).model_path()
    onnx = OnnxEmbedder(model_path, onnx_file(model_path, cache_root, "int8"))
    questions = [row["question"] for row in map(json.loads, (PROJECT_ROOT / "evals/datasets/gcot.jsonl").read_text().splitlines())
                 if row.get("split") == "dev"]
    assert len(questions) > 100

    asked = np.array([query @ reference for query, reference in
                      zip((onnx.embed_query(q) for q in questions), embedder.embed_documents(questions), strict=True)])
    edge = np.array([onnx.embed_query(text) @ embedder.embed_query(text) for text in TEXTS])

    assert asked.mean() > 0.99 and asked.min() > 0.98, (asked.mean(), asked.min())
    assert edge.min() > 0.96, edge


def test_repeated_queries_come_from_a_bounded_cache(cache_root: Path) -> None:
    model_path = make_settings(Path("unused")).model_path()
    cached = OnnxEmbedder(model_path, onnx_file(model_path, cache_root, "int8"), query_cache_size=2)
    uncached = OnnxEmbedder(model_path, onnx_file(model_path, cache_root, "int8"), query_cache_size=0)
    calls: list[int] = []
    encode = cached._encode  # noqa: SLF001 -- counting the model runs this cache saves
    cached._encode = lambda texts: calls.append(len(texts)) or encode(texts)  # noqa: SLF001

    first = cached.embed_query(TEXTS[0])
    first[:] = 0.0  # a caller scribbling on its vector must not change what the cache returns
    again = cached.embed_query(TEXTS[0])
    assert calls == [1]
    assert np.array_equal(again, uncached.embed_query(TEXTS[0]))

    cached.embed_query(TEXTS[1])
    cached.embed_query(TEXTS[2])  # evicts TEXTS[0], the least recently used of two
    cached.embed_query(TEXTS[0])
    assert calls == [1, 1, 1, 1]


def test_settings_pick_the_backend(cache_root: Path, tmp_path: Path) -> None:
    chosen = load_embedder(make_settings(tmp_path / "data", embedding_cache_dir=cache_root, embedding_onnx_variant="fp32"))
    assert (chosen.backend, chosen.variant) == ("onnx", "fp32")
    assert chosen.session.get_session_options().intra_op_num_threads == 1
    # Documents are embedded with torch whatever the query backend.
    documents = load_embedder(make_settings(tmp_path / "data", embedding_cache_dir=cache_root), purpose="documents")
    assert documents.backend == "torch"
    # The ingest's sentence vectors: the query model (they are compared with query vectors), every core.
    sentences = load_embedder(make_settings(tmp_path / "data", embedding_cache_dir=cache_root), purpose="sentences")
    assert (sentences.backend, sentences.variant) == ("onnx", "int8")
    assert sentences.session.get_session_options().intra_op_num_threads == (os.cpu_count() or 1)


def test_a_model_folder_it_cannot_export_falls_back_to_torch(tmp_path: Path) -> None:
    model_path = make_settings(Path("unused")).model_path()
    folder = tmp_path / "model"
    folder.mkdir()
    for item in model_path.iterdir():
        (folder / item.name).symlink_to(item)
    (folder / "modules.json").unlink()
    (folder / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]))
    assert not supports_onnx(folder)

    with pytest.raises(RuntimeError, match="ONNX export"):
        load_embedder(make_settings(tmp_path / "data", embedding_model=folder, embedding_backend="onnx"))


def test_a_cli_process_embeds_queries_without_importing_torch(cache_root: Path, tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from testkit import make_settings; from encoder import load_embedder; "
        f"e = load_embedder(make_settings(Path({str(tmp_path)!r}), embedding_cache_dir=Path({str(cache_root)!r}))); "
        "v = e.embed_query('When did the coalition launch?'); "
        "print(e.backend, v.shape[0], 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{PROJECT_ROOT / 'tests'}:{PROJECT_ROOT}"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["onnx", "384", "False", "False"]


def test_ingest_embeds_sentences_with_the_query_embedder(cache_root: Path, tmp_path: Path, embedder: Embedder) -> None:
    """Answering compares stored sentence vectors with query vectors from the ONNX int8 model, so
    `ingest()` given no embedder stores that model's sentence vectors, not torch fp32's."""
    from ingest.pipeline import ingest
    from store import open_reader
    from store.sentences import SentenceVectors, split_texts

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "launch.md").write_text(
        "# Launch\n\nThe coalition launched on 5 October 2023. Its five members are the UK, Australia, Canada, "
        "Japan and the US.\n\nIt works on secure, resilient networks. Ok.\n"
    )
    settings = make_settings(tmp_path / "data", embedding_cache_dir=cache_root)
    assert ingest([docs], settings=settings)["chunks_embedded"] >= 1

    reader = open_reader(settings)
    try:
        items = [(chunk.chunk_id, split_texts(chunk.text)) for chunk in reader.snapshot().iter_chunks()]
    finally:
        reader.close()
    stored = SentenceVectors(settings).lookup(items)
    assert set(stored) == {chunk_id for chunk_id, _ in items}
    sentences = [text for _, texts in items for text in texts]
    vectors = np.concatenate([stored[chunk_id] for chunk_id, _ in items])
    query_model = load_embedder(settings)  # one thread, where ingest used every core: the same vectors
    to_query_model = (vectors * query_model.embed_documents(sentences)).sum(axis=1)
    to_torch = (vectors * embedder.embed_documents(sentences)).sum(axis=1)
    assert to_query_model.min() > 0.995, to_query_model
    assert to_query_model.mean() > to_torch.mean(), (to_query_model.mean(), to_torch.mean())
