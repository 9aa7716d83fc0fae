"""The light query path: the packaged MiniLM exported once to ONNX and run with ONNX Runtime.

No torch at run time: `tokenizers` reads the model folder's `tokenizer.json`, ONNX Runtime runs the
transformer, and mean pooling plus L2 normalisation are done in numpy exactly as sentence-transformers
does them (the fp32 export matches it to cosine 1.0000). The export is made from the installed
weights, offline, by `export()` (which needs torch and onnx) and cached under the data dir in a
folder named after the model files' fingerprint; serving processes call `ensure_exported()`, which
runs the export in a child process when the cache is empty so torch never loads into a server.

Variants:
    fp32: the exported graph as is.
    int8: dynamic quantisation of the MatMul weights, int8 per output channel (activations are
        quantised at run time); the embedding table stays fp32. Naive per-tensor quantisation of every
        op lost 0.06 mean cosine to fp32 here; this config keeps 0.995 (measured in evals/bench_encoder.py).

Main helpers:
    OnnxEmbedder: the Embedder interface (embed_query, embed_documents) over one export.
    ensure_exported: the cached export's path, exporting first when needed.
    supports_onnx: whether a model folder is one this module can export (BERT-like, mean pooling).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8")
EXPORT_VERSION = 1
"""Bumped whenever the export or quantisation recipe changes, so old caches are not reused."""
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_TIMEOUT_S = 600


def _max_seq_length(model_path: Path) -> int:
    config = model_path / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length") or 256)
    return 256


def supports_onnx(model_path: Path) -> bool:
    """True for a sentence-transformers folder this module reproduces: Transformer, mean Pooling, Normalize."""
    model_path = Path(model_path)
    modules_file = model_path / "modules.json"
    if not (modules_file.is_file() and (model_path / "tokenizer.json").is_file()):
        return False
    types = [module.get("type", "") for module in json.loads(modules_file.read_text())]
    if len(types) != 3 or not types[0].endswith("Transformer") or not types[2].endswith("Normalize"):
        return False
    pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text())
    return bool(pooling.get("pooling_mode_mean_tokens")) and not any(
        pooling.get(key) for key in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
    )


def fingerprint(model_path: Path) -> str:
    """Names, sizes and small files' contents of the model folder: changes when the weights change."""
    digest = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    for path in sorted(Path(model_path).rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            digest.update(f"{path.relative_to(model_path)}:{path.stat().st_size}".encode())
            if path.stat().st_size < 1_000_000:
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def export_dir(model_path: Path, cache_root: Path) -> Path:
    """`<cache_root>/<model name>-<fingerprint>/`: one folder per exact set of model files."""
    model_path = Path(model_path)
    name = model_path.name if model_path.name != "model" else model_path.parent.name
    return Path(cache_root) / f"{name}-{fingerprint(model_path)}"


def onnx_file(model_path: Path, cache_root: Path, variant: str) -> Path:
    if variant not in VARIANTS:
        msg = f"unknown ONNX variant {variant!r}; choose one of {', '.join(VARIANTS)}"
        raise ValueError(msg)
    return export_dir(model_path, cache_root) / f"{variant}.onnx"


def export(model_path: Path, cache_root: Path) -> dict[str, Path]:
    """Export the model to ONNX (fp32) and quantise it (int8); needs torch and onnx. Idempotent.

    Files are written under a temporary name and renamed, so a concurrent reader never sees half a file.
    A file lock makes concurrent exporters (replicas starting on a fresh data dir) take turns: the
    quantiser writes a scratch file with a fixed name beside its input, which a second exporter would
    delete under the first.
    """
    from filelock import FileLock

    model_path = Path(model_path)
    target = export_dir(model_path, cache_root)
    target.mkdir(parents=True, exist_ok=True)
    paths = {variant: target / f"{variant}.onnx" for variant in VARIANTS}
    with FileLock(target / ".export.lock", timeout=_EXPORT_TIMEOUT_S):
        if not paths["fp32"].is_file():
            _export_fp32(model_path, paths["fp32"])
        if not paths["int8"].is_file():
            _quantise_int8(paths["fp32"], paths["int8"])
    return paths


def _export_fp32(model_path: Path, path: Path) -> None:
    from encoder.embedder import offline_env

    offline_env()
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()

    class _Hidden(torch.nn.Module):
        """The transformer's last hidden state only; pooling happens outside the graph."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 - traced tensors
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = torch.ones(2, 16, dtype=torch.long)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with torch.no_grad():
        torch.onnx.export(
            _Hidden(model), (sample, sample, torch.zeros_like(sample)), str(tmp),
            input_names=list(_INPUTS), output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in [*_INPUTS, "last_hidden_state"]},
            opset_version=17, dynamo=False,
        )
    os.replace(tmp, path)


def _quantise_int8(source: Path, path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
    os.replace(tmp, path)


def ensure_exported(model_path: Path, cache_root: Path, variant: str) -> Path | None:
    """The cached export of `variant`, made first in a child process if missing; None if that failed.

    The child process keeps torch (needed only to export) out of the caller's memory.
    """
    path = onnx_file(model_path, cache_root, variant)
    if path.is_file():
        return path
    started = time.perf_counter()
    command = [sys.executable, "-m", "encoder.onnx", str(model_path), str(cache_root)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_EXPORT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("onnx export failed", extra={"error": type(exc).__name__})
        return None
    if done.returncode != 0 or not path.is_file():
        log.warning("onnx export failed", extra={"returncode": done.returncode, "stderr_tail": done.stderr[-500:]})
        return None
    log.info("onnx export made", extra={"path": str(path.parent), "seconds": round(time.perf_counter() - started, 1)})
    return path


class OnnxEmbedder:
    """Normalised mean-pooled embeddings from an ONNX export, with the model folder's own tokenizer.

    Args:
        model_path: the sentence-transformers folder the export was made from (tokenizer, window).
        onnx_path: the exported graph (see `ensure_exported`).
        batch_size: texts per run. Defaults to 32.
        threads: ONNX Runtime intra-op threads. Defaults to 1.
        variant: a label for reports ("fp32", "int8"). Defaults to the file's stem.
        query_cache_size: recent query texts whose vectors are kept (a question is embedded again by
            retries, follow-ups and evals' several systems). Defaults to 1024 (~1.5 MB); 0 turns it off.
    """

    backend = "onnx"

    def __init__(
        self, model_path: Path, onnx_path: Path, *, batch_size: int = 32, threads: int = 1, variant: str | None = None,
        query_cache_size: int = 1024,
    ) -> None:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime loads
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_path = Path(model_path)
        self.onnx_path = Path(onnx_path)
        self.batch_size = batch_size
        self.threads = threads
        self.variant = variant or self.onnx_path.stem
        self.tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        # tokenizer.json pads every text to 128 and truncates at 128; sentence-transformers pads to the
        # longest text of the batch and truncates at the model's window (256 here): do the same.
        self.tokenizer.enable_truncation(max_length=_max_seq_length(self.model_path))
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting on a shared CPU
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._dimension = int(self.session.get_outputs()[0].shape[-1])
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size
        self._queries_lock = threading.Lock()  # serving answers in worker threads

    @property
    def name(self) -> str:
        return self.model_path.name if self.model_path.name != "model" else self.model_path.parent.name

    @property
    def dimension(self) -> int:
        return self._dimension

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: Sequence[str], *, show_progress_bar: bool = False) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Longest first, so each batch pads little; results go back in the callers' order.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._encode([texts[i] for i in batch])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        with self._queries_lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached.copy()
        vector = self._encode([text])[0].astype(np.float32)
        if self._query_cache_size > 0:
            with self._queries_lock:
                self._queries[text] = vector.copy()
                while len(self._queries) > self._query_cache_size:
                    self._queries.popitem(last=False)
        return vector


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m encoder.onnx MODEL_DIR CACHE_ROOT`: make the exports (run by `ensure_exported`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m encoder.onnx MODEL_DIR CACHE_ROOT", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's quantiser logs advice on the root logger
    for variant, path in export(Path(args[0]), Path(args[1])).items():
        print(f"{variant}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
