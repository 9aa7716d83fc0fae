"""Answering tests: register the `slow` marker (tests that load a real LLM; they still run in CI)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: loads and runs a real local LLM (tens of seconds); runs in CI")
