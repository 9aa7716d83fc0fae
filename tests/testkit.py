"""Plain helpers shared by tests (importable as `testkit`: `conftest` is ambiguous across folders).

Importing this module also pins the offline, quiet environment, before anything loads the stack.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from gcot.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_ROOT / "corpus"
RESTRICTED_DIR = PROJECT_ROOT / "tests" / "fixtures" / "restricted"

# Offline and quiet, whatever the developer's shell says; set before anything imports the stack.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: everything under `data_dir`, embedded Chroma, no `.env`, no env overrides."""
    values: dict[str, object] = {"data_dir": data_dir, "chroma_host": None, "chroma_port": None}
    values.update(overrides)
    return Settings(_env_file=None, **values)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CHROMA = Path(sys.executable).with_name("chroma")


@dataclass
class ChromaServer:
    """A real `chroma run` on 127.0.0.1 (its log is shown when it fails to start)."""

    host: str
    port: int
    path: Path
    process: subprocess.Popen | None = None
    log: Path | None = None

    def start(self, timeout: float = 120) -> None:
        self.log = self.path.parent / f"chroma-{self.port}.log"
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"chroma run exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://{self.host}:{self.port}/api/v2/heartbeat", timeout=1) as response:
                    if response.status == 200 and any("heartbeat" in key for key in json.loads(response.read())):
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"chroma run did not answer its heartbeat within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def assert_chunk_offsets(document, chunks) -> None:
    """Each chunk's char_start/char_end slice its own text out of `document.text`, in order, and a
    paged section's chunk carries the page of its start (the passage and citation code relies on both)."""
    text = document.text
    for chunk in chunks:
        start, end = int(chunk.metadata["char_start"]), int(chunk.metadata["char_end"])
        assert text[start:end] == chunk.text, chunk.chunk_id
    starts = [int(c.metadata["char_start"]) for c in chunks]
    assert starts == sorted(starts)
    section_start = 0
    for section in document.sections:
        for chunk in chunks:
            offset = int(chunk.metadata["char_start"]) - section_start
            if section.page_starts and 0 <= offset < len(section.text):
                assert chunk.metadata["page"] == section.page_at(offset), chunk.chunk_id
        section_start += len(section.text) + 2  # sections are joined with a blank line
