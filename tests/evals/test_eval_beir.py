"""BEIR plumbing on a tiny hand-made dataset: corpus parts, qrels, indexing through ingest, measures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.beir import doc_markdown, evaluate, iter_corpus, load_qrels, load_queries, materialise_corpus, measure

DOCS = [
    {"_id": "11", "title": "Zebrafish fin regeneration", "text": "Zebrafish regrow amputated fins through blastema formation within days."},
    {"_id": "12", "title": "Vitamin D and bone density", "text": "Vitamin D supplements raised bone mineral density in older women."},
    {"_id": "13", "title": "Telomerase in cancer cells", "text": "Most cancer cells keep telomeres long by expressing telomerase."},
    {"_id": "14", "title": "Gut microbiome and obesity", "text": "Mice given microbiota from obese donors gained more fat mass."},
]
QUERIES = {"1": "fins regrow in zebrafish", "2": "telomerase keeps cancer telomeres long", "3": "an unjudged query"}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    for part, docs in enumerate([DOCS[:2], DOCS[2:]], start=1):
        (folder / f"corpus.part{part}.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in QUERIES.items()))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\t11\t1\n2\t13\t1\n")
    return folder


def test_reading_a_split_corpus_queries_and_qrels(dataset: Path) -> None:
    assert [d["_id"] for d in iter_corpus(dataset)] == ["11", "12", "13", "14"]
    assert load_queries(dataset)["2"] == QUERIES["2"]
    assert load_qrels(dataset, "test") == {"1": {"d11": 1}, "2": {"d13": 1}}
    with pytest.raises(FileNotFoundError, match="train"):
        load_qrels(dataset, "train")


def test_documents_become_markdown_with_front_matter(dataset: Path, tmp_path: Path) -> None:
    text = doc_markdown({"_id": "7", "title": 'A "quoted": title', "text": "Body."})
    assert text.startswith("---\ndoc_id: d7\n") and "visibility: public" in text and text.endswith("---\nBody.\n")
    out = tmp_path / "docs"
    assert materialise_corpus(dataset, out) == 4
    before = (out / "d11.md").stat().st_mtime_ns
    materialise_corpus(dataset, out)
    assert (out / "d11.md").stat().st_mtime_ns == before  # unchanged files are not rewritten


def test_measure_hand_computed() -> None:
    qrels = {"a": {"d1": 1}, "b": {"d2": 1}}
    run = {"a": {"d9": 2.0, "d1": 1.0}}  # relevant at rank 2; "b" retrieved nothing
    scores = measure(qrels, run)
    assert scores["ndcg_at_10"] == pytest.approx((1 / 1.5849625) / 2, rel=1e-4)
    assert scores["recall_at_100"] == pytest.approx(0.5)


def test_evaluate_indexes_with_ingest_and_scores_each_mode(dataset: Path, settings_factory, embedder) -> None:
    from bot.retrieve.hybrid import HybridRetriever
    from evals.beir import build_index

    settings = settings_factory()
    result = build_index(dataset, settings)
    assert result["documents_seen"] == 4 and not result["errors"]
    retriever = HybridRetriever.from_settings(settings, embedder=embedder)
    results = evaluate(dataset, split="test", modes=("bm25", "dense", "hybrid"), retriever=retriever, depth=10)
    assert [r.retriever for r in results] == ["bm25", "dense", "hybrid"]
    for r in results:
        assert r.ndcg_at_10 == pytest.approx(1.0) and r.recall_at_100 == pytest.approx(1.0), r
        assert r.n_queries == 2
    assert results[2].fusion is not None and results[0].fusion is None
