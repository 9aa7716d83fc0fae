"""Plain helpers shared by tests (importable as `testkit`: `conftest` is ambiguous across folders).

Importing this module also pins the offline, quiet environment, before anything loads the stack.
"""

from __future__ import annotations

import os
from pathlib import Path

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
