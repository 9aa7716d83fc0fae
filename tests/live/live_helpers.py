"""Helpers shared by the live-index tests (a plain module, imported by name): small document folders,
a real `chroma run` server, `gcot` subprocesses, and a waiter that polls for an event with a deadline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from testkit import free_port  # noqa: F401 (re-exported for the live tests)

REFRESH_S = 0.25
"""The test refresh interval: short, so a swap is seen quickly (the default is 10 s)."""
ANSWERABLE_WITHIN_S = 15.0
"""Done-when: a new document is answerable within 15 s of its ingest finishing."""
GCOT = Path(sys.executable).with_name("gcot")


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what} (last value: {value!r})")
        time.sleep(interval)


def write_doc(folder: Path, doc_id: str, title: str, body: str, *, visibility: str = "public") -> Path:
    """A Markdown document with front matter; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{doc_id}.md"
    path.write_text(
        f"---\ndoc_id: {doc_id}\ntitle: \"{title}\"\ntopics: [live, {doc_id}]\nvisibility: {visibility}\n"
        f"published: 2025-01-01\nsource_url: \"https://example.org/{doc_id}\"\n---\n# {title}\n\n{body}\n"
    )
    return path


def base_docs(folder: Path) -> Path:
    """Two starting documents about made-up programmes (nothing the model could know)."""
    write_doc(folder, "puffin-relay", "The Puffin relay programme",
              "The Puffin relay programme was launched by the coalition in March 2021. "
              "It funds relay masts on small islands.")
    write_doc(folder, "gannet-cables", "The Gannet cable fund",
              "The Gannet cable fund pays for subsea cable repairs. Its budget is 12 million euros a year.")
    return folder


def cited(answer) -> set[str]:
    return {citation.doc_id for citation in answer.citations}


def env_for(settings, **extra: str) -> dict[str, str]:
    """The environment of a `gcot` subprocess that uses `settings`' store (and no `.env`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "GCOT_", "SLACK_"))}
    env.update({"GCOT_DATA_DIR": str(settings.data_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "ANONYMIZED_TELEMETRY": "False", "OMP_NUM_THREADS": "1", "GCOT_LOG_LEVEL": "INFO"})
    if settings.chroma_host:
        env.update({"CHROMA_HOST": settings.chroma_host, "CHROMA_PORT": str(settings.chroma_port)})
    env.update(extra)
    return env


def run_gcot(args: list[str], settings, *, cwd: Path, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GCOT), *args], cwd=cwd, env=env_for(settings, **extra), capture_output=True,
                          text=True, timeout=timeout, check=False)


# --- a serving AnswerService ------------------------------------------------------------------------


def wait_for_version(service, old: str, *, timeout: float = ANSWERABLE_WITHIN_S) -> str:
    """Wait until `service.ready()` reports a version other than `old`; returns it."""
    return wait_for(lambda: (v := service.ready()["index_version"]) != old and v, timeout=timeout,
                    what=f"the serving version to move on from {old}")
