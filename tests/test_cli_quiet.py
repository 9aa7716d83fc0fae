"""Quiet by default, loud when asked: the real `gcot` script in subprocesses.

At the default level a successful `gcot ingest` and `gcot ask` write nothing to stderr (no JSON log
lines, no "Loading weights" bar, no bm25s debug lines); `--verbose` or `GCOT_LOG_LEVEL` brings the
JSON logs back; a failure is one `error:` line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"
GCOT = str(Path(sys.executable).parent / "gcot")


def gcot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GCOT_", "SLACK_", "CHROMA_"))}
    clean.update({"GCOT_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1", **env})
    return subprocess.run([GCOT, *args], env=clean, cwd=tmp_path, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    """A small index built by `gcot ingest` itself (whose stderr must stay empty)."""
    root = tmp_path_factory.mktemp("quiet")
    docs = root / "docs"
    shutil.copytree(CORPUS_DIR / "about", docs)
    done = gcot(root, "ingest", str(docs))
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    assert done.stdout.startswith("Ingested ")
    return root


def test_ask_writes_nothing_to_stderr_on_success(indexed):
    done = gcot(indexed, "ask", "What is GCOT?")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Sources:" in done.stdout


def test_verbose_brings_back_json_logs_but_no_progress_bars(indexed):
    done = gcot(indexed, "--verbose", "ask", "What is GCOT?")  # the same as GCOT_LOG_LEVEL=INFO
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]  # every line is one JSON object
    assert any(r["level"] == "info" and r["logger"].startswith("bot.") for r in records)
    assert "Loading weights" not in done.stderr and "bm25s" not in done.stderr


def test_failures_are_one_line(tmp_path):
    missing = gcot(tmp_path, "ask", "What is GCOT?")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and missing.stderr.startswith("error: ")
    bad_level = gcot(tmp_path, "ask", "x", GCOT_LOG_LEVEL="loud")
    assert bad_level.returncode == 2
    assert bad_level.stderr == "error: GCOT_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not 'loud'\n"
    bad_json = gcot(tmp_path, "ask", "x", SLACK_CHANNEL_AUDIENCES="{not json")
    assert bad_json.returncode == 2
    assert bad_json.stderr.count("\n") == 1 and "slack_channel_audiences" in bad_json.stderr.lower()
