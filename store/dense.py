"""Exact dense search: one visibility's vectors held in memory and searched with a matrix product.

Chroma's HNSW graph is approximate, and on a large collection of near-duplicate chunks (many
versions of one policy, or the benchmark's filler) its recall@10 against exact search falls to
~0.67 at 100k vectors even with a wide `ef_search`. A serving process that holds the vectors
instead scores every allowed chunk: at 384 dimensions that costs ~1.5 KiB of memory per chunk and
one pass over the matrix per query (a few milliseconds at 100k on two cores), and its recall is 1
by construction. `IndexReader.snapshot` uses it for each collection of at most
`Settings.dense_exact_max_chunks` chunks; larger ones stay on HNSW.

The vectors are read from Chroma (the truth) for the snapshot's version and cached under
`<data dir>/vectors/<store key>/<version>/`, like the lexical index, so a restart reads one file.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gcot.settings import Settings
from store.chroma import VectorStore, store_key

_READ_BATCH = 5000  # Chroma accepts at most 5,461 ids per get


class ExactVectors:
    """The vectors of one collection's chunks, searched exactly. Rows are unit length (cosine = dot)."""

    def __init__(self, ids: Sequence[str], matrix: np.ndarray) -> None:
        self.ids = list(ids)
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32).reshape(len(self.ids), -1)
        self._row = {chunk_id: i for i, chunk_id in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def read(cls, store: VectorStore, ids: Sequence[str]) -> ExactVectors:
        """The stored vectors of `ids` from `store` (ids it does not hold are left out)."""
        found: list[str] = []
        blocks: list[np.ndarray] = []
        ids = list(ids)
        for start in range(0, len(ids), _READ_BATCH):
            got, vectors = store.vectors(ids[start : start + _READ_BATCH])
            found.extend(got)
            if len(got):
                blocks.append(vectors)
        return cls(found, np.concatenate(blocks) if blocks else np.zeros((0, 0), dtype=np.float32))

    def search(self, vector: np.ndarray, *, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k most similar rows, best first."""
        if not self.ids or k <= 0:
            return []
        scores = self.matrix @ np.asarray(vector, dtype=np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top]

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of `vector` to the held rows of `ids` (ids not held are left out)."""
        rows = [(chunk_id, self._row[chunk_id]) for chunk_id in ids if chunk_id in self._row]
        if not rows:
            return {}
        scores = self.matrix[[i for _, i in rows]] @ np.asarray(vector, dtype=np.float32)
        return dict(zip([chunk_id for chunk_id, _ in rows], scores.tolist(), strict=True))

    # --- cache ---------------------------------------------------------------------------------------

    def save(self, folder: Path, name: str) -> None:
        """Write `name.npy` and `name.json` into `folder` (atomically per file: a reader sees old or new)."""
        folder.mkdir(parents=True, exist_ok=True)
        for suffix, write in ((".npy", lambda f: np.save(f, self.matrix)),
                              (".json", lambda f: f.write(json.dumps(self.ids).encode()))):
            staging = folder / f".{name}{suffix}.{os.getpid()}.tmp"
            with staging.open("wb") as handle:
                write(handle)
            os.replace(staging, folder / f"{name}{suffix}")

    @classmethod
    def load(cls, folder: Path, name: str) -> ExactVectors:
        """The cached `name` in `folder`. Raises FileNotFoundError when it is not (fully) cached."""
        ids_file, matrix_file = folder / f"{name}.json", folder / f"{name}.npy"
        if not (ids_file.is_file() and matrix_file.is_file()):
            msg = f"vectors {name!r} are not cached under {folder}"
            raise FileNotFoundError(msg)
        os.utime(folder)  # marks the version in use, so the cache's grace period restarts
        ids = json.loads(ids_file.read_text())
        matrix = np.load(matrix_file)
        if matrix.shape[0] != len(ids):
            shutil.rmtree(folder, ignore_errors=True)
            msg = f"cached vectors {name!r} under {folder} do not match their ids; they will be re-read from Chroma"
            raise FileNotFoundError(msg)
        return cls(ids, matrix)


def vectors_dir(settings: Settings, collection: str) -> Path:
    """Where the cached vector versions of one (Chroma location, index) pair live."""
    return settings.data_dir / "vectors" / store_key(settings, collection)
