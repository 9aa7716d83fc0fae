"""`gcot eval ...` through the real command line (typer's runner, the session's corpus index)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gcot.cli import app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

TINY = [
    {"id": "t1", "question": "How much did the UK commit to the Future Telecoms Technology Missions Fund?", "audience": "industry",
     "answerable": True, "expect": [["£70 million", "£70m"]], "gold_doc_ids": ["uk-tmf"], "category": "coalition"},
    {"id": "t2", "question": "whats the amber heron protocol?", "audience": "academic", "answerable": False, "expect": [],
     "category": "adversarial"},
    {"id": "t3", "question": "and when was it announced?", "audience": "staff", "answerable": True, "expect": [["5 October 2023"]],
     "history": [{"role": "user", "content": "How much did the UK commit to the Future Telecoms TMF?"}], "category": "coalition"},
]


def test_eval_commands_are_registered() -> None:
    result = runner.invoke(app, ["eval", "--help"])
    assert result.exit_code == 0
    for command in ("run", "validate", "beir", "refusal"):
        assert command in result.output


def test_validate_reports_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(TINY[0]) + "\n" + json.dumps({**TINY[1], "expect": [["x"]]}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2 (t2): unanswerable questions must have expect: []" in result.output


def test_validate_the_shipped_set_against_the_corpus() -> None:
    result = runner.invoke(
        app, ["eval", "validate", str(PROJECT_ROOT / "evals/datasets/gcot.jsonl"),
              "--corpus", str(PROJECT_ROOT / "corpus"), "--corpus", str(PROJECT_ROOT / "tests/fixtures/restricted")],
    )
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_run_prints_all_metrics_and_writes_json_and_reports(corpus_index, tmp_path: Path) -> None:
    questions = tmp_path / "tiny.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in TINY), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["eval", "run", "--questions", str(questions), "--json", str(out / "run.json"), "--report", str(out / "report.html"), "--no-progress"],
        env={"GCOT_DATA_DIR": str(corpus_index.data_dir)},
    )
    assert result.exit_code == 0, result.output
    for label in ("Retrieval hit@1", "Retrieval hit@5", "Retrieval MRR@10", "Answer fact recall", "Answer accuracy",
                  "Citation support", "False-answer rate", "False-refusal rate", "Refusal balanced accuracy",
                  "Leaks (answers)", "Latency p50 (ms)", "Latency p95 (ms)", "BM25 only", "Naive LangChain"):
        assert label in result.output
    payload = json.loads((out / "run.json").read_text())
    assert payload["n"] == 3 and payload["leaks"] == 0
    assert set(payload["baselines"]) == {"bm25", "naive_langchain"}
    assert {"hit_at_1", "hit_at_5", "mrr_at_10"} <= set(payload["retrieval"])
    assert set(payload["by_audience"]) == {"academic", "industry", "staff"}
    assert (out / "report.html").read_text().count("<svg") >= 2
    assert (out / "report.md").is_file()
    # Which query encoder answered (an ONNX export that failed falls back to torch, moving the figures).
    encoder = payload["settings"]["query_encoder"]
    assert encoder in {"onnx-int8", "onnx-fp32", "torch-fp32"}, encoder
    assert f"query encoder {encoder}" in result.output
    assert f"query encoder `{encoder}`" in (out / "report.md").read_text()


def test_run_with_a_missing_index_explains_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["eval", "run", "--questions", str(PROJECT_ROOT / "evals/datasets/gcot.jsonl"), "--systems", "ours"],
        env={"GCOT_DATA_DIR": str(tmp_path / "empty")},
    )
    assert result.exit_code == 2
    assert "--corpus" in result.output


def test_run_with_corpus_builds_a_temporary_index(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "fund.md").write_text(
        "---\ndoc_id: tiny-fund\ntitle: Tiny fund\nvisibility: public\n---\n# Tiny fund\n\n"
        "The Tiny Telecoms Fund was given £12 million in March 2024 to test open RAN equipment.\n",
        encoding="utf-8",
    )
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({
        "id": "f1", "question": "How much money did the Tiny Telecoms Fund get?", "audience": "industry", "answerable": True,
        "expect": [["£12 million"]], "gold_doc_ids": ["tiny-fund"],
    }) + "\n", encoding="utf-8")
    data_dir = tmp_path / "untouched"
    result = runner.invoke(
        app, ["eval", "run", "--questions", str(questions), "--corpus", str(docs), "--systems", "ours,bm25",
              "--json", str(tmp_path / "run.json"), "--no-progress"],
        env={"GCOT_DATA_DIR": str(data_dir)},
    )
    assert result.exit_code == 0, result.output
    assert "temporary index" in result.output
    payload = json.loads((tmp_path / "run.json").read_text())
    assert payload["retrieval"]["hit_at_1"] == 1.0
    assert not data_dir.exists()  # the current index is neither used nor created


def test_a_temporary_index_reuses_an_existing_export_cache_and_creates_none(tmp_path: Path) -> None:
    from evals.corpus_index import index_corpus
    from testkit import make_settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("---\ndoc_id: note\ntitle: Note\nvisibility: public\n---\n# Note\n\nA short note.\n", encoding="utf-8")
    cache = tmp_path / "models"
    cache.mkdir()

    reused, result = index_corpus([docs], make_settings(tmp_path / "current", embedding_cache_dir=cache), tmp_path / "a")
    fresh, _ = index_corpus([docs], make_settings(tmp_path / "current"), tmp_path / "b")

    assert result["chunks_total"] == 1 and reused.data_dir == tmp_path / "a"
    assert reused.embedding_cache_dir == cache  # the query model is not exported again
    assert fresh.embedding_cache_dir is None  # none existed: nothing is made under the current data dir
    assert not (tmp_path / "current").exists()
